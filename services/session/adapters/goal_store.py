"""Goals beyond one relationship's own: those the mentees declared at enrolment (from enrollment
events, per program and person), and the history of check-ins of a relationship's goals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, PrimaryKeyConstraint, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.program_store import programs
from services.session.adapters.store import goal_progress, metadata, progress_of
from services.session.domain.model import Goal, GoalProgress
from services.shared.db import UtcDateTime, rows_affected

# Check-ins returned with a page of goals, at the most: a long relationship's history stays bounded.
MAX_CHECK_INS: int = 500

enrolment_goals = Table(
    "enrolment_goals",
    metadata,
    Column("program_id", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("goals", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("program_id", "employee_id"),
    Index("ix_enrolment_goals_employee", "employee_id"),
)


def _goal_json(goal: Goal) -> dict[str, Any]:
    return {
        "goal_id": goal.goal_id,
        "what": goal.what,
        "metric": goal.metric,
        "target": goal.target,
        "due": goal.due.isoformat() if goal.due is not None else None,
        "skill_tags": list(goal.skill_tags),
    }


def _goal_of(data: dict[str, Any], match_id: str) -> Goal:
    due = data.get("due")
    return Goal(
        goal_id=data["goal_id"],
        match_id=match_id,
        what=data["what"],
        metric=data["metric"],
        target=data["target"],
        due=datetime.fromisoformat(due) if due else None,
        skill_tags=tuple(data["skill_tags"]),
    )


async def save_enrolment_goals(
    session: AsyncSession, program_id: str, employee_id: str, goals: Sequence[Goal], now: datetime
) -> None:
    values = {"goals": [_goal_json(goal) for goal in goals], "updated_at": now}
    updated = await session.execute(
        enrolment_goals.update()
        .where(enrolment_goals.c.program_id == program_id, enrolment_goals.c.employee_id == employee_id)
        .values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(
            enrolment_goals.insert().values(program_id=program_id, employee_id=employee_id, **values)
        )


async def enrolment_goals_of(session: AsyncSession, program_id: str, employee_id: str) -> list[Goal]:
    """The goals ``employee_id`` declared when enrolling in ``program_id`` (no match yet: ``match_id``
    is empty)."""
    row = (
        await session.execute(
            select(enrolment_goals.c.goals).where(
                enrolment_goals.c.program_id == program_id, enrolment_goals.c.employee_id == employee_id
            )
        )
    ).first()
    return [_goal_of(data, "") for data in row.goals] if row is not None else []


async def forget_enrolment_goals(session: AsyncSession, employee_id: str, tenant: str = "") -> None:
    """The person's declared goals, in every program but those known to be another tenant's (the same
    employee id there is someone else; a program not yet heard of may well be theirs)."""
    query = delete(enrolment_goals).where(enrolment_goals.c.employee_id == employee_id)
    if tenant:
        others = select(programs.c.program_id).where(programs.c.tenant != tenant)
        query = query.where(enrolment_goals.c.program_id.not_in(others))
    await session.execute(query)


async def check_ins(session: AsyncSession, match_id: str, goal_ids: Sequence[str]) -> list[GoalProgress]:
    """Every check-in of these goals, oldest first (at most MAX_CHECK_INS, the newest ones)."""
    if not goal_ids:
        return []
    rows = await session.execute(
        select(goal_progress)
        .where(goal_progress.c.match_id == match_id, goal_progress.c.goal_id.in_(list(goal_ids)))
        .order_by(goal_progress.c.id.desc())
        .limit(MAX_CHECK_INS)
    )
    return [progress_of(row) for row in reversed(rows.all())]
