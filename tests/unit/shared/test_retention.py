"""Retention of the messaging tables: published outbox rows and inbox ids past their retention are
deleted (in chunks), everything else stays; an inbox retention shorter than a consumed topic's is
refused. Real SQLite here; ``tests/integration/test_postgres.py`` runs the same scenarios on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import events_pb2
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from services.shared.db import Database
from services.shared.envelope import new_event
from services.shared.inbox import inbox_table
from services.shared.outbox import forget_subjects, outbox_table, stage_events
from services.shared.retention import MessagingRetention, RetentionTooShort, check_inbox_retention, hours
from services.shared.topics import ENROLLMENT_EVENTS, HRIS_WORKER_EVENTS

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CLOSED = "mentoring.enrollment.program.closed.v1"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'messaging.db'}")
    await db.migrate(tmp_path / "no-service-migrations")
    yield db
    await db.dispose()


async def stage(database: Database, subject: str, published_at: datetime | None, tenant: str = "t") -> str:
    event = new_event(
        CLOSED, "test", events_pb2.ProgramClosed(program_id=subject), subject=subject, tenant=tenant
    )
    async with database.transaction() as session:
        await stage_events(session, [(event, subject)])
        await session.execute(
            update(outbox_table).where(outbox_table.c.event_id == event.id).values(published_at=published_at)
        )
    return event.id


async def applied(database: Database, event_id: str, at: datetime) -> None:
    async with database.transaction() as session:
        await session.execute(
            inbox_table.insert(), [{"event_id": event_id, "topic": "x", "ce_type": CLOSED, "applied_at": at}]
        )


async def outbox_ids(database: Database) -> set[str]:
    async with database.transaction() as session:
        return set((await session.execute(select(outbox_table.c.event_id))).scalars())


async def inbox_ids(database: Database) -> set[str]:
    async with database.transaction() as session:
        return set((await session.execute(select(inbox_table.c.event_id))).scalars())


def pruned_metric(table: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "mentoring_messaging_rows_pruned_total", {"service": "test", "table": table}
        )
        or 0.0
    )


async def scenario_prune_keeps_what_is_young_or_unpublished(database: Database) -> None:
    old = NOW - timedelta(days=8)
    young = NOW - timedelta(days=6)
    old_published = {await stage(database, f"p{index}", old) for index in range(7)}
    kept = {
        await stage(database, "young", young),
        await stage(database, "unpublished-and-old", None),  # published_at is only set once sent
    }
    for index in range(5):
        await applied(database, f"old-{index}", NOW - timedelta(days=36))
    await applied(database, "young-id", NOW - timedelta(days=34))
    assert old_published <= await outbox_ids(database)
    before = pruned_metric("outbox"), pruned_metric("inbox")

    # Chunks of 3: seven old rows take three transactions, five old ids two.
    retention = MessagingRetention(
        "test",
        database,
        outbox_retention=timedelta(days=7),
        inbox_retention=timedelta(days=35),
        interval_seconds=60,
        chunk_size=3,
    )
    pruned = await retention.prune(now=NOW)

    assert (pruned.outbox, pruned.inbox) == (7, 5)
    assert await outbox_ids(database) == kept
    assert await inbox_ids(database) == {"young-id"}
    assert (pruned_metric("outbox") - before[0], pruned_metric("inbox") - before[1]) == (7, 5)
    again = await retention.prune(now=NOW)
    assert (again.outbox, again.inbox) == (0, 0)


async def test_prune_keeps_what_is_young_or_unpublished(database: Database) -> None:
    await scenario_prune_keeps_what_is_young_or_unpublished(database)


async def test_zero_retention_keeps_everything(database: Database) -> None:
    published = await stage(database, "p", NOW - timedelta(days=3000))
    await applied(database, "ancient", NOW - timedelta(days=3000))
    retention = MessagingRetention(
        "test", database, outbox_retention=hours(0), inbox_retention=hours(0), interval_seconds=60
    )
    pruned = await retention.prune(now=NOW)
    assert (pruned.outbox, pruned.inbox) == (0, 0)
    assert await outbox_ids(database) == {published}
    assert await inbox_ids(database) == {"ancient"}


async def test_the_background_task_prunes_until_stopped(database: Database) -> None:
    await stage(database, "p", datetime.now(UTC) - timedelta(hours=2))
    await applied(database, "old", datetime.now(UTC) - timedelta(hours=2))
    retention = MessagingRetention(
        "test",
        database,
        outbox_retention=timedelta(hours=1),
        inbox_retention=timedelta(hours=1),
        interval_seconds=0.05,
    )
    await retention.start()
    try:
        for _ in range(100):
            if not await outbox_ids(database) and not await inbox_ids(database):
                break
            await asyncio.sleep(0.05)
    finally:
        await retention.stop()
    assert await outbox_ids(database) == set()
    assert await inbox_ids(database) == set()


async def forget_flags(database: Database) -> dict[str, bool]:
    async with database.transaction() as session:
        rows = await session.execute(select(outbox_table.c.event_id, outbox_table.c.forget_after_publish))
        return {event_id: bool(flag) for event_id, flag in rows.tuples()}


async def scenario_forgetting_subjects_deletes_the_published_rows_and_flags_the_others(
    database: Database,
) -> None:
    gone = await stage(database, "enrollment-1", NOW)
    waiting = await stage(database, "enrollment-1", None)
    other_subject = await stage(database, "enrollment-2", NOW)
    other_tenant = await stage(database, "enrollment-1", NOW, tenant="other")
    async with database.transaction() as session:
        deleted = await forget_subjects(session, "t", {"enrollment-1", "enrollment-9"})
        assert await forget_subjects(session, "t", set()) == 0
    assert deleted == 1
    # The unpublished row stays, flagged for the relay to delete once it is sent; nothing else changes.
    assert await forget_flags(database) == {waiting: True, other_subject: False, other_tenant: False}
    assert gone not in await outbox_ids(database)


async def test_forgetting_subjects_deletes_the_published_rows_and_flags_the_others(
    database: Database,
) -> None:
    await scenario_forgetting_subjects_deletes_the_published_rows_and_flags_the_others(database)


def test_an_inbox_retention_shorter_than_a_consumed_topic_is_refused() -> None:
    four_weeks = timedelta(weeks=4)
    check_inbox_retention(four_weeks, [HRIS_WORKER_EVENTS, ENROLLMENT_EVENTS])
    check_inbox_retention(None, [HRIS_WORKER_EVENTS])
    check_inbox_retention(timedelta(hours=1), [])
    with pytest.raises(RetentionTooShort, match=f"at least 672, the retention of {ENROLLMENT_EVENTS}"):
        check_inbox_retention(four_weeks - timedelta(hours=1), [ENROLLMENT_EVENTS])
    assert hours(0) is None and hours(1.5) == timedelta(minutes=90)
