"""Running and previewing matching for a program.

Three steps, so that a solve of many seconds never holds a database transaction (SQLite would lock
every writer meanwhile): read the pool in one unit of work, solve in a worker process, store in a
second unit of work. The second re-checks each match against fresh data (a mentee matched meanwhile,
a manager change, a mentor's seats taken by a late proposal) and leaves out what no longer holds,
with the reason ``changed_during_run``. A run is idempotent by its request id: the same id returns the
stored result and proposes nothing again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import metrics
from services.matching.adapters import pool_store, run_store
from services.matching.domain import HardRule, Match, MatchingResult, Pool, ProgramFormat, check_pair, solve
from services.matching.domain.engine_input import engine_participant
from services.matching.domain.enrollments import Enrollment, MatchingMode
from services.matching.domain.lifecycle import Origin
from services.matching.domain.runs import CHANGED_DURING_RUN, RunReport, StoredRun
from services.matching.service_layer import callers
from services.matching.service_layer.commands import PreviewMatching, RunMatching
from services.matching.service_layer.policy import Policy
from services.matching.service_layer.proposals import (
    new_id,
    records_from_matches,
    refresh_pending,
    store_proposals,
)
from services.matching.service_layer.views import ProgramView, load_view, require_open, solve_pool
from services.shared import worker_process
from services.shared.access import tenant_of
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, InvalidArgument
from services.shared.unit_of_work import after_commit

MAX_REQUEST_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PreparedRun:
    view: ProgramView
    pool: Pool
    replay: StoredRun | None = None  # the stored result of the same request id


def _now() -> datetime:
    return datetime.now(UTC)


async def prepare_run(
    session: AsyncSession,
    caller: Principal,
    program_id: str,
    request_id: str,
    *,
    dry_run: bool,
    policy: Policy,
) -> PreparedRun:
    """The pool to solve, or the stored result of an earlier run with the same request id. The caller
    runs the program (HR, or one of its managers), which is one of their tenant."""
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument("request_id", f"at most {MAX_REQUEST_ID_LENGTH} characters")
    await callers.program_run_by(session, caller, program_id)
    view = await load_view(session, program_id, policy, tenant=tenant_of(caller))
    if not dry_run:
        earlier = await run_store.find_run(session, program_id, request_id) if request_id else None
        if earlier is not None:
            return PreparedRun(view, Pool(()), earlier)
        require_open(view.program)
        if view.program.matching_mode is MatchingMode.HR_MANUAL:
            raise FailedPrecondition(
                "hr_manual_program", "this program is matched by HR: preview suggestions, then match manually"
            )
    return PreparedRun(view, solve_pool(view))


def preview_result(prepared: PreparedRun, result: MatchingResult, policy: Policy) -> RunReport:
    """A dry run: the matches the solver would propose; nothing stored."""
    records = records_from_matches(
        prepared.view, result.matches, origin=Origin.SOLVER, now=_now(), policy=policy
    )
    _count_run(prepared.view, result, "dry_run", stored=False)
    return RunReport(
        program_id=prepared.view.program.program_id,
        matches=tuple(records),
        unmatched=result.unmatched,
        quality=result.quality,
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
) -> RunReport | StoredRun:
    """Store the run's proposals (re-checked against fresh data) and its result, in one unit of work."""
    program_id = prepared.view.program.program_id
    await pool_store.lock_program(session, program_id)
    if request_id:
        earlier = await run_store.find_run(session, program_id, request_id)
        if earlier is not None:  # a concurrent call with the same request id got there first
            return earlier
    fresh = await load_view(session, program_id, policy)
    require_open(fresh.program)
    kept, dropped = _still_valid(prepared.view, fresh, result.matches)
    run_id = new_id()
    records = records_from_matches(fresh, kept, origin=Origin.SOLVER, now=now, policy=policy, run_id=run_id)
    # Seats across programs are taken here, in the transaction that stores the proposals: a mentor whose
    # last seat a concurrent writer (another program's run, on another instance too) took is not
    # proposed, and the mentee is reported as changed during the run.
    lost = await store_proposals(session, fresh, records, now)
    lost_ids = {record.match_id for record in lost}
    lost_mentees = [m.enrollment_id for record in lost for m in record.members]
    report = RunReport(
        program_id=program_id,
        matches=tuple(record for record in records if record.match_id not in lost_ids),
        unmatched=result.unmatched,
        quality=result.quality,
        run_id=run_id,
        changed_during_run=tuple(dict.fromkeys([*(match.mentee_id for match in dropped), *lost_mentees])),
    )
    await run_store.save_run(session, report, request_id, now)
    await refresh_pending(session)
    changed = len(dropped) + len(lost_mentees)
    after_commit(session, lambda: _count_run(fresh, result, "completed", stored=True, changed=changed))
    return report


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
            mentor,
            fresh.program,
            workload=fresh.workload(mentor.employee_id),
            role=mentor.role,
            declined_partner_ids=fresh.declined_of(mentor.employee_id),
            global_cap=fresh.cap_of(mentor.employee_id),
        )
        engine_mentee = engine_participant(
            mentee, fresh.program, declined_partner_ids=fresh.declined_of(mentee.employee_id)
        )
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


def _seats(view: ProgramView, mentor: Enrollment) -> int:
    """Seats the mentor had free when the pool was read (what the solver was allowed to fill)."""
    engine_mentor = engine_participant(
        mentor,
        view.program,
        workload=view.workload(mentor.employee_id),
        global_cap=view.cap_of(mentor.employee_id),
    )
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


async def _run(
    database: Database,
    caller: Principal,
    program_id: str,
    request_id: str,
    *,
    dry_run: bool,
    policy: Policy,
) -> RunReport | StoredRun:
    request_id = request_id.strip()
    async with database.transaction() as session:
        prepared = await prepare_run(
            session, caller, program_id.strip(), request_id, dry_run=dry_run, policy=policy
        )
    format_name = str(prepared.view.format)
    if prepared.replay is not None:
        metrics.RUNS.labels(format_name, "replayed").inc()
        return prepared.replay
    try:
        # In a child process: off the event loop, memory capped, killed when the caller is gone.
        result = await worker_process.run(
            solve,
            prepared.pool,
            prepared.view.settings,
            memory_limit_bytes=policy.solver_memory_limit_mib * 2**20,
        )
    except Exception:
        metrics.RUNS.labels(format_name, "failed").inc()
        raise
    if dry_run:
        return preview_result(prepared, result, policy)
    async with database.transaction() as session:
        return await store_run(session, prepared, result, request_id, policy=policy, now=_now())


async def run_matching(database: Database, command: RunMatching, *, policy: Policy) -> RunReport | StoredRun:
    """RunMatching: a workflow of two units of work with the solve between them."""
    return await _run(
        database, command.caller, command.program_id, command.request_id, dry_run=False, policy=policy
    )


async def preview_matching(database: Database, command: PreviewMatching, *, policy: Policy) -> RunReport:
    """PreviewMatching: the solve of a run, nothing stored (a request id plays no part)."""
    report = await _run(
        database, command.caller, command.program_id, command.request_id, dry_run=True, policy=policy
    )
    assert isinstance(report, RunReport)  # a preview never replays
    return report
