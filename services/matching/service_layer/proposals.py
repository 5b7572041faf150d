"""Proposals: matches built from the engine's and stored with their MatchProposed events in the
caller's unit of work; the engine's incremental proposal for one mentee; rematches of mentees left
without a partner."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import metrics
from services.matching.adapters import match_store, pool_store, seat_store
from services.matching.adapters.publishing import publish_proposals
from services.matching.domain import Match, Participant, ProgramFormat, Role, propose_for_late_mentee
from services.matching.domain.engine_input import Workload, engine_participant
from services.matching.domain.enrollments import Enrollment
from services.matching.domain.lifecycle import MatchRecord, Member, Origin
from services.matching.service_layer.policy import Policy
from services.matching.service_layer.views import ProgramView, load_view, mentee_side
from services.shared.errors import DomainError
from services.shared.logging import get_logger
from services.shared.unit_of_work import after_commit

log = get_logger(__name__)

# Mentors tried in turn when the best one's seats across programs were taken meanwhile.
MAX_SEAT_ATTEMPTS: Final = 3
CAPACITY_EXHAUSTED: Final = "capacity_exhausted"


def new_id() -> str:
    return uuid.uuid4().hex


def record_for(
    view: ProgramView,
    mentor: Enrollment | None,
    mentor_employee_id: str,
    mentees: Sequence[Enrollment],
    score: float,
    breakdown: dict[str, float],
    *,
    origin: Origin,
    now: datetime,
    policy: Policy,
    skill_area: str = "",
    run_id: str = "",
    speed_round: int = 0,
) -> MatchRecord:
    return MatchRecord(
        match_id=new_id(),
        program_id=view.program.program_id,
        tenant=view.program.tenant,
        format=str(view.format),
        mentor_enrollment_id=mentor.enrollment_id if mentor is not None else "",
        mentor_employee_id=mentor_employee_id,
        members=[Member(p.enrollment_id, p.employee_id) for p in mentees],
        score=score,
        breakdown=breakdown,
        proposed_at=now,
        respond_by=now + view.response_window(policy),
        origin=origin,
        skill_area=skill_area,
        run_id=run_id,
        speed_round=speed_round,
        updated_at=now,
    )


def records_from_matches(
    view: ProgramView,
    matches: Sequence[Match],
    *,
    origin: Origin,
    now: datetime,
    policy: Policy,
    run_id: str = "",
) -> list[MatchRecord]:
    """Stored matches for engine matches: one per pair, or one per group (its mean score and breakdown)."""
    people = view.by_enrollment
    groups: dict[str, list[Match]] = defaultdict(list)
    singles: list[Match] = []
    for match in matches:
        if match.group_id is not None:
            groups[match.group_id].append(match)
        else:
            singles.append(match)
    records: list[MatchRecord] = []
    for match in singles:
        mentor = people[match.mentor_id]
        records.append(
            record_for(
                view,
                mentor,
                mentor.employee_id,
                [people[match.mentee_id]],
                match.score,
                dict(match.breakdown),
                origin=origin,
                now=now,
                policy=policy,
                skill_area=match.skill_area or "",
                run_id=run_id,
                speed_round=match.round_index + 1 if match.round_index is not None else 0,
            )
        )
    for members in groups.values():
        mentor = people[members[0].mentor_id]
        size = len(members)
        breakdown: dict[str, float] = defaultdict(float)
        for member in members:
            for name, points in member.breakdown.items():
                breakdown[name] += points / size
        records.append(
            record_for(
                view,
                mentor,
                mentor.employee_id,
                [people[member.mentee_id] for member in members],
                sum(member.score for member in members) / size,
                dict(breakdown),
                origin=origin,
                now=now,
                policy=policy,
                run_id=run_id,
            )
        )
    return records


async def take_seats(
    session: AsyncSession, view: ProgramView, records: Sequence[MatchRecord]
) -> tuple[list[MatchRecord], list[MatchRecord]]:
    """Take each proposal's seats of its mentor's cap across programs, in the caller's transaction (see
    ``seat_store``): the proposals whose seats were taken, and those that lost them to a concurrent
    writer (or never had them: the caller's view was stale)."""
    lost: list[MatchRecord] = []
    caps = dict(view.caps)
    missing = {
        r.mentor_employee_id for r in records if seat_store.seats_of(r) and r.mentor_employee_id not in caps
    }
    if missing:
        caps.update(await pool_store.person_caps(session, view.program.tenant, missing))
    # In employee-id order: concurrent writers lock the same rows in the same order (no deadlock).
    for record in sorted(records, key=lambda r: r.mentor_employee_id):
        seats = seat_store.seats_of(record)
        cap = caps.get(record.mentor_employee_id)
        if not await seat_store.take(session, record.tenant, record.mentor_employee_id, seats, cap):
            lost.append(record)
    gone = {record.match_id for record in lost}
    kept = [record for record in records if record.match_id not in gone]
    if lost:
        count = len(lost)
        after_commit(session, lambda: metrics.SEATS_LOST.inc(count))
    return kept, lost


async def store_proposals(
    session: AsyncSession, view: ProgramView, records: Sequence[MatchRecord], now: datetime
) -> list[MatchRecord]:
    """Take the proposals' seats, insert those that got them and stage their MatchProposed events,
    all in the caller's unit of work; count them once committed. Returns the proposals not stored: their
    mentor's cap across programs is full (taken by a concurrent writer)."""
    if not records:
        return []
    records, lost = await take_seats(session, view, records)
    if not records:
        return lost
    members = [member for record in records for member in record.members]
    proposed_before = await match_store.employees_with_matches(
        session, view.program.program_id, [member.employee_id for member in members]
    )
    enrolled = await pool_store.enrolled_at(session, [member.enrollment_id for member in members])
    waits = [
        (now - enrolled[member.enrollment_id]).total_seconds()
        for member in members
        if member.enrollment_id in enrolled and member.employee_id not in proposed_before
    ]
    await match_store.insert_matches(session, records)
    await publish_proposals(session, records)
    origins = [str(record.origin) for record in records]

    def count() -> None:
        for origin in origins:
            metrics.PROPOSALS.labels(origin).inc()
        for wait in waits:
            metrics.TIME_TO_MATCH.observe(max(wait, 0.0))

    after_commit(session, count)
    return lost


async def refresh_pending(session: AsyncSession) -> None:
    pending = await match_store.count_pending(session)
    after_commit(session, lambda: metrics.PENDING_PROPOSALS.set(pending))


async def propose_one(
    session: AsyncSession,
    view: ProgramView,
    mentee: Enrollment,
    *,
    origin: Origin,
    now: datetime,
    policy: Policy,
    exclude: Collection[str] = (),
) -> MatchRecord | None:
    """The engine's incremental proposal for one mentee (peer), without re-solving the pool: the best
    mentor with room, other than the employees in ``exclude``. Stored and published; None when there is
    no feasible mentor (the reason is counted and logged by code). A mentor whose seats across programs
    turn out taken (a concurrent writer elsewhere) is left out and the next best tried."""
    excluded = set(exclude)
    for _attempt in range(MAX_SEAT_ATTEMPTS):
        record = _incremental_record(
            session, view, mentee, origin=origin, now=now, policy=policy, exclude=excluded
        )
        if record is None:
            return None
        if not await store_proposals(session, view, [record], now):
            _note_load(view, record)
            after_commit(session, lambda: metrics.LATE_PROPOSALS.labels("proposed").inc())
            return record
        excluded.add(record.mentor_employee_id)
    after_commit(session, lambda: metrics.LATE_PROPOSALS.labels(CAPACITY_EXHAUSTED).inc())
    return None


def _incremental_record(
    session: AsyncSession,
    view: ProgramView,
    mentee: Enrollment,
    *,
    origin: Origin,
    now: datetime,
    policy: Policy,
    exclude: Collection[str],
) -> MatchRecord | None:
    role = mentee.role
    if role is None or view.format is ProgramFormat.SPEED:
        return None
    engine_mentee = engine_participant(
        mentee,
        view.program,
        past_partner_ids=view.partners.get(mentee.employee_id, ()),
        declined_partner_ids=view.declined_of(mentee.employee_id),
    )
    counterpart = Role.PEER if view.format is ProgramFormat.PEER else Role.MENTOR
    candidates: list[Participant] = []
    loads: dict[str, int] = {}
    seen: set[str] = set()
    for person in view.active:
        if (
            person.role is not counterpart
            or person.employee_id in exclude
            or person.employee_id == mentee.employee_id
            or person.employee_id in seen
            or (counterpart is Role.PEER and person.employee_id in view.live)
        ):
            continue
        seen.add(person.employee_id)
        workload = view.workload(person.employee_id)
        candidates.append(
            engine_participant(
                person,
                view.program,
                workload=workload,
                deduct_load_here=False,
                past_partner_ids=view.partners.get(person.employee_id, ()),
                declined_partner_ids=view.declined_of(person.employee_id),
                global_cap=view.cap_of(person.employee_id),
            )
        )
        loads[person.enrollment_id] = workload.here
    proposal = propose_for_late_mentee(
        engine_mentee, candidates, view.settings, mentor_loads=loads, alternatives=0
    )
    if proposal.match is None:
        code = str(proposal.reason.code) if proposal.reason is not None else "none"
        log.info("no_incremental_proposal", program_id=view.program.program_id, reason=code)
        after_commit(session, lambda: metrics.LATE_PROPOSALS.labels(code).inc())
        return None
    match = proposal.match
    mentor = view.by_enrollment[match.mentor_id]
    return record_for(
        view,
        mentor,
        mentor.employee_id,
        [mentee],
        match.score,
        dict(match.breakdown),
        origin=origin,
        now=now,
        policy=policy,
    )


def _note_load(view: ProgramView, record: MatchRecord) -> None:
    """Keep the view in step with a proposal just made, for the next proposal in the same unit of work."""
    load = view.loads.get(record.mentor_employee_id, Workload())
    view.loads[record.mentor_employee_id] = Workload(load.here + len(record.mentees), load.elsewhere)
    for member in record.mentees:
        view.live.setdefault(member.employee_id, set()).add(record.skill_area)
    if view.format is ProgramFormat.PEER:
        view.live.setdefault(record.mentor_employee_id, set()).add(record.skill_area)


async def rematch(
    session: AsyncSession,
    program_id: str,
    mentee_employee_ids: Iterable[str],
    *,
    now: datetime,
    policy: Policy,
    origin: Origin = Origin.REMATCH,
) -> list[MatchRecord]:
    """New proposals for mentees left without a partner, never with a mentor they already had here.

    A follow-up, not the change itself: it runs in a savepoint, and a program the engine refuses (e.g.
    a reverse program without its skill) leaves the mentees in the pool instead of failing the caller.
    """
    wanted = list(dict.fromkeys(employee for employee in mentee_employee_ids if employee))
    if not wanted:
        return []
    try:
        async with session.begin_nested():
            return await _rematch(session, program_id, wanted, now=now, policy=policy, origin=origin)
    except DomainError as error:
        log.warning(
            "rematch_skipped", program_id=program_id, error=type(error).__name__, detail=error.message
        )
        return []


async def _rematch(
    session: AsyncSession,
    program_id: str,
    wanted: list[str],
    *,
    now: datetime,
    policy: Policy,
    origin: Origin,
) -> list[MatchRecord]:
    view = await load_view(session, program_id, policy)
    if view.program.closed:
        return []
    proposals: list[MatchRecord] = []
    for employee_id in wanted:
        mentee = next(
            (
                p
                for p in view.active
                if p.employee_id == employee_id and mentee_side(view, p.role or Role.MENTOR)
            ),
            None,
        )
        if mentee is None or view.is_live(mentee):
            continue
        exclude = await match_store.former_mentors(session, program_id, employee_id)
        record = await propose_one(
            session, view, mentee, origin=origin, now=now, policy=policy, exclude=exclude
        )
        if record is not None:
            proposals.append(record)
    return proposals
