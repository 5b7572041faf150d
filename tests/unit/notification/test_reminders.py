"""Reminders before sessions, on a real SQLite file: written when a session is scheduled (24 h and 1 h
before), each fired once (also across a restart: a new process on the same database), moved with the
session, and gone when it is cancelled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.notification.adapters import store
from services.notification.adapters.contacts import NoContactDirectory
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.templates import Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import FireDueReminders, NotifySessionEvent
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.db import Database
from services.shared.messagebus import MessageBus

NOW = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
STARTS = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(url(tmp_path))
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.remember_match(uow, "acme", "m-1", "prog-1", "E-1", ["E-2"])
    yield db
    await db.dispose()


def bus(db: Database, tmp_path: Path) -> MessageBus:
    email = EmailSending(
        NoContactDirectory(), MailboxDirectory(tmp_path / "mail", "M <m@x.invalid>"), RetryPolicy()
    )
    return MessageBus(db, handlers.handler_map(Policy(email_by_default=False), email))


def session_event(event_id: str, template: Template, starts: datetime) -> NotifySessionEvent:
    facts = Facts(starts_at=starts, duration_minutes=45)
    return NotifySessionEvent(event_id, template, "m-1", facts, "acme", session_id="s-1")


async def reminded(db: Database, recipient: str) -> list[str]:
    async with db.transaction() as uow:
        items, _ = await store.list_inbox(uow, "acme", recipient, False, 50, None)
    return [item.title for item in items if item.template is Template.SESSION_REMINDER]


async def test_each_reminder_fires_once_even_across_a_restart(database: Database, tmp_path: Path) -> None:
    sender = bus(database, tmp_path)
    async with database.transaction() as uow:
        await handlers.notify_session_event(
            uow, session_event("ev-1", Template.SESSION_SCHEDULED, STARTS), policy=Policy(False), now=NOW
        )
    assert await sender.execute(FireDueReminders(STARTS - timedelta(hours=25))) == 0
    assert await sender.execute(FireDueReminders(STARTS - timedelta(hours=24))) == 1
    assert await sender.execute(FireDueReminders(STARTS - timedelta(hours=23))) == 0, "fired once"
    assert await reminded(database, "E-1") == ["Reminder: mentoring session in 24 hours"]
    assert await reminded(database, "E-2") == ["Reminder: mentoring session in 24 hours"]
    await database.dispose()

    restarted = Database(url(tmp_path))
    try:
        again = bus(restarted, tmp_path)
        assert await again.execute(FireDueReminders(STARTS - timedelta(minutes=30))) == 1
        assert await again.execute(FireDueReminders(STARTS)) == 0
        titles = await reminded(restarted, "E-2")
    finally:
        await restarted.dispose()
    assert titles == ["Reminder: mentoring session in 1 hour", "Reminder: mentoring session in 24 hours"]


async def test_reminders_move_with_the_session_and_go_with_its_cancellation(
    database: Database, tmp_path: Path
) -> None:
    sender = bus(database, tmp_path)
    moved_to = STARTS + timedelta(days=2)
    for event in (
        session_event("ev-1", Template.SESSION_SCHEDULED, STARTS),
        session_event("ev-2", Template.SESSION_SCHEDULED, moved_to),
    ):
        async with database.transaction() as uow:
            await handlers.notify_session_event(uow, event, policy=Policy(False), now=NOW)
    assert await sender.execute(FireDueReminders(STARTS)) == 0, "no reminder left at the old time"
    assert await sender.execute(FireDueReminders(moved_to - timedelta(hours=24))) == 1
    async with database.transaction() as uow:
        cancelled = session_event("ev-3", Template.SESSION_CANCELLED, moved_to)
        await handlers.notify_session_event(uow, cancelled, policy=Policy(False), now=NOW)
    assert await sender.execute(FireDueReminders(moved_to)) == 0, "a cancelled session reminds nobody"
    assert await reminded(database, "E-1") == ["Reminder: mentoring session in 24 hours"]
