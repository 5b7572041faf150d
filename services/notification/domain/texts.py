"""The notification texts in each language, and dates written the way each language writes them.

A catalogue maps a key to a ``str.format`` text. Placeholders: ``program``, ``other`` (the other
person's or people's names, or a word that stands in for them), ``role`` (what the other person is to
the reader: mentor, mentee, peer), ``when``, ``length``, ``deadline``, ``count``. A key missing from a
language falls back to English, and a language without a catalogue is English.

Month and weekday names are written out here rather than taken from a locale library (Babel is not a
dependency of the platform and two languages do not need one); times are the reader's wall clock with
the zone's abbreviation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

ENGLISH: Final = "en"
GERMAN: Final = "de"

_EN: Final = {
    # Stand-ins for the other people when their names are not known (in-app texts), by grammatical use.
    "anon.proposed.mentor": "a colleague",
    "anon.proposed.mentee": "a colleague",
    "anon.proposed.mentees": "colleagues",
    "anon.proposed.peer": "a colleague",
    "anon.subject.mentor": "your mentor",
    "anon.subject.mentee": "your mentee",
    "anon.subject.mentees": "your mentees",
    "anon.subject.peer": "your peer",
    "anon.with.mentor": "your mentor",
    "anon.with.mentee": "your mentee",
    "anon.with.mentees": "your mentees",
    "anon.with.peer": "your peer",
    "and": "and",
    "role.mentor": "mentor",
    "role.mentee": "mentee",
    "role.mentees": "mentees",
    "role.peer": "peer",
    "program.default": "your mentoring programme",
    "when.unknown": "the planned time",
    "deadline": " by {when}",
    "length": "{minutes}-minute ",
    "note.reverse": "This is reverse mentoring: the mentor is usually the more junior colleague.",
    "note.speed": "This is speed mentoring: you meet in short rounds.",
    "enrolled.title": "You are enrolled in {program}",
    "enrolled.body": "Your enrolment in {program} is confirmed. "
    "We will let you know when a match is proposed.",
    "enrolled.body.role": "Your enrolment as a {role} in {program} is confirmed. "
    "We will let you know when a match is proposed.",
    "enrolled.action": "Open the programme",
    "proposed.title": "A {role} has been proposed to you",
    "proposed.title.named": "Proposed {role}: {other}",
    "proposed.body.mentor": "In {program}, {other} has been proposed to you as a mentee, with you as the "
    "mentor. Please accept or decline the match{deadline}.",
    "proposed.body.group": "In {program}, a group of {count} mentees has been proposed to you, with you as "
    "the mentor: {other}. Please accept or decline the match{deadline}.",
    "proposed.body.mentee": "In {program}, {other} has been proposed to you as your mentor. "
    "Please accept or decline the match{deadline}.",
    "proposed.body.peer": "In {program}, {other} has been proposed to you as a mentoring peer: you learn "
    "from each other. Please accept or decline the match{deadline}.",
    "proposed.action": "Accept or decline",
    "accepted.title": "Your match was accepted",
    "accepted.body": "{other} accepted the proposed match in {program}. It starts once everyone has "
    "accepted.",
    "accepted.action": "Open the match",
    "declined.title": "A proposed match was declined",
    "declined.body": "The proposed match in {program} was declined. You remain in the programme and will "
    "be considered for another match.",
    "activated.title": "Your mentoring relationship has started",
    "activated.body": "Everyone accepted: your match with {other} in {program} is active. Plan your first "
    "session together.",
    "activated.action": "Plan a session",
    "ended.title": "Your mentoring relationship has ended",
    "ended.body": "Your match with {other} in {program} has ended. Thank you for taking part.",
    "ended.rematch": "A new match will be offered to you.",
    "scheduled.title": "Mentoring session on {when}",
    "scheduled.body": "A {length}mentoring session with {other} is scheduled for {when}.",
    "moved.title": "Mentoring session moved to {when}",
    "moved.body": "Your {length}mentoring session with {other} has moved to {when}.",
    "cancelled.title": "Mentoring session cancelled",
    "cancelled.body": "The mentoring session with {other} planned for {when} has been cancelled.",
    "cancelled.body.ended": "The mentoring session with {other} planned for {when} has been cancelled "
    "because the mentoring relationship has ended.",
    "session.calendar": "The invitation is attached: your calendar adds or updates it.",
    "session.action": "Open the session",
    "reminder.title": "Reminder: mentoring session in {lead}",
    "reminder.body": "Your {length}mentoring session with {other} starts on {when}.",
    "lead.hours": "{hours} hours",
    "lead.hour": "1 hour",
    "calendar.summary": "Mentoring session",
    "greeting": "Hello {name},",
    "greeting.anonymous": "Hello,",
    "footer": "You can choose which messages you receive, and where, in your notification settings.",
    "settings": "Notification settings",
    "unsubscribe": "Unsubscribe from these messages",
    "weekdays": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "months": "January February March April May June July August September October November December",
    "date": "{weekday} {day} {month} {year}, {time} {zone}",
}

_DE: Final = {
    "anon.proposed.mentor": "jemand",
    "anon.proposed.mentee": "jemand",
    "anon.proposed.mentees": "mehrere Personen",
    "anon.proposed.peer": "jemand",
    "anon.subject.mentor": "Ihr Mentor",
    "anon.subject.mentee": "Ihr Mentee",
    "anon.subject.mentees": "Ihre Mentees",
    "anon.subject.peer": "Ihr Peer",
    "anon.with.mentor": "Ihrem Mentor",
    "anon.with.mentee": "Ihrem Mentee",
    "anon.with.mentees": "Ihren Mentees",
    "anon.with.peer": "Ihrem Peer",
    "and": "und",
    "role.mentor": "Mentor",
    "role.mentee": "Mentee",
    "role.mentees": "Mentees",
    "role.peer": "Peer",
    "program.default": "Ihr Mentoring-Programm",
    "when.unknown": "den geplanten Zeitpunkt",
    "deadline": " bis {when}",
    "length": "{minutes}-minütige ",
    "note.reverse": "Dies ist Reverse Mentoring: Meist ist die jüngere Person der Mentor.",
    "note.speed": "Dies ist Speed-Mentoring: Sie treffen sich in kurzen Runden.",
    "enrolled.title": "Sie sind für {program} angemeldet",
    "enrolled.body": "Ihre Anmeldung für {program} ist bestätigt. Wir melden uns, sobald ein Match "
    "vorgeschlagen wird.",
    "enrolled.body.role": "Ihre Anmeldung als {role} für {program} ist bestätigt. Wir melden uns, sobald "
    "ein Match vorgeschlagen wird.",
    "enrolled.action": "Programm öffnen",
    "proposed.title": "Ihnen wurde ein Match vorgeschlagen ({role})",
    "proposed.title.named": "Vorgeschlagen als {role}: {other}",
    "proposed.body.mentor": "In {program} wurde Ihnen {other} als Mentee vorgeschlagen, mit Ihnen als "
    "Mentor. Bitte nehmen Sie das Match{deadline} an oder lehnen Sie es ab.",
    "proposed.body.group": "In {program} wurde Ihnen eine Gruppe von {count} Mentees vorgeschlagen, mit "
    "Ihnen als Mentor: {other}. Bitte nehmen Sie das Match{deadline} an oder lehnen Sie es ab.",
    "proposed.body.mentee": "In {program} wurde Ihnen {other} als Mentor vorgeschlagen. Bitte nehmen Sie "
    "das Match{deadline} an oder lehnen Sie es ab.",
    "proposed.body.peer": "In {program} wurde Ihnen {other} als Peer vorgeschlagen: Sie lernen voneinander. "
    "Bitte nehmen Sie das Match{deadline} an oder lehnen Sie es ab.",
    "proposed.action": "Annehmen oder ablehnen",
    "accepted.title": "Ihr Match wurde angenommen",
    "accepted.body": "{other} hat das vorgeschlagene Match in {program} angenommen. Es beginnt, sobald "
    "alle angenommen haben.",
    "accepted.action": "Match öffnen",
    "declined.title": "Ein vorgeschlagenes Match wurde abgelehnt",
    "declined.body": "Das vorgeschlagene Match in {program} wurde abgelehnt. Sie bleiben im Programm und "
    "werden für ein anderes Match berücksichtigt.",
    "activated.title": "Ihre Mentoring-Beziehung hat begonnen",
    "activated.body": "Alle haben angenommen: Ihr Match mit {other} in {program} ist aktiv. Planen Sie "
    "Ihre erste gemeinsame Sitzung.",
    "activated.action": "Sitzung planen",
    "ended.title": "Ihre Mentoring-Beziehung ist beendet",
    "ended.body": "Ihr Match mit {other} in {program} ist beendet. Danke, dass Sie teilgenommen haben.",
    "ended.rematch": "Ihnen wird ein neues Match angeboten.",
    "scheduled.title": "Mentoring-Sitzung am {when}",
    "scheduled.body": "Eine {length}Mentoring-Sitzung mit {other} ist für {when} geplant.",
    "moved.title": "Mentoring-Sitzung verschoben auf {when}",
    "moved.body": "Ihre {length}Mentoring-Sitzung mit {other} wurde auf {when} verschoben.",
    "cancelled.title": "Mentoring-Sitzung abgesagt",
    "cancelled.body": "Die für {when} geplante Mentoring-Sitzung mit {other} wurde abgesagt.",
    "cancelled.body.ended": "Die für {when} geplante Mentoring-Sitzung mit {other} wurde abgesagt, weil "
    "die Mentoring-Beziehung beendet ist.",
    "session.calendar": "Die Einladung ist angehängt: Ihr Kalender übernimmt oder aktualisiert sie.",
    "session.action": "Sitzung öffnen",
    "reminder.title": "Erinnerung: Mentoring-Sitzung in {lead}",
    "reminder.body": "Ihre {length}Mentoring-Sitzung mit {other} beginnt am {when}.",
    "lead.hours": "{hours} Stunden",
    "lead.hour": "1 Stunde",
    "calendar.summary": "Mentoring-Sitzung",
    "greeting": "Hallo {name},",
    "greeting.anonymous": "Hallo,",
    "footer": "In Ihren Benachrichtigungseinstellungen wählen Sie, welche Nachrichten Sie wo erhalten.",
    "settings": "Benachrichtigungseinstellungen",
    "unsubscribe": "Diese Nachrichten abbestellen",
    "weekdays": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
    "months": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "date": "{weekday}, {day}. {month} {year}, {time} Uhr {zone}",
}

CATALOGUES: Final = {ENGLISH: _EN, GERMAN: _DE}
LANGUAGES: Final = frozenset(CATALOGUES)


def language_of(wanted: str) -> str:
    """The language a text is written in: the wanted one if there is a catalogue, else English."""
    code = wanted.strip().lower().replace("_", "-").split("-")[0]
    return code if code in CATALOGUES else ENGLISH


def text(language: str, key: str, **values: object) -> str:
    template = CATALOGUES.get(language, _EN).get(key) or _EN[key]
    return template.format(**values) if values else template


def written_date(language: str, moment: datetime) -> str:
    """A moment (already in the reader's zone) as the language writes it."""
    weekdays = text(language, "weekdays").split()
    months = text(language, "months").split()
    return text(
        language,
        "date",
        weekday=weekdays[moment.weekday()],
        day=moment.day,
        month=months[moment.month - 1],
        year=moment.year,
        time=moment.strftime("%H:%M"),
        zone=moment.tzname() or "UTC",
    )


def names(language: str, people: tuple[str, ...]) -> str:
    """ "Ada", "Ada and Alan", "Ada, Alan and Grace"."""
    if len(people) <= 1:
        return "".join(people)
    return f"{', '.join(people[:-1])} {text(language, 'and')} {people[-1]}"
