"""A command whose caller goes away mid-statement (an RPC past its deadline) rolls back and releases
the SQLite write lock; before, the connection was closed without a rollback and, kept alive by its
unfinished statement, held the lock until every later writer timed out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import Database
from services.shared.messagebus import Command, MessageBus

marks_metadata = MetaData()
marks = Table("marks", marks_metadata, Column("id", Integer, primary_key=True, autoincrement=True))

# A statement that runs for a while inside SQLite (a few hundred milliseconds).
SLOW_STATEMENT = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) FROM c"
)


@dataclass(frozen=True, slots=True)
class MarkThenDwell(Command[None]):
    pass


@dataclass(frozen=True, slots=True)
class Mark(Command[None]):
    pass


async def mark_then_dwell(session: AsyncSession, _command: MarkThenDwell) -> None:
    await session.execute(marks.insert())
    await session.execute(SLOW_STATEMENT)
    await session.execute(marks.insert())


async def mark(session: AsyncSession, _command: Mark) -> None:
    await session.execute(marks.insert())


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cancel.db'}")
    await db.migrate(tmp_path / "no-service-migrations")
    async with db.engine.begin() as connection:
        await connection.run_sync(marks_metadata.create_all)
    yield db
    await db.dispose()


async def count_marks(database: Database) -> int:
    async with database.read_transaction() as session:
        return int((await session.execute(select(func.count()).select_from(marks))).scalar_one())


async def test_a_command_cancelled_mid_statement_rolls_back_and_frees_the_write_lock(
    database: Database,
) -> None:
    bus = MessageBus(database, {MarkThenDwell: mark_then_dwell, Mark: mark})

    for _ in range(3):
        call = asyncio.create_task(bus.execute(MarkThenDwell()))
        await asyncio.sleep(0.05)  # inside the slow statement, with the write lock held
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    started = time.monotonic()
    await asyncio.wait_for(bus.execute(Mark()), timeout=5)
    assert time.monotonic() - started < 5
    assert await count_marks(database) == 1, "the cancelled commands left nothing behind"


async def test_a_caller_gone_between_statements_stops_the_work_at_the_next_one(database: Database) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def mark_wait_mark(session: AsyncSession, _command: MarkThenDwell) -> None:
        await session.execute(marks.insert())
        started.set()
        await release.wait()
        await session.execute(marks.insert())

    bus = MessageBus(database, {MarkThenDwell: mark_wait_mark})
    call = asyncio.create_task(bus.execute(MarkThenDwell()))
    await started.wait()
    call.cancel()
    await asyncio.sleep(0.01)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await count_marks(database) == 0
