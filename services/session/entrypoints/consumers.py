"""Consumers of matching and enrollment events: each event is translated into a command, which the
message bus applies in the consumer batch's unit of work (the shared pipeline adds the idempotent inbox
and dead-letters what a handler refuses)."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2

from services.session.adapters.translate import end_cause_from_wire, goal_from_wire, program_terms_from_wire
from services.session.domain.slots import WorkingHours
from services.session.service_layer import commands
from services.shared.envelope import CloudEvent
from services.shared.messagebus import Command, Translator
from services.shared.topics import ENROLLMENT_EVENTS, MATCHING_EVENTS


def activate_relationship(event: CloudEvent) -> commands.ActivateRelationship:
    match = event.payload(events_pb2.MatchActivated).match
    return commands.ActivateRelationship(
        match_id=match.match_id,
        program_id=match.program_id,
        mentor_id=match.mentor_employee_id,
        mentee_ids=tuple(match.mentee_employee_ids),
        tenant=event.tenant,
    )


def end_relationship(event: CloudEvent) -> commands.EndRelationship:
    ended = event.payload(events_pb2.MatchEnded)
    match = ended.match
    return commands.EndRelationship(
        match_id=match.match_id,
        program_id=match.program_id,
        mentor_id=match.mentor_employee_id,
        mentee_ids=tuple(match.mentee_employee_ids),
        reason=ended.reason or match.end_reason,
        tenant=event.tenant,
        cause=end_cause_from_wire(ended.cause),
    )


def remember_created_program(event: CloudEvent) -> commands.RememberProgram:
    return commands.RememberProgram(program_terms_from_wire(event.payload(events_pb2.ProgramCreated).program))


def remember_updated_program(event: CloudEvent) -> commands.RememberProgram:
    return commands.RememberProgram(program_terms_from_wire(event.payload(events_pb2.ProgramUpdated).program))


# Roles whose enrolment goals a relationship carries: mentees, and peers (each is the other's mentee).
GOAL_HOLDERS = (common_pb2.ROLE_MENTEE, common_pb2.ROLE_PEER)


def _enrolment_goals(participant: common_pb2.Participant) -> commands.RememberEnrolmentGoals | None:
    if participant.role not in GOAL_HOLDERS:
        return None
    return commands.RememberEnrolmentGoals(
        program_id=participant.program_id,
        employee_id=participant.employee_id,
        goals=tuple(goal_from_wire(goal) for goal in participant.profile.goals),
    )


def _enrolment(participant: common_pb2.Participant) -> list[Command[Any]]:
    """Every participant's time zone and working hours (cadence plans keep to them); a mentee's or a
    peer's goals too."""
    availability = participant.profile.availability
    hours = commands.RememberWorkingHours(
        program_id=participant.program_id,
        employee_id=participant.employee_id,
        hours=WorkingHours.declared(
            participant.timezone, availability.work_start_hour, availability.work_end_hour
        ),
    )
    goals = _enrolment_goals(participant)
    return [hours] if goals is None else [hours, goals]


def remember_enrolment(event: CloudEvent) -> list[Command[Any]]:
    return _enrolment(event.payload(events_pb2.ParticipantEnrolled).participant)


def remember_updated_enrolment(event: CloudEvent) -> list[Command[Any]]:
    return _enrolment(event.payload(events_pb2.ParticipantUpdated).participant)


def erase_employee(event: CloudEvent) -> commands.EraseEmployee:
    return commands.EraseEmployee(event.payload(events_pb2.EmployeeErased).employee_id, tenant=event.tenant)


def translators() -> dict[str, dict[type[Message], Translator]]:
    """Per topic, the events the service consumes and the command each becomes."""
    return {
        MATCHING_EVENTS: {
            events_pb2.MatchActivated: activate_relationship,
            events_pb2.MatchEnded: end_relationship,
        },
        ENROLLMENT_EVENTS: {
            events_pb2.ProgramCreated: remember_created_program,
            events_pb2.ProgramUpdated: remember_updated_program,
            events_pb2.ParticipantEnrolled: remember_enrolment,
            events_pb2.ParticipantUpdated: remember_updated_enrolment,
            events_pb2.EmployeeErased: erase_employee,
        },
    }
