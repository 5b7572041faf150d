"""Session invitations and cancellations as iTIP messages (RFC 5546) over iCalendar (RFC 5545), rendered
with the ``icalendar`` library, for the ``text/calendar`` part of the session e-mails.

One VEVENT per session, with the UID the session service's calendar export gives it (a calendar that
subscribed to the export and one that got the invitation hold the same event). The service counts the
SEQUENCE itself: 0 for the first invitation, one more each time the session moves or is cancelled, so
a calendar applies a later message over an earlier one and never the reverse. ORGANIZER is the
platform's sender address (the platform sends the invitation); ATTENDEEs are the session's people with
their names and addresses, looked up at send time. A VALARM reminds before the start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

import icalendar

PRODUCT_ID: Final = "-//Mentoring Platform//Notification Service//EN"
UID_DOMAIN: Final = "session.mentoring.invalid"  # the session service's export uses the same
REMINDER: Final = timedelta(minutes=15)
REQUEST: Final = "REQUEST"
CANCEL: Final = "CANCEL"


@dataclass(frozen=True, slots=True)
class CalendarPart:
    """An iTIP message sent along an e-mail: ``method`` REQUEST or CANCEL, ``ics`` the VCALENDAR."""

    method: str
    ics: str


@dataclass(frozen=True, slots=True)
class SessionCalendar:
    """What the calendar holds of one session, as the notification service last heard of it."""

    session_id: str
    starts_at: datetime
    duration_minutes: int
    sequence: int = 0
    cancelled: bool = False
    location: str = ""
    meeting_link: str = ""

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=max(self.duration_minutes, 0))

    def scheduled(
        self, starts_at: datetime, duration_minutes: int, location: str, link: str
    ) -> SessionCalendar:
        """This session as a new SessionScheduled says it is: moved (SEQUENCE + 1) if its time changed
        or it had been cancelled, the same sequence for a repeat of what is known."""
        moved = (starts_at, duration_minutes) != (self.starts_at, self.duration_minutes) or self.cancelled
        return replace(
            self,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            sequence=self.sequence + 1 if moved else self.sequence,
            cancelled=False,
            location=location,
            meeting_link=link,
        )

    def cancel(self) -> SessionCalendar:
        return self if self.cancelled else replace(self, sequence=self.sequence + 1, cancelled=True)


@dataclass(frozen=True, slots=True)
class CalendarPerson:
    name: str
    address: str


def session_uid(session_id: str) -> str:
    return f"{session_id}@{UID_DOMAIN}"


def _person(person: CalendarPerson, attendee: bool) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.address}")
    if person.name:
        address.params["CN"] = icalendar.vText(person.name)
    if attendee:
        address.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION")
        address.params["RSVP"] = icalendar.vText("FALSE")
    return address


def itip_message(
    session: SessionCalendar,
    organizer: CalendarPerson,
    attendees: tuple[CalendarPerson, ...],
    summary: str,
    stamp: datetime,
) -> CalendarPart:
    """The REQUEST (or, for a cancelled session, the CANCEL) for the session's attendees."""
    method = CANCEL if session.cancelled else REQUEST
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", session_uid(session.session_id))
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("sequence", session.sequence)
    event.add("status", "CANCELLED" if session.cancelled else "CONFIRMED")
    event.add("summary", summary)
    if session.location:
        event.add("location", session.location)
    if session.meeting_link:
        event.add("url", session.meeting_link)
    event.add("organizer", _person(organizer, attendee=False))
    for attendee in attendees:
        event.add("attendee", _person(attendee, attendee=True), encode=False)
    if not session.cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -REMINDER)
        event.add_component(alarm)
    calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return CalendarPart(method, content.decode("utf-8"))
