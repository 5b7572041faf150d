"""Keeping the candidate pools in step with enrollment events (each applied once, by the inbox), and
letting the matches react to them (see ``reactions``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import pool_store
from services.matching.domain.enrollments import Enrollment, ProgramStatus
from services.matching.domain.lifecycle import EndCause, Origin
from services.matching.service_layer import reactions
from services.matching.service_layer.commands import (
    ChangeProgram,
    CloseProgram,
    EnrollParticipant,
    EraseEmployee,
    PauseParticipant,
    ResumeParticipant,
    UpdateParticipant,
    WithdrawParticipant,
)
from services.matching.service_layer.policy import Policy
from services.shared.errors import InvalidArgument


async def program_changed(session: AsyncSession, command: ChangeProgram) -> None:
    if not command.program.program_id:
        raise InvalidArgument("program.program_id", "is required")
    await pool_store.save_program(session, command.program)


async def program_closed(session: AsyncSession, command: CloseProgram) -> None:
    program = await pool_store.load_program(session, command.program_id)
    if program is None:
        raise InvalidArgument("program_id", f"program {command.program_id} was never announced")
    await pool_store.save_program(session, dataclasses.replace(program, status=ProgramStatus.CLOSED))


def _validate(participant: Enrollment) -> None:
    if not participant.enrollment_id:
        raise InvalidArgument("participant.enrollment_id", "is required")
    if not participant.program_id:
        raise InvalidArgument("participant.program_id", "is required")
    if not participant.employee_id:
        raise InvalidArgument("participant.employee_id", "is required")


async def participant_changed(
    session: AsyncSession, participant: Enrollment, seen_at: datetime | None = None
) -> None:
    """Enrolled, updated, paused, resumed or withdrawn: the event carries the participant's new state."""
    _validate(participant)
    await pool_store.save_participant(session, participant, seen_at)


async def participant_enrolled(session: AsyncSession, command: EnrollParticipant, *, policy: Policy) -> None:
    await participant_changed(session, command.participant, command.seen_at)
    await reactions.propose_if_late(session, command.participant, command.now, policy, Origin.LATE_ENROLMENT)


async def participant_updated(session: AsyncSession, command: UpdateParticipant, *, policy: Policy) -> None:
    await participant_changed(session, command.participant, command.seen_at)
    await reactions.management_chain_changed(session, command.participant, command.now, policy)


async def participant_paused(session: AsyncSession, command: PauseParticipant, *, policy: Policy) -> None:
    await participant_changed(session, command.participant, command.seen_at)
    await reactions.participant_left(
        session, command.participant, EndCause.PARTICIPANT_PAUSED, command.now, policy
    )


async def participant_resumed(session: AsyncSession, command: ResumeParticipant, *, policy: Policy) -> None:
    await participant_changed(session, command.participant, command.seen_at)
    await reactions.propose_if_late(session, command.participant, command.now, policy, Origin.REMATCH)


async def participant_withdrawn(
    session: AsyncSession, command: WithdrawParticipant, *, policy: Policy
) -> None:
    await participant_changed(session, command.participant, command.seen_at)
    await reactions.participant_left(session, command.participant, command.cause, command.now, policy)


async def employee_erased(session: AsyncSession, command: EraseEmployee, *, policy: Policy) -> None:
    if not command.employee_id:
        raise InvalidArgument("employee_id", "is required")
    await reactions.employee_erased(session, command.employee_id, command.now, policy)
