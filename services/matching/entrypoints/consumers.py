"""enrollment.events.v1 in: each event's message translated into a command for the bus (the pools
follow the events; the matches react: late enrolments, withdrawals, erasures, manager changes)."""

from __future__ import annotations

from collections.abc import Mapping

from google.protobuf.message import Message
from mentoring.v1 import events_pb2

from services.matching.adapters.translate import participant_from_wire, program_from_wire, withdrawal_cause
from services.matching.service_layer import commands
from services.shared.envelope import CloudEvent
from services.shared.messagebus import Translator
from services.shared.topics import ENROLLMENT_EVENTS


def _program_created(event: CloudEvent) -> commands.ChangeProgram:
    return commands.ChangeProgram(program_from_wire(event.payload(events_pb2.ProgramCreated).program))


def _program_updated(event: CloudEvent) -> commands.ChangeProgram:
    return commands.ChangeProgram(program_from_wire(event.payload(events_pb2.ProgramUpdated).program))


def _program_closed(event: CloudEvent) -> commands.CloseProgram:
    return commands.CloseProgram(event.payload(events_pb2.ProgramClosed).program_id)


def _enrolled(event: CloudEvent) -> commands.EnrollParticipant:
    message = event.payload(events_pb2.ParticipantEnrolled)
    return commands.EnrollParticipant(participant_from_wire(message.participant), event.time)


def _updated(event: CloudEvent) -> commands.UpdateParticipant:
    message = event.payload(events_pb2.ParticipantUpdated)
    return commands.UpdateParticipant(participant_from_wire(message.participant), event.time)


def _paused(event: CloudEvent) -> commands.PauseParticipant:
    message = event.payload(events_pb2.ParticipantPaused)
    return commands.PauseParticipant(participant_from_wire(message.participant), event.time)


def _resumed(event: CloudEvent) -> commands.ResumeParticipant:
    message = event.payload(events_pb2.ParticipantResumed)
    return commands.ResumeParticipant(participant_from_wire(message.participant), event.time)


def _withdrawn(event: CloudEvent) -> commands.WithdrawParticipant:
    message = event.payload(events_pb2.ParticipantWithdrawn)
    return commands.WithdrawParticipant(
        participant_from_wire(message.participant), withdrawal_cause(message.cause), event.time
    )


def _erased(event: CloudEvent) -> commands.EraseEmployee:
    return commands.EraseEmployee(event.payload(events_pb2.EmployeeErased).employee_id)


def translators() -> dict[str, Mapping[type[Message], Translator]]:
    """Per topic, what each consumed message becomes."""
    return {
        ENROLLMENT_EVENTS: {
            events_pb2.ProgramCreated: _program_created,
            events_pb2.ProgramUpdated: _program_updated,
            events_pb2.ProgramClosed: _program_closed,
            events_pb2.ParticipantEnrolled: _enrolled,
            events_pb2.ParticipantUpdated: _updated,
            events_pb2.ParticipantPaused: _paused,
            events_pb2.ParticipantResumed: _resumed,
            events_pb2.ParticipantWithdrawn: _withdrawn,
            events_pb2.EmployeeErased: _erased,
        }
    }
