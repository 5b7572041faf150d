"""Consumers of enrollment, matching and session events: each event becomes a trigger (template,
recipients, facts) for the handlers. The shared pipeline wraps every call in one transaction with the
idempotent inbox, and dead-letters what a handler refuses."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.domain.model import Recipient, Trigger, others_of
from services.notification.domain.templates import MATCH_ENDED_CANCELLATION, Audience, Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.handlers import Policy
from services.shared.consumer import EventHandler
from services.shared.envelope import CloudEvent
from services.shared.errors import InvalidArgument
from services.shared.timestamps import instant
from services.shared.topics import ENROLLMENT_EVENTS, MATCHING_EVENTS, SESSION_EVENTS

M = TypeVar("M", bound=Message)

_AUDIENCE = {common_pb2.ROLE_MENTOR: Audience.MENTOR, common_pb2.ROLE_MENTEE: Audience.MENTEE}


def payload(event: CloudEvent, message_type: type[M]) -> M:
    message = event.message()
    if not isinstance(message, message_type):
        raise InvalidArgument("data", f"{event.type} does not carry a {message_type.__name__}")
    return message


def audience_of(role: common_pb2.Role.ValueType) -> Audience | None:
    return _AUDIENCE.get(role)


def handlers_by_topic(policy: Policy) -> dict[str, dict[str, EventHandler]]:
    """The consumers of each topic, by CloudEvents type, applying ``policy``."""

    async def on_program(session: AsyncSession, event: CloudEvent) -> None:
        message = event.message()
        if not isinstance(message, events_pb2.ProgramCreated | events_pb2.ProgramUpdated):
            raise InvalidArgument("data", f"{event.type} does not carry a programme")
        await handlers.remember_program(session, message.program.program_id, message.program.name)

    async def on_enrolled(session: AsyncSession, event: CloudEvent) -> None:
        participant = payload(event, events_pb2.ParticipantEnrolled).participant
        role = audience_of(participant.role)
        trigger = Trigger(
            event.id,
            Template.ENROLLED,
            (Recipient(participant.employee_id, role or Audience.MENTEE),),
            Facts(role=role),
            event.tenant,
        )
        await handlers.notify(session, trigger, participant.program_id, policy)

    async def on_erased(session: AsyncSession, event: CloudEvent) -> None:
        await handlers.erase_recipient(session, payload(event, events_pb2.EmployeeErased).employee_id)

    async def on_match(
        session: AsyncSession,
        event: CloudEvent,
        template: Template,
        match: common_pb2.Match,
        by: common_pb2.Role.ValueType = common_pb2.ROLE_UNSPECIFIED,
        facts: Facts | None = None,
    ) -> None:
        participants = await handlers.remember_match(
            session, match.match_id, match.program_id, match.mentor_employee_id, match.mentee_employee_ids
        )
        acting = audience_of(by)
        if template in (Template.MATCH_ACCEPTED, Template.MATCH_DECLINED):
            recipients = others_of(
                acting, participants[0].employee_id, [p.employee_id for p in participants[1:]]
            )
        else:
            recipients = participants
        chosen = facts or Facts(by=acting)
        await handlers.notify(
            session, Trigger(event.id, template, recipients, chosen, event.tenant), match.program_id, policy
        )

    async def on_proposed(session: AsyncSession, event: CloudEvent) -> None:
        match = payload(event, events_pb2.MatchProposed).match
        respond_by = instant(match.respond_by) if match.HasField("respond_by") else None
        await on_match(session, event, Template.MATCH_PROPOSED, match, facts=Facts(respond_by=respond_by))

    async def on_accepted(session: AsyncSession, event: CloudEvent) -> None:
        accepted = payload(event, events_pb2.MatchAccepted)
        await on_match(session, event, Template.MATCH_ACCEPTED, accepted.match, by=accepted.by)

    async def on_declined(session: AsyncSession, event: CloudEvent) -> None:
        declined = payload(event, events_pb2.MatchDeclined)
        await on_match(session, event, Template.MATCH_DECLINED, declined.match, by=declined.by)

    async def on_activated(session: AsyncSession, event: CloudEvent) -> None:
        await on_match(
            session, event, Template.MATCH_ACTIVATED, payload(event, events_pb2.MatchActivated).match
        )

    async def on_ended(session: AsyncSession, event: CloudEvent) -> None:
        ended = payload(event, events_pb2.MatchEnded)
        facts = Facts(by=audience_of(ended.by), rematch_offered=ended.rematch_offered)
        await on_match(session, event, Template.MATCH_ENDED, ended.match, by=ended.by, facts=facts)

    async def on_scheduled(session: AsyncSession, event: CloudEvent) -> None:
        planned = payload(event, events_pb2.SessionScheduled).session
        facts = Facts(starts_at=instant(planned.starts_at), duration_minutes=planned.duration_minutes)
        await handlers.notify_match(
            session, event.id, planned.match_id, Template.SESSION_SCHEDULED, facts, event.tenant, policy
        )

    async def on_cancelled(session: AsyncSession, event: CloudEvent) -> None:
        cancelled = payload(event, events_pb2.SessionCancelled)
        # Only the platform's own reason code is passed on: a reason typed by a person stays out of texts.
        code = MATCH_ENDED_CANCELLATION if cancelled.reason == MATCH_ENDED_CANCELLATION else ""
        facts = Facts(starts_at=instant(cancelled.session.starts_at), cancellation_code=code)
        await handlers.notify_match(
            session,
            event.id,
            cancelled.session.match_id,
            Template.SESSION_CANCELLED,
            facts,
            event.tenant,
            policy,
        )

    return {
        ENROLLMENT_EVENTS: {
            "mentoring.enrollment.program.created.v1": on_program,
            "mentoring.enrollment.program.updated.v1": on_program,
            "mentoring.enrollment.participant.enrolled.v1": on_enrolled,
            "mentoring.enrollment.employee.erased.v1": on_erased,
        },
        MATCHING_EVENTS: {
            "mentoring.matching.match.proposed.v1": on_proposed,
            "mentoring.matching.match.accepted.v1": on_accepted,
            "mentoring.matching.match.declined.v1": on_declined,
            "mentoring.matching.match.activated.v1": on_activated,
            "mentoring.matching.match.ended.v1": on_ended,
        },
        SESSION_EVENTS: {
            "mentoring.session.session.scheduled.v1": on_scheduled,
            "mentoring.session.session.cancelled.v1": on_cancelled,
        },
    }
