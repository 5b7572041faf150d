"""Keeping the candidate pools in step with enrollment events (each applied once, by the inbox)."""

from __future__ import annotations

from mentoring.v1 import common_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import store
from services.shared.errors import InvalidArgument


async def program_changed(session: AsyncSession, program: common_pb2.Program) -> None:
    if not program.program_id:
        raise InvalidArgument("program.program_id", "is required")
    await store.save_program(session, program)


async def program_closed(session: AsyncSession, program_id: str) -> None:
    program = await store.load_program(session, program_id)
    if program is None:
        raise InvalidArgument("program_id", f"program {program_id} was never announced")
    program.status = common_pb2.PROGRAM_STATUS_CLOSED
    await store.save_program(session, program)


async def participant_changed(session: AsyncSession, participant: common_pb2.Participant) -> None:
    """Enrolled, updated, paused, resumed or withdrawn: the event carries the participant's new state."""
    if not participant.enrollment_id:
        raise InvalidArgument("participant.enrollment_id", "is required")
    if not participant.program_id:
        raise InvalidArgument("participant.program_id", "is required")
    await store.save_participant(session, participant)


async def employee_erased(session: AsyncSession, employee_id: str) -> None:
    if not employee_id:
        raise InvalidArgument("employee_id", "is required")
    await store.forget_employee(session, employee_id)
