"""Session e-mails carry iTIP invitations: sent over SMTP to a real in-process server (aiosmtpd), the
``text/calendar`` part read back by an independent parser (the icalendar library) is a REQUEST with
both people as attendees; a moved session is a REQUEST with a higher SEQUENCE; a cancelled one a
CANCEL of the same UID with a higher SEQUENCE still."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from services.notification.adapters.smtp import SmtpChannel, SmtpServer
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.email import Links
from services.notification.domain.model import Contact
from services.notification.domain.templates import Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import DispatchDueEmails, NotifySessionEvent
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.db import Database
from services.shared.messagebus import MessageBus
from tests.unit.notification.mail_server import Received, mail_server

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
STARTS = datetime(2030, 2, 3, 15, 0, tzinfo=UTC)
PEOPLE = {"E-1": ("Grace Hopper", "grace@example.com"), "E-2": ("Alan Turing", "alan@example.com")}
SENDER = "Mentoring <noreply@mentoring.example.com>"


class Contacts:
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        name, address = PEOPLE[employee_id]
        return Contact(employee_id, name, address)

    async def close(self) -> None:
        return None


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.remember_match(uow, "acme", "m-1", "prog-1", "E-1", ["E-2"])
    yield db
    await db.dispose()


def bus(db: Database, port: int) -> MessageBus:
    channel = SmtpChannel(SmtpServer("127.0.0.1", port, "none", timeout_seconds=2), SENDER)
    email = EmailSending(
        Contacts(), channel, RetryPolicy(), links=Links("https://m.example", b"k"), sender=SENDER
    )
    return MessageBus(db, handlers.handler_map(Policy(email_by_default=True), email))


def session_event(
    event_id: str, template: Template, starts: datetime, minutes: int = 45
) -> NotifySessionEvent:
    facts = Facts(starts_at=starts, duration_minutes=minutes)
    return NotifySessionEvent(
        event_id, template, "m-1", facts, "acme", session_id="s-1", meeting_link="https://meet.example/s-1"
    )


def calendar_of(received: Received) -> icalendar.Calendar:
    [part] = [part for part in received.message.walk() if part.get_content_type() == "text/calendar"]
    assert part.get_param("method") in {"REQUEST", "CANCEL"}
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert calendar["METHOD"] == part.get_param("method"), "the part's method is the calendar's"
    return calendar


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.walk("VEVENT")
    return event


async def sent(server_received: list[Received], count: int) -> list[Received]:
    assert len(server_received) == count
    return sorted(server_received[-2:], key=lambda item: item.rcpt_tos[0])


async def test_scheduled_moved_cancelled_become_request_request_cancel(database: Database) -> None:
    async with mail_server() as server:
        sender = bus(database, server.port)
        await sender.execute(session_event("ev-1", Template.SESSION_SCHEDULED, STARTS))
        assert await sender.execute(DispatchDueEmails(NOW)) == 2
        invited = await sent(server.recorder.received, 2)
        await sender.execute(session_event("ev-2", Template.SESSION_SCHEDULED, STARTS + timedelta(hours=2)))
        assert await sender.execute(DispatchDueEmails(NOW)) == 2
        moved = await sent(server.recorder.received, 4)
        await sender.execute(session_event("ev-3", Template.SESSION_CANCELLED, STARTS + timedelta(hours=2)))
        assert await sender.execute(DispatchDueEmails(NOW)) == 2
        cancelled = await sent(server.recorder.received, 6)

    for received in invited:
        calendar = calendar_of(received)
        event = event_of(calendar)
        assert calendar["METHOD"] == "REQUEST"
        assert str(event["UID"]) == "s-1@session.mentoring.invalid"
        assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
        assert event.decoded("DTSTART") == STARTS and event.decoded("DTEND") == STARTS + timedelta(minutes=45)
        assert str(event["ORGANIZER"]) == "mailto:noreply@mentoring.example.com"
        attendees = {str(attendee): attendee.params["CN"] for attendee in event["ATTENDEE"]}
        assert attendees == {
            "mailto:grace@example.com": "Grace Hopper",
            "mailto:alan@example.com": "Alan Turing",
        }
        assert str(event["URL"]) == "https://meet.example/s-1"
        [alarm] = event.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY" and alarm.decoded("TRIGGER") == -timedelta(minutes=15)
        assert received.message["Subject"] == "Mentoring session on Sunday 3 February 2030, 15:00 UTC"

    for received in moved:
        event = event_of(calendar_of(received))
        assert calendar_of(received)["METHOD"] == "REQUEST"
        assert event["SEQUENCE"] == 1 and event.decoded("DTSTART") == STARTS + timedelta(hours=2)
        assert received.message["Subject"] == "Mentoring session moved to Sunday 3 February 2030, 17:00 UTC"

    for received in cancelled:
        calendar = calendar_of(received)
        event = event_of(calendar)
        assert calendar["METHOD"] == "CANCEL"
        assert str(event["UID"]) == "s-1@session.mentoring.invalid"
        assert event["SEQUENCE"] == 2 and event["STATUS"] == "CANCELLED"
        assert len(event["ATTENDEE"]) == 2 and not event.walk("VALARM")
        assert received.message["Subject"] == "Mentoring session cancelled"


async def test_other_emails_carry_no_calendar(database: Database) -> None:
    async with mail_server() as server:
        sender = bus(database, server.port)
        await sender.execute(
            NotifySessionEvent("ev-1", Template.SESSION_SCHEDULED, "m-1", Facts(starts_at=STARTS), "acme")
        )
        assert await sender.execute(DispatchDueEmails(NOW)) == 2
    for received in server.recorder.received:
        types = [part.get_content_type() for part in received.message.walk()]
        assert "text/calendar" not in types, "an event naming no session invites to nothing"
