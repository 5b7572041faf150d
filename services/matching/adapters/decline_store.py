"""Pairs declined in a program: once one side said no, the two are never proposed to each other there
again (hard rule ``declined``); only HR's manual match with an override reason pairs them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.tables import declined_pairs


async def remember(
    session: AsyncSession,
    program_id: str,
    mentor_employee_id: str,
    mentee_employee_ids: Iterable[str],
    declined_by: str,
    now: datetime,
) -> None:
    rows = [
        {
            "program_id": program_id,
            "mentor_employee_id": mentor_employee_id,
            "mentee_employee_id": mentee,
            "declined_by": declined_by,
            "declined_at": now,
        }
        for mentee in dict.fromkeys(mentee_employee_ids)
        if mentee and mentor_employee_id
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(declined_pairs).values(rows).on_conflict_do_nothing())


async def declined_in(session: AsyncSession, program_id: str) -> dict[str, set[str]]:
    """Employee id -> the employees they declined or were declined by in the program (both ways)."""
    found: dict[str, set[str]] = defaultdict(set)
    rows = await session.execute(
        select(declined_pairs.c.mentor_employee_id, declined_pairs.c.mentee_employee_id).where(
            declined_pairs.c.program_id == program_id
        )
    )
    for row in rows:
        found[row.mentor_employee_id].add(row.mentee_employee_id)
        found[row.mentee_employee_id].add(row.mentor_employee_id)
    return dict(found)


async def forget(session: AsyncSession, employee_id: str) -> None:
    await session.execute(
        delete(declined_pairs).where(
            or_(
                declined_pairs.c.mentor_employee_id == employee_id,
                declined_pairs.c.mentee_employee_id == employee_id,
            )
        )
    )
