"""Handlers of the session service, and at the end the one map from every command (gRPC requests and
matching events alike) to its handler.

Each handler runs inside the unit of work it is given (one database transaction): load through the
store, decide in the domain, persist, and publish the resulting events through the outbox in the same
transaction, so a change and its events commit or vanish together. Counters are incremented only once
that transaction commits: a consumer batch may be rolled back and applied again.

A request's handler looks up in the caller's tenant only, and checks the caller against the relationship
it loads (``permissions``) before it reads or changes anything of it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.session import metrics
from services.session.adapters import (
    erasure_store,
    goal_store,
    health_store,
    outcome_store,
    plan_store,
    program_store,
    review_store,
    store,
)
from services.session.adapters.publishing import publish
from services.session.domain import events, model
from services.session.domain.calendar import render_icalendar
from services.session.domain.model import (
    CancellationCause,
    Feedback,
    Goal,
    GoalProgress,
    Relationship,
    Session,
)
from services.session.service_layer import (
    commands,
    health_handlers,
    lookups,
    outcome_handlers,
    permissions,
    plan_handlers,
)
from services.shared.auth import Principal
from services.shared.errors import InvalidArgument, NotFound
from services.shared.ids import require_id
from services.shared.logging import get_logger
from services.shared.messagebus import Command, Handler
from services.shared.outbox import forget_subjects
from services.shared.paging import Page, decode_token, encode_token, page_size
from services.shared.unit_of_work import after_commit

MAX_EXPORTED_SESSIONS: Final = 1000
MAX_END_REASON: Final = 64

log = get_logger(__name__)


def _nothing() -> None:
    return None


_now = lookups.now_or
_relationship = lookups.relationship_in
_member_of = lookups.member_of


async def _session_of_member(
    uow: AsyncSession, caller: Principal, session_id: str
) -> tuple[Session, Relationship]:
    """The session and its relationship, if the caller is one of the relationship's members."""
    tenant = permissions.tenant_of(caller)
    found = await store.get_session(uow, require_id(session_id, "session_id"), tenant=tenant)
    if found is None:
        raise NotFound("session", session_id)
    relationship = await _relationship(uow, tenant, found.match_id)
    permissions.require_member(caller, relationship)
    return found, relationship


# ---- from matching events ----


async def activate_relationship(
    uow: AsyncSession, command: commands.ActivateRelationship, now: datetime | None = None
) -> bool:
    """Open (or refresh the participants of) a relationship; False if it had ended: ENDED is final. A
    new relationship starts with the goals its mentees declared at enrolment, and with a cadence plan
    when its program's cadence is known."""
    activated = Relationship.activated(
        command.match_id, command.program_id, command.mentor_id, command.mentee_ids, command.tenant
    )
    existing = await store.get_relationship(uow, activated.match_id, tenant=None)
    if existing is not None and not existing.is_active:
        after_commit(uow, metrics.RELATIONSHIPS.labels("stale").inc)
        log.info("stale_activation_ignored", match_id=activated.match_id)
        return False
    moment = _now(now)
    await store.save_relationship(uow, activated, moment)
    if existing is None:
        declared = [
            (mentee, await goal_store.enrolment_goals_of(uow, activated.program_id, mentee))
            for mentee in activated.mentee_ids
        ]
        for goal in model.carried_goals(activated.match_id, declared):
            await store.save_goal(uow, goal, moment)
        await health_store.started(uow, activated.match_id, moment)
        program = await program_store.get_program(uow, activated.program_id, activated.tenant)
        await plan_handlers.propose_for(uow, activated, program, moment)
    after_commit(uow, metrics.RELATIONSHIPS.labels("activated").inc)
    return True


