"""The defects of issue #14 as a new user met them, each through the events the service consumes and the
API it had before the issue (so these tests ran, and failed, on the code before it): a peer programme's
text spoke of "you as the mentor", times were in UTC for a mentee in Berlin, a mentor's two proposals
read the same (nobody named), texts pointed to "the app", and an erased person's .eml file stayed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2

from services.notification.adapters import store
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.model import Contact, Notification
from services.notification.entrypoints.consumers import translators
from services.notification.service_layer.commands import DispatchDueEmails
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy, handler_map
from services.shared.db import Database
from services.shared.envelope import published_event
from services.shared.messagebus import MessageBus
from services.shared.timestamps import timestamp
from services.shared.topics import ENROLLMENT_EVENTS, MATCHING_EVENTS, SESSION_EVENTS

NOW = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
NAMES = {"E-1": "Grace Hopper", "E-2": "Alan Turing", "E-3": "Ada Lovelace"}


class Contacts:
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        return Contact(employee_id, NAMES[employee_id], f"{employee_id.lower()}@example.com")

    async def close(self) -> None:
        return None


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


def bus_of(database: Database, mailbox: MailboxDirectory, email_by_default: bool = False) -> MessageBus:
    email = EmailSending(Contacts(), mailbox, RetryPolicy())
    return MessageBus(database, handler_map(Policy(email_by_default=email_by_default), email))


async def consume(database: Database, bus: MessageBus, topic: str, data: Message, producer: str) -> None:
    handle = bus.event_handlers(translators()[topic])[type(data)]
    async with database.transaction() as session:
        await handle(session, published_event(producer, data, tenant="acme"))


async def inbox(database: Database, recipient: str) -> list[Notification]:
    async with database.transaction() as session:
        items, _ = await store.list_inbox(session, "acme", recipient, False, 10, None)
    return items


def match(match_id: str, mentee: str = "E-2") -> common_pb2.Match:
    return common_pb2.Match(
        match_id=match_id, program_id="prog-1", mentor_employee_id="E-1", mentee_employee_ids=[mentee]
    )


def program(program_format: common_pb2.ProgramFormat.ValueType) -> events_pb2.ProgramCreated:
    return events_pb2.ProgramCreated(
        program=common_pb2.Program(program_id="prog-1", name="Peers 2031", format=program_format)
    )


async def test_a_peer_programme_never_says_you_are_the_mentor(database: Database, tmp_path: Path) -> None:
    bus = bus_of(database, MailboxDirectory(tmp_path / "mail", "M <m@x.invalid>"))
    await consume(database, bus, ENROLLMENT_EVENTS, program(common_pb2.PROGRAM_FORMAT_PEER), "enrollment")
    await consume(database, bus, MATCHING_EVENTS, events_pb2.MatchProposed(match=match("m-1")), "matching")
    [item] = await inbox(database, "E-1")
    assert "as the mentor" not in item.body, item.body
    assert "peer" in (item.title + item.body).lower()


async def test_a_mentee_in_berlin_reads_berlin_time(database: Database, tmp_path: Path) -> None:
    bus = bus_of(database, MailboxDirectory(tmp_path / "mail", "M <m@x.invalid>"))
    enrolled = events_pb2.ParticipantEnrolled(
        participant=common_pb2.Participant(
            program_id="prog-1", employee_id="E-2", role=common_pb2.ROLE_MENTEE, timezone="Europe/Berlin"
        )
    )
    await consume(database, bus, ENROLLMENT_EVENTS, enrolled, "enrollment")
    await consume(database, bus, MATCHING_EVENTS, events_pb2.MatchActivated(match=match("m-1")), "matching")
    starts = timestamp(datetime(2031, 3, 3, 15, 0, tzinfo=UTC))
    session = events_pb2.Session(session_id="s-1", match_id="m-1", starts_at=starts, duration_minutes=45)
    await consume(database, bus, SESSION_EVENTS, events_pb2.SessionScheduled(session=session), "session")
    newest = (await inbox(database, "E-2"))[0]
    assert "16:00 CET" in newest.title + newest.body, newest.body


async def test_texts_point_to_no_app_that_does_not_exist(database: Database, tmp_path: Path) -> None:
    bus = bus_of(database, MailboxDirectory(tmp_path / "mail", "M <m@x.invalid>"))
    await consume(database, bus, MATCHING_EVENTS, events_pb2.MatchProposed(match=match("m-1")), "matching")
    await consume(database, bus, MATCHING_EVENTS, events_pb2.MatchActivated(match=match("m-1")), "matching")
    for item in await inbox(database, "E-1") + await inbox(database, "E-2"):
        assert "the app" not in item.body, item.body


async def test_a_mentor_s_two_proposals_name_the_two_mentees(database: Database, tmp_path: Path) -> None:
    mailbox = MailboxDirectory(tmp_path / "mail", "M <m@x.invalid>")
    bus = bus_of(database, mailbox, email_by_default=True)
    for match_id, mentee in (("m-1", "E-2"), ("m-2", "E-3")):
        proposed = events_pb2.MatchProposed(match=match(match_id, mentee))
        await consume(database, bus, MATCHING_EVENTS, proposed, "matching")
    await bus.execute(DispatchDueEmails(NOW))
    to_mentor = sorted(
        path.read_text()
        for path in (tmp_path / "mail").glob("*.eml")
        if "e-1@example.com" in path.read_text()
    )
    assert len(to_mentor) == 2
    assert any("Alan Turing" in text for text in to_mentor), to_mentor[0]
    assert any("Ada Lovelace" in text for text in to_mentor), to_mentor[0]


async def test_an_erased_person_s_mail_files_are_deleted(database: Database, tmp_path: Path) -> None:
    mailbox = MailboxDirectory(tmp_path / "mail", "M <m@x.invalid>")
    bus = bus_of(database, mailbox, email_by_default=True)
    await consume(database, bus, MATCHING_EVENTS, events_pb2.MatchProposed(match=match("m-1")), "matching")
    assert await bus.execute(DispatchDueEmails(NOW)) == 2
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
    await consume(
        database, bus, ENROLLMENT_EVENTS, events_pb2.EmployeeErased(employee_id="E-2"), "enrollment"
    )
    left = [path.read_text() for path in (tmp_path / "mail").glob("*.eml")]
    assert len(left) == 1, "the erased mentee's e-mail file is still on disk"
    assert "e-2@example.com" not in left[0]
