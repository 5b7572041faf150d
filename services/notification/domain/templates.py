"""Notification templates: a title, a body and a link per template, audience, programme format and
reader (language, timezone, the names of the others).

Texts are built only from :class:`Facts`, which hold no person's name, e-mail or id and no free text
written by someone (reasons arrive as free text upstream, so only codes the platform defines are used),
and from the :class:`Reader`. In-app texts are rendered when the event arrives with a reader that names
nobody, so what is stored can go into logs without leaking personal data; e-mails are rendered at send
time with the names the directory returns then (never stored). The wording is in ``texts.py``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notification.domain import texts


class Template(enum.StrEnum):
    ENROLLED = "enrolled"
    MATCH_PROPOSED = "match_proposed"
    MATCH_ACCEPTED = "match_accepted"
    MATCH_DECLINED = "match_declined"
    MATCH_ACTIVATED = "match_activated"
    MATCH_ENDED = "match_ended"
    SESSION_SCHEDULED = "session_scheduled"
    SESSION_MOVED = "session_moved"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_REMINDER = "session_reminder"


class Audience(enum.StrEnum):
    """Whom a text addresses: the same event reads differently to the mentor and to a mentee."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class ProgramFormat(enum.StrEnum):
    """The programme's format, which decides how the people are named to each other."""

    ONE_ON_ONE = "one_on_one"
    GROUP = "group"
    PEER = "peer"
    REVERSE = "reverse"
    SPEED = "speed"


