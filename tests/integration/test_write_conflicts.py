"""Two commands that lock the same rows in opposite order on PostgreSQL: the database aborts one to break
the deadlock, and the bus runs it again whole, so both succeed (before, the loser answered INTERNAL; the
matching service's seat bookkeeping met this between a decline's rematch and another program's run)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import Database
from services.shared.messagebus import Command, MessageBus
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration


@dataclass(frozen=True, slots=True)
class TakeBoth(Command[None]):
    first: int
    second: int


async def test_a_deadlocked_command_is_run_again_and_both_succeed(postgres_server: PostgresServer) -> None:
    database = Database(await postgres_server.create_database("conflicts"))
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE seats (id INTEGER PRIMARY KEY, taken INTEGER NOT NULL)"))
        await session.execute(text("INSERT INTO seats VALUES (1, 0), (2, 0)"))
    both_hold_one = asyncio.Barrier(2)
    attempts: list[int] = []

    async def take_both(session: AsyncSession, command: TakeBoth) -> None:
        attempts.append(command.first)
        await session.execute(
            text("UPDATE seats SET taken = taken + 1 WHERE id = :id"), {"id": command.first}
        )
        if attempts.count(command.first) == 1:
            await both_hold_one.wait()  # the first time, each holds one row the other needs
        await session.execute(
            text("UPDATE seats SET taken = taken + 1 WHERE id = :id"), {"id": command.second}
        )

    bus = MessageBus(database, {TakeBoth: take_both})
    try:
        await asyncio.wait_for(
            asyncio.gather(bus.execute(TakeBoth(1, 2)), bus.execute(TakeBoth(2, 1))), timeout=60
        )
        async with database.read_transaction() as session:
            taken = (await session.execute(text("SELECT id, taken FROM seats ORDER BY id"))).all()
    finally:
        await database.dispose()
    assert [tuple(row) for row in taken] == [(1, 2), (2, 2)], "each applied once, nothing half-applied"
    assert len(attempts) == 3, "the deadlock's loser ran once more"
