"""Running and previewing matching for a program.

Three steps, so that a solve of many seconds never holds a database transaction (SQLite would lock
every writer meanwhile): read the pool in one unit of work, solve in a worker thread, store in a
second unit of work. The second re-checks each match against fresh data (a mentee matched meanwhile,
a manager change, a mentor's seats taken by a late proposal) and leaves out what no longer holds,
with the reason ``changed_during_run``. A run is idempotent by its request id: the same id returns the
stored result and proposes nothing again.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from mentoring.v1 import common_pb2, matching_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import metrics
from services.matching.adapters import pool_store, run_store
from services.matching.adapters.translate import (
    ROLES,
    engine_participant,
    match_to_wire,
    quality_to_wire,
    unmatched_to_wire,
)
from services.matching.domain import (
    HardRule,
    Match,
    MatchingResult,
    Pool,
    ProgramFormat,
    check_pair,
    solve,
)
from services.matching.domain.lifecycle import Origin
from services.matching.service_layer.context import (
    Policy,
    ProgramView,
    load_view,
    new_id,
    records_from_matches,
    refresh_pending,
    require_open,
    solve_pool,
    store_proposals,
)
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, InvalidArgument
from services.shared.unit_of_work import after_commit

CHANGED_DURING_RUN = "changed_during_run"
MAX_REQUEST_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PreparedRun:
    view: ProgramView
    pool: Pool
    replay: matching_pb2.MatchingRun | None = None  # the stored result of the same request id


def _now() -> datetime:
    return datetime.now(UTC)


async def prepare_run(
    session: AsyncSession, program_id: str, request_id: str, *, dry_run: bool, policy: Policy
) -> PreparedRun:
    """The pool to solve, or the stored result of an earlier run with the same request id."""
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument("request_id", f"at most {MAX_REQUEST_ID_LENGTH} characters")
    view = await load_view(session, program_id, policy)
    if not dry_run:
        earlier = await run_store.find_run(session, program_id, request_id) if request_id else None
        if earlier is not None:
            return PreparedRun(view, Pool(()), matching_pb2.MatchingRun.FromString(earlier))
        require_open(view.program)
        if view.program.matching_mode == common_pb2.MATCHING_MODE_HR_MANUAL:
            raise FailedPrecondition(
                "hr_manual_program", "this program is matched by HR: preview suggestions, then match manually"
            )
    return PreparedRun(view, solve_pool(view))


def preview_result(prepared: PreparedRun, result: MatchingResult, policy: Policy) -> matching_pb2.MatchingRun:
    """A dry run: the matches the solver would propose, with no id and no status; nothing stored."""
    now = _now()
    records = records_from_matches(
        prepared.view, result.matches, origin=Origin.SOLVER, now=now, policy=policy
    )
    wire = []
    for record in records:
        message = match_to_wire(record)
        message.match_id = ""
        message.status = common_pb2.MATCH_STATUS_UNSPECIFIED
        message.ClearField("proposed_at")
        message.ClearField("respond_by")
        wire.append(message)
    _count_run(prepared.view, result, "dry_run", stored=False)
    return matching_pb2.MatchingRun(
        program_id=prepared.view.program.program_id,
        matches=wire,
        unmatched=[unmatched_to_wire(item) for item in result.unmatched],
        quality=quality_to_wire(result.quality),
        dry_run=True,
    )


async def store_run(
    session: AsyncSession,
    prepared: PreparedRun,
    result: MatchingResult,
    request_id: str,
    *,
    policy: Policy,
    now: datetime,
) -> matching_pb2.MatchingRun:
    """Store the run's proposals (re-checked against fresh data) and its result, in one unit of work."""
    program_id = prepared.view.program.program_id
    await pool_store.lock_program(session, program_id)
    if request_id:
        earlier = await run_store.find_run(session, program_id, request_id)
        if earlier is not None:  # a concurrent call with the same request id got there first
            return matching_pb2.MatchingRun.FromString(earlier)
    fresh = await load_view(session, program_id, policy)
    require_open(fresh.program)
    kept, dropped = _still_valid(prepared.view, fresh, result.matches)
    run_id = new_id()
    records = records_from_matches(fresh, kept, origin=Origin.SOLVER, now=now, policy=policy, run_id=run_id)
    await store_proposals(session, fresh, records, now)
    unmatched = [unmatched_to_wire(item) for item in result.unmatched]
    unmatched.extend(
        common_pb2.UnmatchedParticipant(
            enrollment_id=mentee_id,
            reason_code=CHANGED_DURING_RUN,
            reason="the pool changed while the solver ran (matched meanwhile, or a hard rule now fails); "
            "the next run or an incremental proposal will place this participant",
        )
        for mentee_id in dict.fromkeys(match.mentee_id for match in dropped)
    )
    run = matching_pb2.MatchingRun(
        run_id=run_id,
        program_id=program_id,
        matches=[match_to_wire(record) for record in records],
        unmatched=unmatched,
        quality=quality_to_wire(result.quality),
        dry_run=False,
    )
    await run_store.save_run(session, run_id, program_id, request_id, run.SerializeToString(), now)
    await refresh_pending(session)
    after_commit(session, lambda: _count_run(fresh, result, "completed", stored=True, changed=len(dropped)))
    return run