async def end_relationship(
    uow: AsyncSession, command: commands.EndRelationship, now: datetime | None = None
) -> list[Session]:
    """End the relationship and cancel its sessions still to come; returns those sessions.

    An end for a relationship never seen is recorded too, so that a late activation cannot open it.
    """
    moment = _now(now)
    reason = command.reason.strip()[:MAX_END_REASON]
    existing = await store.get_relationship(uow, require_id(command.match_id, "match.match_id"), tenant=None)
    if existing is None:
        ended = Relationship.activated(
            command.match_id, command.program_id, command.mentor_id, command.mentee_ids, command.tenant
        ).end(reason)
        await store.save_relationship(uow, ended, moment)
        await outcome_store.record_ending(uow, ended.match_id, command.cause, moment)
        after_commit(uow, metrics.RELATIONSHIPS.labels("ended").inc)
        return []
    if not existing.is_active:
        return []
    ended = existing.end(reason)
    await store.save_relationship(uow, ended, moment)
    await outcome_store.record_ending(uow, ended.match_id, command.cause, moment)
    cancelled = model.sessions_to_cancel_on_end(
        await store.scheduled_sessions_from(uow, ended.match_id, moment), moment
    )
    for session in cancelled:
        await store.update_session(uow, session, moment)
    await publish(
        uow,
        [
            events.SessionCancelled(ended.tenant, session, CancellationCause.MATCH_ENDED)
            for session in cancelled
        ],
    )
    after_commit(uow, metrics.RELATIONSHIPS.labels("ended").inc)
    cancelled_count = len(cancelled)
    by_end = metrics.SESSIONS_CANCELLED.labels(CancellationCause.MATCH_ENDED.value)
    after_commit(uow, lambda: by_end.inc(cancelled_count))
    return cancelled


# ---- from enrollment events ----


async def remember_program(
    uow: AsyncSession, command: commands.RememberProgram, now: datetime | None = None
) -> None:
    """Keep the program's terms; its live relationships that started before it was known are planned."""
    moment = _now(now)
    await program_store.save_program(uow, command.program, moment)
    await plan_handlers.plan_waiting(uow, command.program, moment)


async def remember_enrolment_goals(
    uow: AsyncSession, command: commands.RememberEnrolmentGoals, now: datetime | None = None
) -> None:
    await goal_store.save_enrolment_goals(
        uow, command.program_id, command.employee_id, command.goals, _now(now)
    )


async def erase_employee(
    uow: AsyncSession, command: commands.EraseEmployee, *, on_erased: Callable[[], None] = _nothing
) -> int:
    """Nothing readable about the person stays in their relationships (see ``erasure_store``), nor in
    the outbox rows about those relationships' sessions and goals; ``on_erased`` runs once that has
    committed (the write-ahead log is then emptied: ``services.shared.erasure``)."""
    employee_id = require_id(command.employee_id, "employee_id")
    await goal_store.forget_enrolment_goals(uow, employee_id, command.tenant)
    await plan_store.forget_working_hours(uow, employee_id, command.tenant)
    await review_store.forget_reviews(uow, employee_id, command.tenant)
    erased = await erasure_store.erase_employee(uow, employee_id, command.tenant)
    for tenant, subjects in erased.subjects_by_tenant.items():
        await forget_subjects(uow, tenant, subjects)
    count = len(erased.match_ids)
    after_commit(uow, metrics.ERASURES.inc)
    after_commit(uow, on_erased)
    log.info("employee_erased", relationships=count)
    return count


# ---- sessions ----


async def schedule_session(
    uow: AsyncSession, command: commands.ScheduleSession, now: datetime | None = None
) -> Session:
    """Plan a session, by a member of the relationship; a retry with the same ``request_id`` returns the
    first result and changes nothing."""
    tenant = permissions.tenant_of(command.caller)
    if command.request_id.strip():
        earlier = await store.get_session_by_request(uow, command.request_id.strip())
        if earlier is not None:
            if earlier.match_id != command.match_id.strip():
                raise InvalidArgument("request_id", "was already used for a session of another match")
            await _member_of(uow, command.caller, earlier.match_id)
            return earlier
    moment = _now(now)
    request = model.validate_session_request(
        command.match_id,
        command.starts_at,
        command.duration_minutes,
        command.agenda,
        command.request_id,
        moment,
        command.delivery,
        command.location,
        command.meeting_link,
    )
    relationship = await _member_of(uow, command.caller, request.match_id)
    program = await program_store.get_program(uow, relationship.program_id, tenant)
    nearby = await store.sessions_of_people_overlapping(
        uow,
        relationship.participants,
        request.starts_at,
        request.starts_at + timedelta(minutes=request.duration_minutes),
        tenant=tenant,
    )
    planned = model.plan_session(relationship, request, str(uuid.uuid4()), nearby, program)
    await store.insert_session(uow, planned, moment)
    await publish(uow, [events.SessionScheduled(relationship.tenant, planned)])
    after_commit(uow, metrics.SESSIONS_SCHEDULED.inc)
    after_commit(uow, lambda: metrics.SESSION_PLANNED_SECONDS.observe(planned.duration_minutes * 60))
    return planned


