"""Cadence plans in the store: each participant's working hours per program (from their enrolment), each
relationship's plan (its series) and the plan's slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.program_store import programs
from services.session.adapters.store import metadata, participants, relationships, sessions
from services.session.domain.model import RelationshipStatus, SessionStatus
from services.session.domain.plans import Cadence, Plan, PlanSlot, Recurrence, SlotStatus
from services.session.domain.slots import Interval, WorkingHours
from services.shared.db import UtcDateTime, rows_affected

working_hours = Table(
    "working_hours",
    metadata,
    Column("program_id", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("start_hour", Integer, nullable=False),
    Column("end_hour", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("program_id", "employee_id"),
    Index("ix_working_hours_employee", "employee_id"),
)

plans = Table(
    "plans",
    metadata,
    Column("match_id", String(128), primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("every_days", Integer, nullable=False),
    Column("session_minutes", Integer, nullable=False),
    Column("meetings", Integer, nullable=False),
    Column("freq", String(16), nullable=False),
    Column("interval", Integer, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("by_day_nth", Integer, nullable=True),
    Column("by_day_weekday", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
)

plan_slots = Table(
    "plan_slots",
    metadata,
    Column("match_id", String(128), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("occurrence", UtcDateTime, nullable=False),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("match_id", "idx"),
    ForeignKeyConstraint(["match_id"], ["plans.match_id"]),
    Index("ix_plan_slots_starts", "starts_at"),
)


# ---- working hours ----


async def save_working_hours(
    session: AsyncSession, program_id: str, employee_id: str, hours: WorkingHours, now: datetime
) -> None:
    values = {
        "timezone": hours.timezone,
        "start_hour": hours.start_hour,
        "end_hour": hours.end_hour,
        "updated_at": now,
    }
    updated = await session.execute(
        working_hours.update()
        .where(working_hours.c.program_id == program_id, working_hours.c.employee_id == employee_id)
        .values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(
            working_hours.insert().values(program_id=program_id, employee_id=employee_id, **values)
        )


async def working_hours_of(
    session: AsyncSession, program_id: str, employee_ids: Sequence[str]
) -> list[WorkingHours]:
    """Each person's working hours in the program, in the order given; the default day (09:00-17:00
    UTC) for one whose enrolment the service has not seen."""
    rows = await session.execute(
        select(working_hours).where(
            working_hours.c.program_id == program_id, working_hours.c.employee_id.in_(list(employee_ids))
        )
    )
    found = {row.employee_id: WorkingHours(row.timezone, row.start_hour, row.end_hour) for row in rows}
    return [found.get(employee, WorkingHours()) for employee in employee_ids]


async def forget_working_hours(session: AsyncSession, employee_id: str, tenant: str = "") -> None:
    """The person's time zones and hours, in every program but those known to be another tenant's."""
    query = delete(working_hours).where(working_hours.c.employee_id == employee_id)
    if tenant:
        others = select(programs.c.program_id).where(programs.c.tenant != tenant)
        query = query.where(working_hours.c.program_id.not_in(others))
    await session.execute(query)


# ---- busy time ----


async def busy_of_people(
    session: AsyncSession, employee_ids: Sequence[str], lo: datetime, hi: datetime, *, tenant: str
) -> list[Interval]:
    """When any of the people is taken in ``[lo, hi)``: their scheduled sessions, and the slots still
    proposed in the plans of their live relationships, in every relationship of theirs in ``tenant``."""
    of_people = select(participants.c.match_id).where(
        participants.c.employee_id.in_(list(employee_ids)),
        participants.c.match_id.in_(select(relationships.c.match_id).where(relationships.c.tenant == tenant)),
    )
    booked = await session.execute(
        select(sessions.c.starts_at, sessions.c.ends_at).where(
            sessions.c.match_id.in_(of_people),
            sessions.c.status == SessionStatus.SCHEDULED.value,
            sessions.c.starts_at < hi,
            sessions.c.ends_at > lo,
        )
    )
    live = select(relationships.c.match_id).where(relationships.c.status == RelationshipStatus.ACTIVE.value)
    proposed = await session.execute(
        select(plan_slots.c.starts_at, plan_slots.c.ends_at).where(
            plan_slots.c.match_id.in_(of_people),
            plan_slots.c.match_id.in_(live),
            plan_slots.c.status == SlotStatus.PROPOSED.value,
            plan_slots.c.starts_at < hi,
            plan_slots.c.ends_at > lo,
        )
    )
    return [(row.starts_at, row.ends_at) for row in [*booked, *proposed]]


# ---- plans ----


async def insert_plan(session: AsyncSession, plan: Plan, now: datetime) -> None:
    recurrence = plan.recurrence
    await session.execute(
        plans.insert().values(
            match_id=plan.match_id,
            timezone=plan.timezone,
            every_days=plan.cadence.every_days,
            session_minutes=plan.cadence.session_minutes,
            meetings=plan.cadence.meetings,
            freq=recurrence.freq,
            interval=recurrence.interval,
            occurrences=recurrence.count,
            by_day_nth=recurrence.by_day[0] if recurrence.by_day else None,
            by_day_weekday=recurrence.by_day[1] if recurrence.by_day else None,
            created_at=now,
        )
    )
    if plan.slots:
        await session.execute(
            plan_slots.insert(),
            [_slot_values(plan, slot, now) | {"match_id": plan.match_id} for slot in plan.slots],
        )


def _slot_values(plan: Plan, slot: PlanSlot, now: datetime) -> dict[str, Any]:
    return {
        "idx": slot.index,
        "occurrence": slot.occurrence,
        "starts_at": slot.starts_at,
        "ends_at": slot.starts_at + plan.cadence.duration if slot.starts_at is not None else None,
        "status": slot.status.value,
        "session_id": slot.session_id,
        "updated_at": now,
    }


async def update_slot(session: AsyncSession, plan: Plan, slot: PlanSlot, now: datetime) -> None:
    values = _slot_values(plan, slot, now)
    await session.execute(
        plan_slots.update()
        .where(plan_slots.c.match_id == plan.match_id, plan_slots.c.idx == slot.index)
        .values(**values)
    )


def _slot_of(row: Row[Any]) -> PlanSlot:
    return PlanSlot(
        index=row.idx,
        occurrence=row.occurrence,
        starts_at=row.starts_at,
        status=SlotStatus(row.status),
        session_id=row.session_id,
    )


async def get_plan(session: AsyncSession, match_id: str) -> Plan | None:
    row = (await session.execute(select(plans).where(plans.c.match_id == match_id))).first()
    if row is None:
        return None
    slots = await session.execute(
        select(plan_slots).where(plan_slots.c.match_id == match_id).order_by(plan_slots.c.idx)
    )
    by_day = (row.by_day_nth, row.by_day_weekday) if row.by_day_nth is not None else None
    return Plan(
        match_id=row.match_id,
        timezone=row.timezone,
        cadence=Cadence(row.every_days, row.session_minutes, row.meetings),
        recurrence=Recurrence(row.freq, row.interval, row.occurrences, by_day),
        slots=tuple(_slot_of(slot) for slot in slots),
    )


async def live_relationships_without_plan(session: AsyncSession, program_id: str, tenant: str) -> list[str]:
    """The live relationships of the program that have no plan yet (they started before the service
    knew the program), by match id."""
    rows = await session.execute(
        select(relationships.c.match_id)
        .where(
            relationships.c.program_id == program_id,
            relationships.c.tenant == tenant,
            relationships.c.status == RelationshipStatus.ACTIVE.value,
            relationships.c.match_id.not_in(select(plans.c.match_id)),
        )
        .order_by(relationships.c.match_id)
    )
    return list(rows.scalars())


async def slot_of_session(session: AsyncSession, session_id: str) -> tuple[Plan, PlanSlot] | None:
    """The plan and the slot a session was booked from, if it was."""
    match_id = (
        await session.execute(select(plan_slots.c.match_id).where(plan_slots.c.session_id == session_id))
    ).scalar()
    plan = await get_plan(session, match_id) if match_id is not None else None
    if plan is None:
        return None
    return plan, next(slot for slot in plan.slots if slot.session_id == session_id)