DEFAULT_PROGRAM_NAME: Final = texts.text(texts.ENGLISH, "program.default")
# The session service's code for sessions cancelled because their match ended.
MATCH_ENDED_CANCELLATION: Final = "match_ended"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a text may mention. ``by`` is the role of whoever acted (accepted, declined, ended). The ids
    are of the programme, match and session the text links to (opaque, never a person's)."""

    program_name: str = ""
    role: Audience | None = None
    by: Audience | None = None
    starts_at: datetime | None = None
    duration_minutes: int = 0
    respond_by: datetime | None = None
    rematch_offered: bool = False
    cancellation_code: str = ""
    program_format: ProgramFormat | None = None
    program_id: str = ""
    match_id: str = ""
    session_id: str = ""
    reminder_hours: int = 0  # a reminder: how long before the session


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads the text: their language, their IANA timezone, and the names of the other people the
    text is about (known at send time only: in-app texts, stored, name nobody)."""

    language: str = texts.ENGLISH
    zone: str = "UTC"
    others: tuple[str, ...] = ()
    calendar_attached: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    path: str  # under the web app's base URL


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str
    action: Action | None = None


def zone_of(name: str) -> tzinfo:
    try:
        return ZoneInfo(name.strip()) if name.strip() else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _when(language: str, zone: tzinfo, moment: datetime | None) -> str:
    if moment is None:
        return texts.text(language, "when.unknown")
    return texts.written_date(language, moment.astimezone(zone))


def _role_key(audience: Audience, facts: Facts, count: int) -> str:
    """What the other people are to the reader: mentor, mentee(s) or peer."""
    if facts.program_format is ProgramFormat.PEER:
        return "peer"
    if audience is Audience.MENTOR:
        return "mentees" if count > 1 else "mentee"
    return "mentor"


def _other(language: str, use: str, role_key: str, reader: Reader) -> str:
    """The other people's names, or (unknown) a stand-in that fits where it is used in the sentence."""
    if reader.others:
        return texts.names(language, reader.others)
    return texts.text(language, f"anon.{use}.{role_key}")


def render(template: Template, audience: Audience, facts: Facts, reader: Reader | None = None) -> Rendered:
    reader = reader or Reader()
    language = texts.language_of(reader.language)
    zone = zone_of(reader.zone)

    def say(key: str, **values: object) -> str:
        return texts.text(language, key, **values)

    program = facts.program_name or say("program.default")
    role_key = _role_key(audience, facts, len(reader.others))
    role = say(f"role.{role_key}")
    other = _other(language, "with", role_key, reader)
    when = _when(language, zone, facts.starts_at)
    length = say("length", minutes=facts.duration_minutes) if facts.duration_minutes > 0 else ""
    note = ""
    if facts.program_format in (ProgramFormat.REVERSE, ProgramFormat.SPEED):
        note = " " + say(f"note.{facts.program_format.value}")
    match_link = f"/matches/{facts.match_id}" if facts.match_id else "/matches"
    session_link = f"/sessions/{facts.session_id}" if facts.session_id else "/sessions"
    if template is Template.ENROLLED:
        body = (
            say("enrolled.body.role", role=_enrolled_role(language, facts), program=program)
            if facts.role is not None
            else say("enrolled.body", program=program)
        )
        path = f"/programs/{facts.program_id}" if facts.program_id else "/programs"
        return Rendered(say("enrolled.title", program=program), body, Action(say("enrolled.action"), path))
    if template is Template.MATCH_PROPOSED:
        deadline = say("deadline", when=_when(language, zone, facts.respond_by)) if facts.respond_by else ""
        if facts.program_format is ProgramFormat.PEER:
            variant = "peer"
        elif audience is Audience.MENTOR:
            variant = "group" if len(reader.others) > 1 else "mentor"
        else:
            variant = "mentee"
        someone = _other(language, "proposed", role_key, reader)
        if reader.others:
            title = say("proposed.title.named", role=role, other=someone)
        else:
            title = say("proposed.title", role=role)
        values = {"program": program, "other": someone, "deadline": deadline, "count": len(reader.others)}
        body = say(f"proposed.body.{variant}", **values)
        return Rendered(title, body + note, Action(say("proposed.action"), match_link))
    if template is Template.MATCH_ACCEPTED:
        subject = _other(language, "subject", role_key, reader)
        who = subject[:1].upper() + subject[1:]
        return Rendered(
            say("accepted.title"),
            say("accepted.body", other=who, program=program),
            Action(say("accepted.action"), match_link),
        )
    if template is Template.MATCH_DECLINED:
        return Rendered(say("declined.title"), say("declined.body", program=program))
    if template is Template.MATCH_ACTIVATED:
        return Rendered(
            say("activated.title"),
            say("activated.body", other=other, program=program) + note,
            Action(say("activated.action"), match_link),
        )
    if template is Template.MATCH_ENDED:
        body = say("ended.body", other=other, program=program)
        if facts.rematch_offered and audience is Audience.MENTEE:
            body += " " + say("ended.rematch")
        return Rendered(say("ended.title"), body)
    calendar = " " + say("session.calendar") if reader.calendar_attached else ""
    action = Action(say("session.action"), session_link)
    if template is Template.SESSION_SCHEDULED:
        body = say("scheduled.body", length=length, other=other, when=when)
        return Rendered(say("scheduled.title", when=when), body + calendar, action)
    if template is Template.SESSION_REMINDER:
        lead = (
            say("lead.hours", hours=facts.reminder_hours) if facts.reminder_hours != 1 else say("lead.hour")
        )
        body = say("reminder.body", length=length, other=other, when=when)
        return Rendered(say("reminder.title", lead=lead), body, action)
    if template is Template.SESSION_MOVED:
        body = say("moved.body", length=length, other=other, when=when)
        return Rendered(say("moved.title", when=when), body + calendar, action)
    ended = facts.cancellation_code == MATCH_ENDED_CANCELLATION
    body = say("cancelled.body.ended" if ended else "cancelled.body", other=other, when=when)
    return Rendered(say("cancelled.title"), body + calendar, action)


def _enrolled_role(language: str, facts: Facts) -> str:
    if facts.program_format is ProgramFormat.PEER:
        return texts.text(language, "role.peer")
    return texts.text(language, f"role.{(facts.role or Audience.MENTEE).value}")
