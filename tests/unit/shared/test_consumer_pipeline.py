"""The consumer pipeline applies a micro-batch in one transaction without savepoints: a failing record
is left out and the batch applied again, so the failure leaves nothing behind and every other record is
applied exactly once. Real SQLite; the DLQ publisher is a recorder (the broker side is covered by the
integration tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from mentoring.v1 import events_pb2
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.consumer import BatchHandler, ConsumerPipeline, Outcome
from services.shared.db import Database
from services.shared.dlq import RawRecord
from services.shared.envelope import CloudEvent, encode_binary, new_event
from services.shared.errors import DomainError, InvalidArgument, NotYetKnown
from services.shared.inbox import inbox_table

TYPE = "mentoring.enrollment.program.closed.v1"

effects_metadata = MetaData()
effects = Table(
    "effects",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("program_id", String(64), nullable=False),
)


class RecordingDlq:
    def __init__(self) -> None:
        self.records: list[tuple[RawRecord, str, str]] = []

    async def publish(self, record: RawRecord, reason: str, error: str) -> None:
        self.records.append((record, reason, error))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pipeline.db'}")
    await db.migrate(tmp_path / "no-service-migrations")
    async with db.engine.begin() as connection:
        await connection.run_sync(effects_metadata.create_all)
    yield db
    await db.dispose()


def record(program_id: str, offset: int, event_id: str | None = None) -> RawRecord:
    event = new_event(TYPE, "test", events_pb2.ProgramClosed(program_id=program_id), tenant="t")
    if event_id is not None:
        event = replace(event, id=event_id)
    headers, value = encode_binary(event)
    return RawRecord("topic", 0, offset, program_id.encode(), value, tuple(headers))


async def applied_programs(database: Database) -> list[str]:
    async with database.transaction() as session:
        rows = await session.execute(select(effects.c.program_id).order_by(effects.c.id))
        return list(rows.scalars())


async def inbox_size(database: Database) -> int:
    async with database.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(inbox_table))).scalar_one())


async def write_then_check(session: AsyncSession, event: CloudEvent) -> None:
    """Writes first, then refuses "bad" programs: the refusal must undo the write."""
    assert isinstance(event.data, events_pb2.ProgramClosed)
    await session.execute(effects.insert().values(program_id=event.data.program_id))
    if event.data.program_id.startswith("bad"):
        raise InvalidArgument("program_id", "refused")
    if event.data.program_id.startswith("bug"):
        raise ValueError("a handler bug")


async def test_a_refused_record_leaves_nothing_and_the_others_apply_once(database: Database) -> None:
    dlq = RecordingDlq()
    pipeline = ConsumerPipeline("svc", database, {TYPE: write_then_check}, dlq)  # type: ignore[arg-type]
    records = [record(name, offset) for offset, name in enumerate(["p1", "bad1", "p2", "bug1", "p3"])]
    outcomes = await pipeline.process_batch(records)
    assert outcomes == [Outcome.APPLIED, Outcome.DLQ, Outcome.APPLIED, Outcome.DLQ, Outcome.APPLIED]
    assert await applied_programs(database) == ["p1", "p2", "p3"], "no write of a refused record survives"
    assert [(r.offset, reason) for r, reason, _ in dlq.records] == [
        (1, "invalid_argument:program_id"),
        (3, "handler_error"),
    ]
    assert await inbox_size(database) == 3


async def test_a_redelivered_batch_is_skipped_and_an_id_twice_in_a_batch_applies_once(
    database: Database,
) -> None:
    pipeline = ConsumerPipeline("svc", database, {TYPE: write_then_check}, RecordingDlq())  # type: ignore[arg-type]
    first = [record("p1", 0, "id-1"), record("p1", 1, "id-1"), record("p2", 2, "id-2")]
    assert await pipeline.process_batch(first) == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.APPLIED]
    assert await pipeline.process_batch(first) == [Outcome.DUPLICATE] * 3
    assert await applied_programs(database) == ["p1", "p2"]


async def test_a_batch_handler_rejects_records_without_a_retry(database: Database) -> None:
    calls: list[int] = []

    async def apply(session: AsyncSession, events: Sequence[CloudEvent]) -> list[DomainError | None]:
        calls.append(len(events))
        slots: list[DomainError | None] = []
        for event in events:
            assert isinstance(event.data, events_pb2.ProgramClosed)
            if event.data.program_id.startswith("bad"):
                slots.append(InvalidArgument("program_id", "refused"))
            else:
                await session.execute(effects.insert().values(program_id=event.data.program_id))
                slots.append(None)
        return slots

    dlq = RecordingDlq()
    pipeline = ConsumerPipeline("svc", database, BatchHandler(frozenset({TYPE}), apply), dlq)  # type: ignore[arg-type]
    outcomes = await pipeline.process_batch([record(n, i) for i, n in enumerate(["p1", "bad", "p2"])])
    assert outcomes == [Outcome.APPLIED, Outcome.DLQ, Outcome.APPLIED]
    assert calls == [3], "one call for the whole batch"
    assert await applied_programs(database) == ["p1", "p2"]
    assert [reason for _, reason, _ in dlq.records] == ["invalid_argument:program_id"]


async def test_an_unattributed_failure_is_found_record_by_record(database: Database) -> None:
    async def apply(session: AsyncSession, events: Sequence[CloudEvent]) -> list[DomainError | None]:
        for event in events:
            assert isinstance(event.data, events_pb2.ProgramClosed)
            await session.execute(effects.insert().values(program_id=event.data.program_id))
            if event.data.program_id == "bug":
                raise KeyError("somewhere in the batch")
        return [None] * len(events)

    dlq = RecordingDlq()
    pipeline = ConsumerPipeline("svc", database, BatchHandler(frozenset({TYPE}), apply), dlq)  # type: ignore[arg-type]
    outcomes = await pipeline.process_batch([record(n, i) for i, n in enumerate(["p1", "bug", "p2"])])
    assert outcomes == [Outcome.APPLIED, Outcome.DLQ, Outcome.APPLIED]
    assert await applied_programs(database) == ["p1", "p2"]
    assert [(r.offset, reason) for r, reason, _ in dlq.records] == [(1, "handler_error")]


async def test_many_failures_in_one_batch_take_the_savepoint_path(database: Database) -> None:
    dlq = RecordingDlq()
    pipeline = ConsumerPipeline("svc", database, {TYPE: write_then_check}, dlq)  # type: ignore[arg-type]
    names = [f"bad{index}" if index % 2 else f"p{index}" for index in range(40)]
    outcomes = await pipeline.process_batch([record(name, index) for index, name in enumerate(names)])
    assert outcomes == [Outcome.DLQ if name.startswith("bad") else Outcome.APPLIED for name in names]
    assert await applied_programs(database) == [name for name in names if not name.startswith("bad")]
    assert len(dlq.records) == 20


async def test_a_known_type_on_the_wrong_topic_is_dead_lettered_not_ignored(database: Database) -> None:
    dlq = RecordingDlq()
    pipeline = ConsumerPipeline(
        "svc",
        database,
        {TYPE: write_then_check},
        dlq,  # type: ignore[arg-type]
        registry_topic="matching.events.v1",
    )

    outcomes = await pipeline.process_batch([record("p-1", 0)])

    assert outcomes == [Outcome.DLQ]
    assert [(reason, error) for _, reason, error in dlq.records] == [
        ("wrong_topic", f"{TYPE} travels on enrollment.events.v1, not matching.events.v1")
    ]
    assert await applied_programs(database) == []
    assert await inbox_size(database) == 0


async def test_an_event_that_overtook_what_it_refers_to_is_retried_then_applied(database: Database) -> None:
    """Topics are not ordered with each other: an event about something that another topic's event
    introduces waits for it (bounded retries) instead of being dead-lettered at once."""
    introduced: set[str] = set()
    attempts: list[str] = []

    async def needs_introduction(session: AsyncSession, event: CloudEvent) -> None:
        assert isinstance(event.data, events_pb2.ProgramClosed)
        attempts.append(event.data.program_id)
        if event.data.program_id not in introduced:
            if len(attempts) == 3:
                introduced.add("late")  # the other topic's event arrives meanwhile
            raise NotYetKnown("program_unknown", "not introduced yet")
        await session.execute(effects.insert().values(program_id=event.data.program_id))

    dlq = RecordingDlq()
    pipeline = ConsumerPipeline(
        "svc",
        database,
        {TYPE: needs_introduction},
        dlq,  # type: ignore[arg-type]
        max_retries=4,
        retry_base_seconds=0.01,
    )

    assert await pipeline.process_batch([record("late", 0)]) == [Outcome.APPLIED]
    assert await applied_programs(database) == ["late"]
    assert dlq.records == []

    attempts.clear()
    assert await pipeline.process_batch([record("never", 1)]) == [Outcome.DLQ]
    assert len(attempts) == 5, "the first try and four retries, then it goes"
    assert [(reason, error) for _, reason, error in dlq.records] == [
        ("failed_precondition:program_unknown", "program_unknown: not introduced yet")
    ]
