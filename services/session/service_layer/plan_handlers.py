"""Cadence plans: proposed when a relationship starts, then accepted, moved or skipped slot by slot by its
members (``lookups.member_of``: the caller is the relationship's mentor or a mentee).

A plan keeps to the working hours each person declared at enrolment in the program, on weekdays in
their time zone (09:00-17:00 local when they declared no hours; UTC when their time zone is unknown or
their enrolment has not reached the service), around the sessions and the still-proposed slots of their
other relationships, within the program's cohort."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.session import metrics
from services.session.adapters import plan_store, program_store, store
from services.session.adapters.publishing import publish
from services.session.domain import events, model, plans
from services.session.domain.plan_calendar import render_plan
from services.session.domain.plans import Plan, PlanSlot
from services.session.domain.programs import Delivery, ProgramTerms
from services.session.service_layer import commands
from services.session.service_layer.lookups import member_of, now_or
from services.shared.errors import InvalidArgument, NotFound
from services.shared.ids import require_id
from services.shared.logging import get_logger
from services.shared.messagebus import Command, Handler
from services.shared.unit_of_work import after_commit

# An open-ended program (no cohort end): other people's time is looked at this far ahead.
OPEN_ENDED_HORIZON: Final = timedelta(days=2 * 365)

log = get_logger(__name__)


async def propose_for(
    uow: AsyncSession, relationship: model.Relationship, program: ProgramTerms | None, now: datetime
) -> Plan | None:
    """The plan of a relationship that starts now, stored; None when its program or cadence is not
    known yet, or when its people share no working time in the program's window."""
    if program is None or not program.cadence.known:
        return None
    start = max(now, program.cohort_start) if program.cohort_start is not None else now
    end = program.window_end
    people = await plan_store.working_hours_of(uow, relationship.program_id, relationship.participants)
    busy = await plan_store.busy_of_people(
        uow, relationship.participants, start, end or start + OPEN_ENDED_HORIZON, tenant=relationship.tenant
    )
    plan = plans.propose_plan(relationship.match_id, program.cadence, people, busy, start, end)
    if plan is None:
        log.info("no_plan_proposed", match_id=relationship.match_id)
        return None
    await plan_store.insert_plan(uow, plan, now)
    outcome = "complete" if plan.complete else "partial"
    after_commit(uow, metrics.PLANS_PROPOSED.labels(outcome).inc)
    return plan


async def plan_waiting(uow: AsyncSession, program: ProgramTerms, now: datetime) -> int:
    """The program is known now: its live relationships that started before it was get their plans.
    Returns how many were planned."""
    if not program.cadence.known:
        return 0
    planned = 0
    for match_id in await plan_store.live_relationships_without_plan(uow, program.program_id, program.tenant):
        relationship = await store.get_relationship(uow, match_id, tenant=program.tenant)
        if relationship is not None and await propose_for(uow, relationship, program, now) is not None:
            planned += 1
    return planned


async def session_cancelled(uow: AsyncSession, session_id: str, now: datetime) -> None:
    """A session booked from a slot was cancelled by a member: the slot is proposed again."""
    found = await plan_store.slot_of_session(uow, session_id)
    if found is not None:
        plan, slot = found
        await plan_store.update_slot(uow, plan, plans.release_slot(slot), now)


async def remember_working_hours(
    uow: AsyncSession, command: commands.RememberWorkingHours, now: datetime | None = None
) -> None:
    await plan_store.save_working_hours(
        uow, command.program_id, command.employee_id, command.hours, now_or(now)
    )


async def _plan_of(uow: AsyncSession, match_id: str) -> Plan:
    plan = await plan_store.get_plan(uow, match_id)
    if plan is None:
        raise NotFound("plan", match_id)
    return plan


async def get_plan(uow: AsyncSession, command: commands.GetPlan) -> Plan:
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    return await _plan_of(uow, relationship.match_id)


async def accept_planned_slot(
    uow: AsyncSession, command: commands.AcceptPlannedSlot, now: datetime | None = None
) -> PlanSlot:
    """The slot becomes a scheduled session, under the rules of any session (nobody booked twice,
    within the program, in the future)."""
    moment = now_or(now)
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    relationship.require_active()
    plan = await _plan_of(uow, relationship.match_id)
    accepted = plans.accept_slot(plan.slot(command.index), str(uuid.uuid4()))
    request = model.validate_session_request(
        relationship.match_id,
        accepted.starts_at,
        plan.cadence.session_minutes,
        command.agenda,
        "",
        moment,
        Delivery.UNSPECIFIED,
        command.location,
        command.meeting_link,
    )
    program = await program_store.get_program(uow, relationship.program_id, relationship.tenant)
    nearby = await store.sessions_of_people_overlapping(
        uow,
        relationship.participants,
        request.starts_at,
        request.starts_at + plan.cadence.duration,
        tenant=relationship.tenant,
    )
    booked = model.plan_session(relationship, request, accepted.session_id, nearby, program)
    await store.insert_session(uow, booked, moment)
    await plan_store.update_slot(uow, plan, accepted, moment)
    await publish(uow, [events.SessionScheduled(relationship.tenant, booked)])
    after_commit(uow, metrics.SESSIONS_SCHEDULED.inc)
    after_commit(uow, metrics.PLAN_SLOTS.labels("accepted").inc)
    return accepted


async def move_planned_slot(
    uow: AsyncSession, command: commands.MovePlannedSlot, now: datetime | None = None
) -> PlanSlot:
    """The slot is proposed at another time: in the future, within the program, nobody booked then."""
    moment = now_or(now)
    if command.starts_at is None:
        raise InvalidArgument("starts_at", "is required")
    starts_at = model.require_aware(command.starts_at, "starts_at")
    if starts_at <= moment:
        raise InvalidArgument("starts_at", "must be in the future")
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    relationship.require_active()
    plan = await _plan_of(uow, relationship.match_id)
    moved = plans.move_slot(plan.slot(command.index), starts_at)
    ends_at = starts_at + plan.cadence.duration
    program = await program_store.get_program(uow, relationship.program_id, relationship.tenant)
    if program is not None:
        program.require_within(starts_at, ends_at)
    nearby = await store.sessions_of_people_overlapping(
        uow, relationship.participants, starts_at, ends_at, tenant=relationship.tenant
    )
    model.require_nobody_busy(relationship, starts_at, ends_at, nearby)
    await plan_store.update_slot(uow, plan, moved, moment)
    after_commit(uow, metrics.PLAN_SLOTS.labels("moved").inc)
    return moved


async def skip_planned_slot(
    uow: AsyncSession, command: commands.SkipPlannedSlot, now: datetime | None = None
) -> PlanSlot:
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    relationship.require_active()
    plan = await _plan_of(uow, relationship.match_id)
    skipped = plans.skip_slot(plan.slot(command.index))
    await plan_store.update_slot(uow, plan, skipped, now_or(now))
    after_commit(uow, metrics.PLAN_SLOTS.labels("skipped").inc)
    return skipped


async def export_plan(uow: AsyncSession, command: commands.ExportPlan, now: datetime | None = None) -> str:
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    return render_plan(await _plan_of(uow, relationship.match_id), now_or(now))


HANDLERS: Final[dict[type[Command[Any]], Handler]] = {
    commands.RememberWorkingHours: remember_working_hours,
    commands.GetPlan: get_plan,
    commands.AcceptPlannedSlot: accept_planned_slot,
    commands.MovePlannedSlot: move_planned_slot,
    commands.SkipPlannedSlot: skip_planned_slot,
    commands.ExportPlan: export_plan,
}
