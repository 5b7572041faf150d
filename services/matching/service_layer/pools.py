"""Keeping the candidate pools in step with enrollment events (each applied once, by the inbox), and
letting the matches react to them (see ``reactions``)."""

from __future__ import annotations

from datetime import datetime

from mentoring.v1 import common_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import pool_store
from services.matching.domain.lifecycle import EndCause, Origin
from services.matching.service_layer import reactions
from services.matching.service_layer.context import Policy
from services.shared.errors import InvalidArgument


async def program_changed(session: AsyncSession, program: common_pb2.Program) -> None:
    if not program.program_id:
        raise InvalidArgument("program.program_id", "is required")
    await pool_store.save_program(session, program)


async def program_closed(session: AsyncSession, program_id: str) -> None:
    program = await pool_store.load_program(session, program_id)
    if program is None:
        raise InvalidArgument("program_id", f"program {program_id} was never announced")
    program.status = common_pb2.PROGRAM_STATUS_CLOSED
    await pool_store.save_program(session, program)


def _validate(participant: common_pb2.Participant) -> None:
    if not participant.enrollment_id:
        raise InvalidArgument("participant.enrollment_id", "is required")
    if not participant.program_id:
        raise InvalidArgument("participant.program_id", "is required")
    if not participant.employee_id:
        raise InvalidArgument("participant.employee_id", "is required")


async def participant_changed(
    session: AsyncSession, participant: common_pb2.Participant, seen_at: datetime | None = None
) -> None:
    """Enrolled, updated, paused, resumed or withdrawn: the event carries the participant's new state."""
    _validate(participant)
    await pool_store.save_participant(session, participant, seen_at)


async def participant_enrolled(
    session: AsyncSession,
    participant: common_pb2.Participant,
    seen_at: datetime,
    now: datetime,
    policy: Policy,
) -> None:
    await participant_changed(session, participant, seen_at)
    await reactions.propose_if_late(session, participant, now, policy, Origin.LATE_ENROLMENT)


async def participant_updated(
    session: AsyncSession,
    participant: common_pb2.Participant,
    seen_at: datetime,
    now: datetime,
    policy: Policy,
) -> None:
    await participant_changed(session, participant, seen_at)
    await reactions.management_chain_changed(session, participant, now, policy)


async def participant_paused(
    session: AsyncSession,
    participant: common_pb2.Participant,
    seen_at: datetime,
    now: datetime,
    policy: Policy,
) -> None:
    await participant_changed(session, participant, seen_at)
    await reactions.participant_left(session, participant, EndCause.PARTICIPANT_PAUSED, now, policy)


async def participant_resumed(
    session: AsyncSession,
    participant: common_pb2.Participant,
    seen_at: datetime,
    now: datetime,
    policy: Policy,
) -> None:
    await participant_changed(session, participant, seen_at)
    await reactions.propose_if_late(session, participant, now, policy, Origin.REMATCH)


async def participant_withdrawn(
    session: AsyncSession,
    participant: common_pb2.Participant,
    reason: str,
    seen_at: datetime,
    now: datetime,
    policy: Policy,
) -> None:
    await participant_changed(session, participant, seen_at)
    await reactions.participant_left(session, participant, reactions.withdrawal_cause(reason), now, policy)


async def employee_erased(session: AsyncSession, employee_id: str, now: datetime, policy: Policy) -> None:
    if not employee_id:
        raise InvalidArgument("employee_id", "is required")
    await reactions.employee_erased(session, employee_id, now, policy)
