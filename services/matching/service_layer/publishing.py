"""Transitions of a match -> CloudEvents on matching.events.v1, staged in the outbox of the same unit of
work, keyed (and subjected) by match id. Events carry opaque ids and scores, never a name."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import Message
from mentoring.v1 import events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.translate import match_to_wire, role_of
from services.matching.service_layer.lifecycle import Kind, MatchRecord, Transition
from services.shared.envelope import CloudEvent, new_event
from services.shared.outbox import stage_events
from services.shared.topics import ce_type_of

SOURCE = "matching"


def event_of(match: MatchRecord, transition: Transition) -> CloudEvent:
    wire = match_to_wire(match)
    by = role_of(transition.by, match.format)
    message: Message
    if transition.kind is Kind.PROPOSED:
        message = events_pb2.MatchProposed(match=wire)
    elif transition.kind is Kind.ACCEPTED:
        message = events_pb2.MatchAccepted(match=wire, by=by)
    elif transition.kind is Kind.DECLINED:
        message = events_pb2.MatchDeclined(match=wire, by=by, reason=transition.reason)
    elif transition.kind is Kind.ACTIVATED:
        message = events_pb2.MatchActivated(match=wire)
    else:
        message = events_pb2.MatchEnded(
            match=wire, by=by, reason=transition.reason, rematch_offered=transition.rematch_offered
        )
    return new_event(ce_type_of(type(message)), SOURCE, message, subject=match.match_id, tenant=match.tenant)


async def publish(session: AsyncSession, match: MatchRecord, transitions: Sequence[Transition]) -> None:
    """Stage one event per transition, in order, in the caller's transaction."""
    await stage_events(session, [(event_of(match, transition), match.match_id) for transition in transitions])
