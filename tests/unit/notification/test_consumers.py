"""The consumers only translate: each event becomes one command; the handlers, run through the message
bus as the consumer pipeline runs them, decide who is told what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2
from prometheus_client import REGISTRY

from services.notification.adapters import store
from services.notification.adapters.contacts import NoContactDirectory
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.templates import MATCH_ENDED_CANCELLATION, Audience, Facts, Template
from services.notification.entrypoints.consumers import translators
from services.notification.service_layer.commands import NotifyMatchEvent, NotifySessionEvent
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy, handler_map
from services.shared.db import Database
from services.shared.envelope import CloudEvent, published_event
from services.shared.messagebus import MessageBus
from services.shared.timestamps import timestamp
from services.shared.topics import (
    ENROLLMENT_EVENTS,
    MATCHING_EVENTS,
    SESSION_EVENTS,
    ce_type_of,
    check_consumer,
)

STARTS = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
MATCH = common_pb2.Match(
    match_id="m-1", program_id="prog-1", mentor_employee_id="E-1", mentee_employee_ids=["E-2"]
)


def translated(topic: str, event: CloudEvent) -> object:
    message = type(event.message())
    return translators()[topic][message](event)


def cancelled(
    reason: str, cause: common_pb2.CancellationCause.ValueType = common_pb2.CANCELLATION_CAUSE_REQUESTED
) -> CloudEvent:
    session = events_pb2.Session(session_id="s-1", match_id="m-1", starts_at=timestamp(STARTS))
    message = events_pb2.SessionCancelled(session=session, reason=reason, cause=cause)
    return published_event("session", message)


def test_the_registry_lists_every_event_consumed() -> None:
    for topic, by_message in translators().items():
        check_consumer("notification", topic, [ce_type_of(message) for message in by_message])


def test_a_match_event_becomes_a_command_with_the_acting_side() -> None:
    event = published_event(
        "matching",
        events_pb2.MatchEnded(match=MATCH, by=common_pb2.ROLE_MENTEE, rematch_offered=True),
        tenant="acme",
    )
    assert translated(MATCHING_EVENTS, event) == NotifyMatchEvent(
        event.id,
        Template.MATCH_ENDED,
        "m-1",
        "prog-1",
        "E-1",
        ("E-2",),
        Audience.MENTEE,
        Facts(rematch_offered=True),
        "acme",
    )


def test_only_the_platforms_cancellation_code_is_passed_on() -> None:
    for reason, cause, code in (
        (MATCH_ENDED_CANCELLATION, common_pb2.CANCELLATION_CAUSE_MATCH_ENDED, MATCH_ENDED_CANCELLATION),
        ("I am ill", common_pb2.CANCELLATION_CAUSE_REQUESTED, ""),
        # The cause decides, never the text: a member who types the code is still a member cancelling.
        (MATCH_ENDED_CANCELLATION, common_pb2.CANCELLATION_CAUSE_REQUESTED, ""),
    ):
        event = cancelled(reason, cause)
        assert translated(SESSION_EVENTS, event) == NotifySessionEvent(
            event.id,
            Template.SESSION_CANCELLED,
            "m-1",
            Facts(starts_at=STARTS, cancellation_code=code),
            session_id="s-1",
        )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


def bus_of(database: Database, mailbox: Path) -> MessageBus:
    email = EmailSending(NoContactDirectory(), MailboxDirectory(mailbox, "M <m@x.invalid>"), RetryPolicy())
    return MessageBus(database, handler_map(Policy(email_by_default=False), email))


async def consume(database: Database, bus: MessageBus, topic: str, data: Message, producer: str) -> None:
    """One event as the consumer pipeline applies it: in the batch's unit of work."""
    handle = bus.event_handlers(translators()[topic])[type(data)]
    async with database.transaction() as session:
        await handle(session, published_event(producer, data, tenant="acme"))


async def inbox_of(database: Database, recipient: str) -> list[str]:
    async with database.transaction() as session:
        items, _ = await store.list_inbox(session, "acme", recipient, False, 10, None)
    return [item.template.value for item in items]


async def test_an_acceptance_is_news_to_the_other_side_only(database: Database, tmp_path: Path) -> None:
    bus = bus_of(database, tmp_path / "mail")
    await consume(database, bus, MATCHING_EVENTS, events_pb2.MatchProposed(match=MATCH), "matching")
    accepted = events_pb2.MatchAccepted(match=MATCH, by=common_pb2.ROLE_MENTOR)
    await consume(database, bus, MATCHING_EVENTS, accepted, "matching")
    assert await inbox_of(database, "E-1") == ["match_proposed"]
    assert sorted(await inbox_of(database, "E-2")) == ["match_accepted", "match_proposed"]


def notifications_counted() -> float:
    labels = {"template": "enrolled", "channel": "in_app"}
    return REGISTRY.get_sample_value("mentoring_notification_created_total", labels) or 0.0


async def test_notifications_are_counted_only_once_committed(database: Database, tmp_path: Path) -> None:
    """A consumer batch that rolls back is applied again: counting inside it would count twice."""
    bus = bus_of(database, tmp_path / "mail")
    enrolled = events_pb2.ParticipantEnrolled(
        participant=common_pb2.Participant(
            program_id="prog-1", employee_id="E-2", role=common_pb2.ROLE_MENTEE
        )
    )
    before = notifications_counted()
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            handle = bus.event_handlers(translators()[ENROLLMENT_EVENTS])[events_pb2.ParticipantEnrolled]
            await handle(session, published_event("enrollment", enrolled, tenant="acme"))
            raise RuntimeError("the batch fails after the handler ran")
    assert notifications_counted() == before
    await consume(database, bus, ENROLLMENT_EVENTS, enrolled, "enrollment")
    assert notifications_counted() == before + 1