async def complete_session(
    uow: AsyncSession, command: commands.CompleteSession, now: datetime | None = None
) -> Session:
    session, relationship = await _session_of_member(uow, command.caller, command.session_id)
    moment = _now(now)
    done = session.complete(command.notes, moment)
    await store.update_session(uow, done, moment)
    await publish(uow, [events.SessionCompleted(relationship.tenant, done)])
    await health_handlers.reassess(uow, relationship.match_id, moment)
    after_commit(uow, metrics.SESSIONS_COMPLETED.inc)
    return done


async def cancel_session(
    uow: AsyncSession, command: commands.CancelSession, now: datetime | None = None
) -> Session:
    session, relationship = await _session_of_member(uow, command.caller, command.session_id)
    cancelled = session.cancel(command.reason)
    moment = _now(now)
    await store.update_session(uow, cancelled, moment)
    await plan_handlers.session_cancelled(uow, cancelled.session_id, moment)
    await publish(uow, [events.SessionCancelled(relationship.tenant, cancelled, CancellationCause.REQUESTED)])
    after_commit(uow, metrics.SESSIONS_CANCELLED.labels(CancellationCause.REQUESTED.value).inc)
    return cancelled


def _scope(match_id: str, employee_id: str) -> tuple[str, str]:
    match, employee = match_id.strip(), employee_id.strip()
    if match and employee:
        raise InvalidArgument("employee_id", "give match_id or employee_id, not both")
    if not match and not employee:
        raise InvalidArgument("match_id", "give match_id or employee_id")
    return match, employee


async def list_sessions(uow: AsyncSession, command: commands.ListSessions) -> Page[Session]:
    """A page of sessions: whole for the relationship's members; times and statuses only (their words
    redacted) for HR and the program's managers."""
    match_id, employee_id = _scope(command.match_id, command.employee_id)
    limit = page_size(command.page_size)
    key = decode_token("sessions", command.page_token, 2)
    after = (_parse_instant(key[0]), key[1]) if key is not None else None
    tenant = permissions.tenant_of(command.caller)
    if match_id:
        relationship = await _relationship(uow, tenant, match_id)
        program = await program_store.get_program(uow, relationship.program_id, tenant)
        redacted = permissions.redacts_sessions_of(command.caller, relationship, program)
    else:
        employee_id, redacted = permissions.sessions_of_person(command.caller, employee_id)
    items, total = await store.list_sessions(uow, tenant, match_id, employee_id, limit + 1, after)
    if redacted:
        items = [session.redacted() for session in items]
    next_token = ""
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_token = encode_token("sessions", [last.starts_at.isoformat(), last.session_id])
    return Page(items=items, next_page_token=next_token, total_size=total)


async def export_calendar(
    uow: AsyncSession, command: commands.ExportCalendar, now: datetime | None = None
) -> str:
    """The calendar of the caller's own sessions: of one of their relationships, or of all of them."""
    match_id, employee_id = _scope(command.match_id, command.employee_id)
    tenant = permissions.tenant_of(command.caller)
    if match_id:
        permissions.require_reader(command.caller, await _relationship(uow, tenant, match_id))
    else:
        employee_id = permissions.own(command.caller, employee_id)
    sessions = await store.all_sessions(uow, tenant, match_id, employee_id, MAX_EXPORTED_SESSIONS)
    # A read commits nothing, so there is no commit to wait for: the export is served.
    metrics.CALENDAR_EXPORTS.inc()
    return render_icalendar(sessions, _now(now))


# ---- goals ----


async def set_goal(uow: AsyncSession, command: commands.SetGoal, now: datetime | None = None) -> Goal:
    """Create a goal (a new id when none is given) or replace the goal of that id."""
    goal = model.validate_goal(
        command.match_id,
        command.goal_id.strip() or str(uuid.uuid4()),
        command.what,
        command.metric,
        command.target,
        command.due,
        command.skill_tags,
    )
    relationship = await _member_of(uow, command.caller, goal.match_id)
    relationship.require_active()
    await store.save_goal(uow, goal, _now(now))
    return goal


