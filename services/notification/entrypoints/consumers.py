"""Consumers of enrollment, matching and session events: each event is translated into the command it
asks for; the handlers decide whom to notify and what the texts say. The shared pipeline applies the
commands of a batch in one transaction with the idempotent inbox, and dead-letters what a handler
refuses."""

from __future__ import annotations

from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2

from services.notification.adapters.translate import audience_of, program_format_of
from services.notification.domain.templates import MATCH_ENDED_CANCELLATION, Facts, Template
from services.notification.service_layer.commands import (
    EraseRecipient,
    NotifyEnrolled,
    NotifyMatchEvent,
    NotifySessionEvent,
    RememberProgram,
)
from services.shared.envelope import CloudEvent
from services.shared.errors import InvalidArgument
from services.shared.messagebus import Translator
from services.shared.timestamps import instant
from services.shared.topics import ENROLLMENT_EVENTS, MATCHING_EVENTS, SESSION_EVENTS


def remember_program(event: CloudEvent) -> RememberProgram:
    message = event.message()
    if not isinstance(message, events_pb2.ProgramCreated | events_pb2.ProgramUpdated):
        raise InvalidArgument("data", f"{event.type} does not carry a programme")
    program = message.program
    return RememberProgram(program.program_id, program.name, program_format_of(program.format))


def notify_enrolled(event: CloudEvent) -> NotifyEnrolled:
    participant = event.payload(events_pb2.ParticipantEnrolled).participant
    return NotifyEnrolled(
        event.id,
        participant.program_id,
        participant.employee_id,
        audience_of(participant.role),
        event.tenant,
        participant.timezone,
    )


def erase_recipient(event: CloudEvent) -> EraseRecipient:
    return EraseRecipient(event.tenant, event.payload(events_pb2.EmployeeErased).employee_id)


def _match_event(
    event: CloudEvent,
    template: Template,
    match: common_pb2.Match,
    by: common_pb2.Role.ValueType = common_pb2.ROLE_UNSPECIFIED,
    facts: Facts | None = None,
) -> NotifyMatchEvent:
    return NotifyMatchEvent(
        event.id,
        template,
        match.match_id,
        match.program_id,
        match.mentor_employee_id,
        tuple(match.mentee_employee_ids),
        audience_of(by),
        facts or Facts(),
        event.tenant,
    )


def match_proposed(event: CloudEvent) -> NotifyMatchEvent:
    match = event.payload(events_pb2.MatchProposed).match
    respond_by = instant(match.respond_by) if match.HasField("respond_by") else None
    return _match_event(event, Template.MATCH_PROPOSED, match, facts=Facts(respond_by=respond_by))


def match_accepted(event: CloudEvent) -> NotifyMatchEvent:
    accepted = event.payload(events_pb2.MatchAccepted)
    return _match_event(event, Template.MATCH_ACCEPTED, accepted.match, accepted.by)


def match_declined(event: CloudEvent) -> NotifyMatchEvent:
    declined = event.payload(events_pb2.MatchDeclined)
    return _match_event(event, Template.MATCH_DECLINED, declined.match, declined.by)


def match_activated(event: CloudEvent) -> NotifyMatchEvent:
    return _match_event(event, Template.MATCH_ACTIVATED, event.payload(events_pb2.MatchActivated).match)


def match_ended(event: CloudEvent) -> NotifyMatchEvent:
    ended = event.payload(events_pb2.MatchEnded)
    facts = Facts(rematch_offered=ended.rematch_offered)
    return _match_event(event, Template.MATCH_ENDED, ended.match, ended.by, facts)


def session_scheduled(event: CloudEvent) -> NotifySessionEvent:
    planned = event.payload(events_pb2.SessionScheduled).session
    facts = Facts(starts_at=instant(planned.starts_at), duration_minutes=planned.duration_minutes)
    return NotifySessionEvent(
        event.id,
        Template.SESSION_SCHEDULED,
        planned.match_id,
        facts,
        event.tenant,
        session_id=planned.session_id,
        location=planned.location,
        meeting_link=planned.meeting_link,
    )


def session_cancelled(event: CloudEvent) -> NotifySessionEvent:
    cancelled = event.payload(events_pb2.SessionCancelled)
    # Only the cause is passed on: a reason typed by a person stays out of texts.
    ended = cancelled.cause == common_pb2.CANCELLATION_CAUSE_MATCH_ENDED
    code = MATCH_ENDED_CANCELLATION if ended else ""
    session = cancelled.session
    facts = Facts(
        starts_at=instant(session.starts_at),
        duration_minutes=session.duration_minutes,
        cancellation_code=code,
    )
    return NotifySessionEvent(
        event.id,
        Template.SESSION_CANCELLED,
        session.match_id,
        facts,
        event.tenant,
        session_id=session.session_id,
        location=session.location,
        meeting_link=session.meeting_link,
    )


def translators() -> dict[str, dict[type[Message], Translator]]:
    """The events consumed, by topic and message class, and the command each becomes."""
    return {
        ENROLLMENT_EVENTS: {
            events_pb2.ProgramCreated: remember_program,
            events_pb2.ProgramUpdated: remember_program,
            events_pb2.ParticipantEnrolled: notify_enrolled,
            events_pb2.EmployeeErased: erase_recipient,
        },
        MATCHING_EVENTS: {
            events_pb2.MatchProposed: match_proposed,
            events_pb2.MatchAccepted: match_accepted,
            events_pb2.MatchDeclined: match_declined,
            events_pb2.MatchActivated: match_activated,
            events_pb2.MatchEnded: match_ended,
        },
        SESSION_EVENTS: {
            events_pb2.SessionScheduled: session_scheduled,
            events_pb2.SessionCancelled: session_cancelled,
        },
    }
