"""A mentor's seats across every program of a tenant, as an invariant of the store.

Why a per-person load row with a guarded UPDATE (and not row locks on the matches): the cap across
programs concerns matches of *other* programs, which the program lock (``pool_store.lock_program``) does
not serialise. One row per (tenant, person) gives every writer of that person's seats one row to meet
on. Each store of a proposal takes its seats with

    UPDATE mentor_seats SET live_load = live_load + n WHERE tenant = ? AND employee_id = ?
                                                      AND live_load + n <= cap

in the transaction that inserts the match: no rows updated means the seat was lost to a concurrent
writer, and the match is not stored. On PostgreSQL the UPDATE waits for the row lock of a concurrent
writer and re-evaluates its WHERE on the committed row (READ COMMITTED), so two instances of the service
can never both take the last seat; on SQLite writers are serialised (BEGIN IMMEDIATE). Locking every
live match of the person (SELECT ... FOR UPDATE) would not stop a concurrent *insert*, and a count made
under it could not see another transaction's uncommitted match; a predicate lock would need SERIALIZABLE
and retries everywhere.

Every change of a match's seats goes through ``take`` (insert) or ``adjust`` (update): a match that is
declined, expires, ends or loses a group member gives its seats back in the same transaction. Speed
and peer programs hold no seats (a rotation of short meetings; two peers, neither of them a mentor), nor
do matches without a mentor employee id (erased). Seats are taken in employee-id order, so two runs
storing at once on PostgreSQL wait for each other's rows instead of deadlocking.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.tables import LIVE_STATUSES, match_members, matches, mentor_seats
from services.matching.domain.lifecycle import MatchRecord
from services.shared.db import rows_affected

SEATLESS_FORMATS = ("speed", "peer")


def seats_of(record: MatchRecord) -> int:
    """Seats the match holds of its mentor's cap across programs."""
    if record.format in SEATLESS_FORMATS or not record.mentor_employee_id or not record.live:
        return 0
    return len(record.mentees)


async def _ensure_row(session: AsyncSession, tenant: str, employee_id: str) -> None:
    values = {"tenant": tenant, "employee_id": employee_id, "live_load": 0}
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(mentor_seats).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(mentor_seats).values(**values).on_conflict_do_nothing()
    await session.execute(statement)


async def take(session: AsyncSession, tenant: str, employee_id: str, seats: int, cap: int | None) -> bool:
    """Take ``seats`` of the person's cap (None: no cap, the load is still counted); False when they do
    not fit, and then nothing changed."""
    if seats <= 0:
        return True
    await _ensure_row(session, tenant, employee_id)
    statement = (
        update(mentor_seats)
        .where(mentor_seats.c.tenant == tenant, mentor_seats.c.employee_id == employee_id)
        .values(live_load=mentor_seats.c.live_load + seats)
    )
    if cap is not None:
        statement = statement.where(mentor_seats.c.live_load + seats <= cap)
    return rows_affected(await session.execute(statement)) == 1


async def release(session: AsyncSession, tenant: str, employee_id: str, seats: int) -> None:
    """Give ``seats`` back (never below zero)."""
    if seats <= 0:
        return
    load = mentor_seats.c.live_load
    await session.execute(
        update(mentor_seats)
        .where(mentor_seats.c.tenant == tenant, mentor_seats.c.employee_id == employee_id)
        .values(live_load=case((load > seats, load - seats), else_=0))
    )


async def stored_seats(session: AsyncSession, match_id: str) -> int:
    """Seats the stored row of a match holds now (before an update replaces it)."""
    row = (
        await session.execute(
            select(matches.c.status, matches.c.format, matches.c.mentor_employee_id).where(
                matches.c.match_id == match_id
            )
        )
    ).first()
    if (
        row is None
        or row.status not in LIVE_STATUSES
        or row.format in SEATLESS_FORMATS
        or not row.mentor_employee_id
    ):
        return 0
    current = await session.execute(
        select(func.count())
        .select_from(match_members)
        .where(match_members.c.match_id == match_id, match_members.c.left_at.is_(None))
    )
    return int(current.scalar_one())


async def live_load(session: AsyncSession, tenant: str, employee_id: str) -> int:
    row = (
        await session.execute(
            select(mentor_seats.c.live_load).where(
                mentor_seats.c.tenant == tenant, mentor_seats.c.employee_id == employee_id
            )
        )
    ).first()
    return int(row.live_load) if row else 0


async def forget(session: AsyncSession, employee_id: str) -> None:
    """Erasure: the person's rows go (their matches were ended first)."""
    await session.execute(delete(mentor_seats).where(mentor_seats.c.employee_id == employee_id))
