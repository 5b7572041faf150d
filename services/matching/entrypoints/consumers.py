"""Enrollment events in: translate each record's message and call the pool handlers."""

from __future__ import annotations

from mentoring.v1 import events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.service_layer import pools
from services.shared.consumer import EventHandler
from services.shared.envelope import CloudEvent


async def _program_created_or_updated(session: AsyncSession, event: CloudEvent) -> None:
    message = event.message()
    assert isinstance(message, events_pb2.ProgramCreated | events_pb2.ProgramUpdated)
    await pools.program_changed(session, message.program)


async def _program_closed(session: AsyncSession, event: CloudEvent) -> None:
    message = event.message()
    assert isinstance(message, events_pb2.ProgramClosed)
    await pools.program_closed(session, message.program_id)


async def _participant(session: AsyncSession, event: CloudEvent) -> None:
    message = event.message()
    assert isinstance(
        message,
        events_pb2.ParticipantEnrolled
        | events_pb2.ParticipantUpdated
        | events_pb2.ParticipantPaused
        | events_pb2.ParticipantResumed
        | events_pb2.ParticipantWithdrawn,
    )
    await pools.participant_changed(session, message.participant)


async def _employee_erased(session: AsyncSession, event: CloudEvent) -> None:
    message = event.message()
    assert isinstance(message, events_pb2.EmployeeErased)
    await pools.employee_erased(session, message.employee_id)


ENROLLMENT_HANDLERS: dict[str, EventHandler] = {
    "mentoring.enrollment.program.created.v1": _program_created_or_updated,
    "mentoring.enrollment.program.updated.v1": _program_created_or_updated,
    "mentoring.enrollment.program.closed.v1": _program_closed,
    "mentoring.enrollment.participant.enrolled.v1": _participant,
    "mentoring.enrollment.participant.updated.v1": _participant,
    "mentoring.enrollment.participant.paused.v1": _participant,
    "mentoring.enrollment.participant.resumed.v1": _participant,
    "mentoring.enrollment.participant.withdrawn.v1": _participant,
    "mentoring.enrollment.employee.erased.v1": _employee_erased,
}
