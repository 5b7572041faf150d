"""An erased person in the session store: what their relationships said is emptied, what was theirs is
deleted, and their id is replaced, so nothing readable about them stays.

- sessions of their relationships: agenda, notes and cancellation reasons emptied (the conversation);
  dates and statuses stay for the other member's calendar;
- goals and check-ins: deleted where the person was the relationship's only mentee (their goals);
  otherwise the check-in notes are emptied;
- feedback: the person's own deleted; the comments of the others' feedback emptied (about them);
- their id in the relationship replaced by ``ERASED_ID``.

An employee id names a person within a tenant only: an erasure of the event's tenant touches that
tenant's relationships alone (an event naming no tenant, as before tenants were sent, touches all).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.store import (
    feedback,
    goal_progress,
    goals,
    participants,
    relationships,
    sessions,
)
from services.session.domain.model import ERASED_ID, Role


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erasure touched: the relationships (by tenant) and the subjects of their events."""

    match_ids: tuple[str, ...]
    subjects_by_tenant: dict[str, set[str]]


async def erase_employee(session: AsyncSession, employee_id: str, tenant: str = "") -> Erased:
    query = (
        select(participants.c.match_id, participants.c.role, relationships.c.tenant)
        .join(relationships, relationships.c.match_id == participants.c.match_id)
        .where(participants.c.employee_id == employee_id)
    )
    if tenant:
        query = query.where(relationships.c.tenant == tenant)
    rows = (await session.execute(query)).all()
    match_ids = tuple(sorted({row.match_id for row in rows}))
    if not match_ids:
        return Erased((), {})
    tenant_of = {row.match_id: row.tenant for row in rows}
    subjects: dict[str, set[str]] = {}
    of_matches = sessions.c.match_id.in_(match_ids)
    for row in (
        await session.execute(select(sessions.c.session_id, sessions.c.match_id).where(of_matches))
    ).all():
        subjects.setdefault(tenant_of[row.match_id], set()).add(row.session_id)
    for row in (
        await session.execute(
            select(goals.c.goal_id, goals.c.match_id).where(goals.c.match_id.in_(match_ids))
        )
    ).all():
        subjects.setdefault(tenant_of[row.match_id], set()).add(row.goal_id)

    await session.execute(update(sessions).where(of_matches).values(agenda="", notes="", cancel_reason=""))
    await _erase_goals(session, employee_id, rows)
    await session.execute(
        delete(feedback).where(feedback.c.match_id.in_(match_ids), feedback.c.employee_id == employee_id)
    )
    await session.execute(update(feedback).where(feedback.c.match_id.in_(match_ids)).values(comment=""))
    # Random, so that the row cannot be found again from the id; unique, as the key needs.
    await session.execute(
        update(participants)
        .where(participants.c.employee_id == employee_id, participants.c.match_id.in_(match_ids))
        .values(employee_id=f"{ERASED_ID}:{uuid.uuid4().hex[:16]}")
    )
    await session.execute(
        update(relationships)
        .where(relationships.c.mentor_id == employee_id, relationships.c.match_id.in_(match_ids))
        .values(mentor_id=ERASED_ID)
    )
    return Erased(match_ids, subjects)


async def _erase_goals(session: AsyncSession, employee_id: str, rows: Sequence[Row[Any]]) -> None:
    only_mentee_of = []
    for row in rows:
        if row.role != Role.MENTEE.value:
            continue
        mentees = await session.execute(
            select(func.count())
            .select_from(participants)
            .where(participants.c.match_id == row.match_id, participants.c.role == Role.MENTEE.value)
        )
        if mentees.scalar_one() == 1:
            only_mentee_of.append(row.match_id)
    if only_mentee_of:
        await session.execute(delete(goal_progress).where(goal_progress.c.match_id.in_(only_mentee_of)))
        await session.execute(delete(goals).where(goals.c.match_id.in_(only_mentee_of)))
    others = [row.match_id for row in rows if row.match_id not in only_mentee_of]
    if others:
        await session.execute(
            update(goal_progress).where(goal_progress.c.match_id.in_(others)).values(note="")
        )
