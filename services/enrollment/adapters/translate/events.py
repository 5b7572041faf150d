"""Outgoing events, domain -> the protobuf messages the outbox carries."""

from __future__ import annotations

from collections.abc import Mapping

from google.protobuf.message import Message
from mentoring.v1 import events_pb2

from services.enrollment.adapters.translate.enums import pause_cause_to_wire, withdrawal_cause_to_wire
from services.enrollment.adapters.translate.participants import participant_to_wire
from services.enrollment.adapters.translate.programs import program_to_wire
from services.enrollment.domain import (
    DomainEvent,
    Participant,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
    ProgramClosed,
    ProgramCreated,
    ProgramUpdated,
)


def event_to_wire(event: DomainEvent, views: Mapping[str, Participant]) -> tuple[Message, str]:
    """The protobuf payload and the CloudEvents subject of a domain event. ``views``: the participant
    of each paused or withdrawn enrollment (those events carry ids; the wire carries the participant)."""
    if isinstance(event, ProgramCreated):
        return events_pb2.ProgramCreated(program=program_to_wire(event.program)), event.program.program_id
    if isinstance(event, ProgramUpdated):
        return events_pb2.ProgramUpdated(program=program_to_wire(event.program)), event.program.program_id
    if isinstance(event, ProgramClosed):
        return events_pb2.ProgramClosed(program_id=event.program_id), event.program_id
    if isinstance(event, ParticipantEnrolled):
        participant = participant_to_wire(event.participant)
        return events_pb2.ParticipantEnrolled(participant=participant), event.participant.enrollment_id
    if isinstance(event, ParticipantUpdated):
        participant = participant_to_wire(event.participant)
        return events_pb2.ParticipantUpdated(participant=participant), event.participant.enrollment_id
    if isinstance(event, ParticipantResumed):
        participant = participant_to_wire(event.participant)
        return events_pb2.ParticipantResumed(participant=participant), event.participant.enrollment_id
    if isinstance(event, ParticipantPaused):
        return events_pb2.ParticipantPaused(
            participant=participant_to_wire(views[event.enrollment_id]),
            reason=event.reason,
            cause=pause_cause_to_wire(event.cause),
        ), event.enrollment_id
    if isinstance(event, ParticipantWithdrawn):
        return events_pb2.ParticipantWithdrawn(
            participant=participant_to_wire(views[event.enrollment_id]),
            reason=event.reason,
            cause=withdrawal_cause_to_wire(event.cause),
        ), event.enrollment_id
    return events_pb2.EmployeeErased(employee_id=event.employee_id), event.employee_id
