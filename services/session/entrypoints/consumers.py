"""Consumers of matching events: translate each event into a command and apply it. The shared pipeline
wraps every call in one transaction with the idempotent inbox, and dead-letters what a handler refuses."""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message
from mentoring.v1 import events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.service_layer import commands, handlers
from services.shared.consumer import EventHandler
from services.shared.envelope import CloudEvent
from services.shared.errors import InvalidArgument

MATCH_ACTIVATED = "mentoring.matching.match.activated.v1"
MATCH_ENDED = "mentoring.matching.match.ended.v1"

M = TypeVar("M", bound=Message)


def payload(event: CloudEvent, message_type: type[M]) -> M:
    message = event.message()
    if not isinstance(message, message_type):
        raise InvalidArgument("data", f"{event.type} does not carry a {message_type.__name__}")
    return message


async def on_match_activated(session: AsyncSession, event: CloudEvent) -> None:
    match = payload(event, events_pb2.MatchActivated).match
    await handlers.activate_relationship(
        session,
        commands.ActivateRelationship(
            match_id=match.match_id,
            program_id=match.program_id,
            mentor_id=match.mentor_employee_id,
            mentee_ids=tuple(match.mentee_employee_ids),
            tenant=event.tenant,
        ),
    )


async def on_match_ended(session: AsyncSession, event: CloudEvent) -> None:
    ended = payload(event, events_pb2.MatchEnded)
    match = ended.match
    await handlers.end_relationship(
        session,
        commands.EndRelationship(
            match_id=match.match_id,
            program_id=match.program_id,
            mentor_id=match.mentor_employee_id,
            mentee_ids=tuple(match.mentee_employee_ids),
            reason=ended.reason or match.end_reason,
            tenant=event.tenant,
        ),
    )


MATCHING_HANDLERS: dict[str, EventHandler] = {
    MATCH_ACTIVATED: on_match_activated,
    MATCH_ENDED: on_match_ended,
}
