"""iCalendar (RFC 5545) export of sessions, rendered with the ``icalendar`` library.

One VEVENT per session: a UID stable across exports (so a client updates rather than duplicates), DTSTART
and DTEND in UTC, SEQUENCE from the session's revision, STATUS CONFIRMED or CANCELLED (a client removes
a cancelled event it holds). The SUMMARY names no person: the export may be shared or synced to calendars
that others can see.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

import icalendar

from services.session.domain.model import Session, SessionStatus, require_aware

PRODUCT_ID: Final = "-//Mentoring Platform//Session Service//EN"
UID_DOMAIN: Final = "session.mentoring.invalid"
SUMMARY: Final = "Mentoring session"
CANCELLED_SUMMARY: Final = "Mentoring session (cancelled)"

_STATUS: Final = {
    SessionStatus.SCHEDULED: "CONFIRMED",
    SessionStatus.COMPLETED: "CONFIRMED",
    SessionStatus.CANCELLED: "CANCELLED",
}


def session_uid(session_id: str) -> str:
    return f"{session_id}@{UID_DOMAIN}"


def render_icalendar(sessions: Iterable[Session], stamp: datetime, name: str = "Mentoring sessions") -> str:
    """A VCALENDAR with one VEVENT per session, in start order; ``stamp`` is the DTSTAMP (export time)."""
    stamp = require_aware(stamp, "stamp")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for session in sorted(sessions, key=lambda item: (item.starts_at, item.session_id)):
        event = icalendar.Event()
        event.add("uid", session_uid(session.session_id))
        event.add("dtstamp", stamp)
        event.add("dtstart", require_aware(session.starts_at, "starts_at"))
        event.add("dtend", require_aware(session.ends_at, "ends_at"))
        event.add("sequence", session.revision)
        event.add("status", _STATUS[session.status])
        event.add("summary", CANCELLED_SUMMARY if session.status is SessionStatus.CANCELLED else SUMMARY)
        if session.agenda:
            event.add("description", session.agenda)
        calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content.decode("utf-8")