def _still_valid(
    snapshot: ProgramView, fresh: ProgramView, matches: tuple[Match, ...]
) -> tuple[list[Match], list[Match]]:
    """Matches that still hold on fresh data, and those that do not."""
    kept: list[Match] = []
    dropped: list[Match] = []
    taken: dict[str, int] = defaultdict(int)  # seats of each mentor this run takes
    peers_taken: set[str] = set()
    for match in matches:
        mentor = fresh.by_enrollment.get(match.mentor_id)
        mentee = fresh.by_enrollment.get(match.mentee_id)
        if mentor is None or mentee is None or fresh.is_live(mentee, match.skill_area or ""):
            dropped.append(match)
            continue
        if fresh.format is ProgramFormat.PEER and (
            fresh.is_live(mentor) or {mentor.employee_id, mentee.employee_id} & peers_taken
        ):
            dropped.append(match)
            continue
        engine_mentor = engine_participant(
            mentor, fresh.program, workload=fresh.workload(mentor.employee_id), role=ROLES.get(mentor.role)
        )
        engine_mentee = engine_participant(mentee, fresh.program)
        violations = [
            rule
            for rule in check_pair(engine_mentor, engine_mentee, fresh.settings)
            if rule != HardRule.CAPACITY
        ]
        seats_gone = fresh.workload(mentor.employee_id).here - snapshot.workload(mentor.employee_id).here
        capacity_ok = fresh.format is ProgramFormat.SPEED or (
            taken[mentor.employee_id] + max(seats_gone, 0) < _seats(snapshot, mentor)
        )
        if violations or not capacity_ok:
            dropped.append(match)
            continue
        taken[mentor.employee_id] += 1
        if fresh.format is ProgramFormat.PEER:
            peers_taken.update((mentor.employee_id, mentee.employee_id))
        kept.append(match)
    return kept, dropped


def _seats(view: ProgramView, mentor: common_pb2.Participant) -> int:
    """Seats the mentor had free when the pool was read (what the solver was allowed to fill)."""
    engine_mentor = engine_participant(mentor, view.program, workload=view.workload(mentor.employee_id))
    return engine_mentor.remaining_capacity


def _count_run(
    view: ProgramView, result: MatchingResult, outcome: str, *, stored: bool, changed: int = 0
) -> None:
    format_name = str(view.format)
    metrics.RUNS.labels(format_name, outcome).inc()
    metrics.SOLVE_SECONDS.labels(format_name, result.quality.solver).observe(result.quality.solve_seconds)
    if not stored:
        return
    metrics.LAST_RUN_MATCHED.labels(format_name).set(result.quality.matched)
    metrics.LAST_RUN_UNMATCHED.labels(format_name).set(len(result.unmatched) + changed)
    for code, count in Counter(str(item.code) for item in result.unmatched).items():
        metrics.UNMATCHED.labels(format_name, code).inc(count)
    if changed:
        metrics.UNMATCHED.labels(format_name, CHANGED_DURING_RUN).inc(changed)


async def run_matching(
    database: Database,
    program_id: str,
    request_id: str,
    *,
    dry_run: bool,
    policy: Policy,
) -> matching_pb2.MatchingRun:
    """RunMatching (``dry_run`` False) and PreviewMatching (True)."""
    request_id = request_id.strip()
    async with database.transaction() as session:
        prepared = await prepare_run(session, program_id, request_id, dry_run=dry_run, policy=policy)
    format_name = str(prepared.view.format)
    if prepared.replay is not None:
        metrics.RUNS.labels(format_name, "replayed").inc()
        return prepared.replay
    try:
        result = await asyncio.to_thread(solve, prepared.pool, prepared.view.settings)
    except Exception:
        metrics.RUNS.labels(format_name, "failed").inc()
        raise
    if dry_run:
        return preview_result(prepared, result, policy)
    async with database.transaction() as session:
        return await store_run(session, prepared, result, request_id, policy=policy, now=_now())
