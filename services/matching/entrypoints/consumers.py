"""Enrollment events in: translate each record's message and call the pool handlers, which also let the
matches react (late enrolments, withdrawals, erasures, manager changes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message
from mentoring.v1 import events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.service_layer import pools
from services.matching.service_layer.context import Policy
from services.shared.consumer import EventHandler
from services.shared.envelope import CloudEvent
from services.shared.errors import InvalidArgument

M = TypeVar("M", bound=Message)


def _payload(event: CloudEvent, message_type: type[M]) -> M:
    message = event.message()
    if not isinstance(message, message_type):
        raise InvalidArgument("data", f"{event.type} does not carry a {message_type.__name__}")
    return message


def _now() -> datetime:
    return datetime.now(UTC)


def enrollment_handlers(policy: Policy) -> dict[str, EventHandler]:
    """Handlers of enrollment.events.v1, bound to the service's policy."""

    async def program_created(session: AsyncSession, event: CloudEvent) -> None:
        await pools.program_changed(session, _payload(event, events_pb2.ProgramCreated).program)

    async def program_updated(session: AsyncSession, event: CloudEvent) -> None:
        await pools.program_changed(session, _payload(event, events_pb2.ProgramUpdated).program)

    async def program_closed(session: AsyncSession, event: CloudEvent) -> None:
        await pools.program_closed(session, _payload(event, events_pb2.ProgramClosed).program_id)

    async def enrolled(session: AsyncSession, event: CloudEvent) -> None:
        message = _payload(event, events_pb2.ParticipantEnrolled)
        await pools.participant_enrolled(session, message.participant, event.time, _now(), policy)

    async def updated(session: AsyncSession, event: CloudEvent) -> None:
        message = _payload(event, events_pb2.ParticipantUpdated)
        await pools.participant_updated(session, message.participant, event.time, _now(), policy)

    async def paused(session: AsyncSession, event: CloudEvent) -> None:
        message = _payload(event, events_pb2.ParticipantPaused)
        await pools.participant_paused(session, message.participant, event.time, _now(), policy)

    async def resumed(session: AsyncSession, event: CloudEvent) -> None:
        message = _payload(event, events_pb2.ParticipantResumed)
        await pools.participant_resumed(session, message.participant, event.time, _now(), policy)

    async def withdrawn(session: AsyncSession, event: CloudEvent) -> None:
        message = _payload(event, events_pb2.ParticipantWithdrawn)
        await pools.participant_withdrawn(
            session, message.participant, message.reason, event.time, _now(), policy
        )

    async def erased(session: AsyncSession, event: CloudEvent) -> None:
        message = _payload(event, events_pb2.EmployeeErased)
        await pools.employee_erased(session, message.employee_id, _now(), policy)

    return {
        "mentoring.enrollment.program.created.v1": program_created,
        "mentoring.enrollment.program.updated.v1": program_updated,
        "mentoring.enrollment.program.closed.v1": program_closed,
        "mentoring.enrollment.participant.enrolled.v1": enrolled,
        "mentoring.enrollment.participant.updated.v1": updated,
        "mentoring.enrollment.participant.paused.v1": paused,
        "mentoring.enrollment.participant.resumed.v1": resumed,
        "mentoring.enrollment.participant.withdrawn.v1": withdrawn,
        "mentoring.enrollment.employee.erased.v1": erased,
    }


ENROLLMENT_HANDLERS: dict[str, EventHandler] = enrollment_handlers(Policy())
