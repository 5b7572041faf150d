"""What enrollment events do to matches (each event applied once, by the inbox, in the consumer's unit
of work):

- a mentee (peer) enrolled late in a program that already ran matching, or one who resumed, gets a
  proposal at once from the engine's incremental proposal: no re-solve of the pool;
- a pause, a withdrawal (a termination among them) and an erasure end the person's live matches and
  free the mentor's seats; mentees left without a mentor get a new proposal;
- a management chain that now makes a live pair boss and report (either way) ends the match with the
  reason ``management_chain``, and the mentee gets a new proposal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import metrics
from services.matching.adapters import match_store, pool_store, run_store
from services.matching.adapters.publishing import publish
from services.matching.domain import Role, lifecycle
from services.matching.domain.enrollments import Enrollment, MatchingMode
from services.matching.domain.lifecycle import EndCause, MatchRecord, Member, Origin, Side, Status
from services.matching.service_layer.policy import Policy
from services.matching.service_layer.proposals import propose_one, refresh_pending, rematch
from services.matching.service_layer.views import load_view
from services.shared.errors import DomainError
from services.shared.logging import get_logger
from services.shared.unit_of_work import after_commit

log = get_logger(__name__)


async def propose_if_late(
    session: AsyncSession, participant: Enrollment, now: datetime, policy: Policy, origin: Origin
) -> MatchRecord | None:
    """A proposal for a mentee (peer) who joins a program after its matching ran."""
    if not participant.active or participant.role not in (Role.MENTEE, Role.PEER):
        return None
    program = await pool_store.load_program(session, participant.program_id)
    if (
        program is None
        or program.closed
        or program.matching_mode is MatchingMode.HR_MANUAL
        or not await run_store.program_has_run(session, participant.program_id)
    ):
        return None
    await pool_store.lock_program(session, participant.program_id)
    try:
        # In a savepoint: the enrolment itself is kept even when the engine refuses the program.
        async with session.begin_nested():
            view = await load_view(session, participant.program_id, policy)
            mentee = view.by_enrollment.get(participant.enrollment_id)
            if mentee is None or view.is_live(mentee):
                return None
            exclude = await match_store.former_mentors(
                session, participant.program_id, participant.employee_id
            )
            record = await propose_one(
                session, view, mentee, origin=origin, now=now, policy=policy, exclude=exclude
            )
    except DomainError as error:
        log.warning("late_proposal_skipped", program_id=participant.program_id, detail=error.message)
        return None
    await refresh_pending(session)
    return record


async def _end(
    session: AsyncSession,
    record: MatchRecord,
    leaving_employee: str,
    cause: EndCause,
    now: datetime,
    scrub: str = "",
) -> list[str]:
    """End (or leave) one live match for ``cause``; returns the mentees who need a new proposal."""
    was_proposed = record.status is Status.PROPOSED
    side = record.side_of(leaving_employee)
    transitions = lifecycle.end_for(record, leaving_employee, cause, now)
    await match_store.update_match(session, record)
    await publish(session, _without(record, scrub) if scrub else record, transitions)
    whole_match_ended = record.status is Status.ENDED
    if whole_match_ended:
        outcome = "withdrawn" if was_proposed else ""

        def count() -> None:
            metrics.MATCHES_ENDED.labels(str(cause)).inc()
            if outcome:
                metrics.PROPOSAL_OUTCOMES.labels(outcome).inc()

        after_commit(session, count)
    if side is Side.MENTOR:
        return [member.employee_id for member in record.mentees]
    if record.format == "peer" and whole_match_ended:
        return [record.mentor_employee_id] if leaving_employee != record.mentor_employee_id else []
    return []


def _without(record: MatchRecord, employee_id: str) -> MatchRecord:
    """The match as published after an erasure: the erased person's ids are blanked."""
    members = [
        Member("", "", member.accepted, member.left_at) if member.employee_id == employee_id else member
        for member in record.members
    ]
    erased_mentor = record.mentor_employee_id == employee_id
    return dataclasses.replace(
        record,
        members=members,
        mentor_employee_id="" if erased_mentor else record.mentor_employee_id,
        mentor_enrollment_id="" if erased_mentor else record.mentor_enrollment_id,
    )


async def _end_all(
    session: AsyncSession,
    records: Sequence[MatchRecord],
    employee_id: str,
    cause: EndCause,
    now: datetime,
    scrub: str = "",
) -> dict[str, list[str]]:
    """End the matches; returns, per program, the mentees left without a mentor."""
    stranded: dict[str, list[str]] = {}
    for record in records:
        mentees = await _end(session, record, employee_id, cause, now, scrub)
        if mentees:
            stranded.setdefault(record.program_id, []).extend(mentees)
    return stranded


async def _rematch_all(
    session: AsyncSession, stranded: dict[str, list[str]], now: datetime, policy: Policy
) -> None:
    for program_id, mentees in stranded.items():
        await rematch(session, program_id, mentees, now=now, policy=policy)
    await refresh_pending(session)


async def participant_left(
    session: AsyncSession, participant: Enrollment, cause: EndCause, now: datetime, policy: Policy
) -> None:
    """Paused or withdrawn: end the enrolment's live matches in its program (an erasure's withdrawal
    publishes them without the erased person's ids)."""
    records = await match_store.live_matches_of_enrollment(
        session, participant.program_id, participant.enrollment_id, participant.employee_id
    )
    scrub = participant.employee_id if cause is EndCause.EMPLOYEE_ERASED else ""
    stranded = await _end_all(session, records, participant.employee_id, cause, now, scrub)
    if records:
        await _rematch_all(session, stranded, now, policy)


async def employee_erased(session: AsyncSession, employee_id: str, now: datetime, policy: Policy) -> None:
    """End every live match of the employee (their ids blanked in the events), then forget them."""
    records = await match_store.live_matches_of(session, employee_id)
    stranded = await _end_all(session, records, employee_id, EndCause.EMPLOYEE_ERASED, now, scrub=employee_id)
    # Forgotten before the rematch, so that nobody is proposed to the erased person.
    await pool_store.forget_employee(session, employee_id)
    if records:
        await _rematch_all(session, stranded, now, policy)


async def _chain_of(session: AsyncSession, employee_id: str) -> tuple[str, ...]:
    known = await pool_store.participants_of_employee(session, employee_id)
    return tuple(known[0].management_chain_ids) if known else ()


async def management_chain_changed(
    session: AsyncSession, participant: Enrollment, now: datetime, policy: Policy
) -> None:
    """End every live match (any program) where the updated chain makes the two boss and report."""
    employee_id = participant.employee_id
    chain = set(participant.management_chain_ids)
    rematch_by_program: dict[str, list[str]] = {}
    ended = False
    for record in await match_store.live_matches_of(session, employee_id):
        if record.mentor_employee_id == employee_id:
            conflicting = [
                member.employee_id
                for member in record.mentees
                if member.employee_id in chain or employee_id in await _chain_of(session, member.employee_id)
            ]
        else:
            mentor = record.mentor_employee_id
            conflicting = (
                [employee_id] if mentor in chain or employee_id in await _chain_of(session, mentor) else []
            )
        for mentee in conflicting:
            if not record.live:
                break
            await _end(session, record, mentee, EndCause.MANAGEMENT_CHAIN, now)
            ended = True
            rematch_by_program.setdefault(record.program_id, []).append(mentee)
    for program_id, mentees in rematch_by_program.items():
        await rematch(session, program_id, mentees, now=now, policy=policy)
    if ended:
        await refresh_pending(session)