async def record_goal_progress(
    uow: AsyncSession, command: commands.RecordGoalProgress, now: datetime | None = None
) -> GoalProgress:
    """A check-in by a member of the relationship: its author is the caller, always."""
    match_id = require_id(command.match_id, "match_id")
    goal_id = require_id(command.goal_id, "goal_id")
    author = permissions.own(command.caller, command.employee_id)
    relationship = await _member_of(uow, command.caller, match_id)
    goal = await store.get_goal(uow, match_id, goal_id)
    if goal is None:
        raise NotFound("goal", goal_id)
    progress = model.record_progress(relationship, goal, command.progress, command.note, _now(now), author)
    await store.insert_progress(uow, progress)
    await publish(uow, [events.GoalProgressRecorded(relationship.tenant, progress)])
    after_commit(uow, metrics.GOAL_PROGRESS.inc)
    return progress


async def list_goals(uow: AsyncSession, command: commands.ListGoals) -> commands.GoalsPage:
    match_id = require_id(command.match_id, "match_id")
    limit = page_size(command.page_size)
    key = decode_token("goals", command.page_token, 1)
    relationship = await _relationship(uow, permissions.tenant_of(command.caller), match_id)
    # Goals and their progress are what the relationship says: HR sees none of it.
    permissions.require_reader(command.caller, relationship)
    goals, total = await store.list_goals(uow, match_id, limit + 1, key[0] if key else None)
    next_token = ""
    if len(goals) > limit:
        goals = goals[:limit]
        next_token = encode_token("goals", [goals[-1].goal_id])
    goal_ids = [goal.goal_id for goal in goals]
    return commands.GoalsPage(
        goals=goals,
        progress=await store.latest_progress(uow, match_id, goal_ids),
        next_page_token=next_token,
        total_size=total,
        check_ins=await goal_store.check_ins(uow, match_id, goal_ids),
    )


# ---- feedback ----


async def submit_feedback(
    uow: AsyncSession, command: commands.SubmitFeedback, now: datetime | None = None
) -> Feedback:
    """Feedback on a session, by a member of its relationship: its author is the caller."""
    author, rating, comment = model.validate_feedback(command.employee_id, command.rating, command.comment)
    author = permissions.own(command.caller, author)
    relationship = await _member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    session, _ = await _session_of_member(uow, command.caller, command.session_id)
    given = model.give_feedback(
        relationship,
        session,
        author,
        rating,
        comment,
        feedback_id=str(uuid.uuid4()),
        already_given=await store.feedback_exists(uow, session.session_id, author),
    )
    moment = _now(now)
    await store.insert_feedback(uow, given, moment)
    await publish(uow, [events.FeedbackSubmitted(relationship.tenant, given)])
    await health_handlers.reassess(uow, relationship.match_id, moment)
    after_commit(uow, metrics.FEEDBACK.labels(given.by.value, str(given.rating)).inc)
    return given


def _parse_instant(text: str) -> datetime:
    try:
        return model.require_aware(datetime.fromisoformat(text), "page_token")
    except ValueError as exc:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from exc


def handler_map(on_erased: Callable[[], None] = _nothing) -> dict[type[Command[Any]], Handler]:
    """Every command and event the session service reacts to, and its handler; ``on_erased`` runs once
    an erasure has committed."""
    return {
        # matching.events.v1: MatchActivated, MatchEnded (entrypoints/consumers.py)
        commands.ActivateRelationship: activate_relationship,
        commands.EndRelationship: end_relationship,
        # enrollment.events.v1: ProgramCreated, ProgramUpdated, ParticipantEnrolled, ParticipantUpdated,
        # EmployeeErased
        commands.RememberProgram: remember_program,
        commands.RememberEnrolmentGoals: remember_enrolment_goals,
        commands.EraseEmployee: partial(erase_employee, on_erased=on_erased),
        # mentoring.v1.SessionService (entrypoints/grpc_servicer.py)
        commands.ScheduleSession: schedule_session,
        commands.CompleteSession: complete_session,
        commands.CancelSession: cancel_session,
        commands.ListSessions: list_sessions,
        commands.ExportCalendar: export_calendar,
        commands.SetGoal: set_goal,
        commands.RecordGoalProgress: record_goal_progress,
        commands.ListGoals: list_goals,
        commands.SubmitFeedback: submit_feedback,
        # enrollment.events.v1 (working hours) and mentoring.v1.SessionService (plans)
        **plan_handlers.HANDLERS,
        # the health job (bootstrap) and mentoring.v1.SessionService
        **health_handlers.HANDLERS,
        **outcome_handlers.HANDLERS,
    }
