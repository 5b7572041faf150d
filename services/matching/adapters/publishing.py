"""Transitions of a match -> CloudEvents on matching.events.v1, staged in the outbox of the same unit of
work, keyed (and subjected) by match id. Events carry opaque ids and scores, never a name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from google.protobuf.message import Message
from mentoring.v1 import events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.translate import (
    decline_cause_to_wire,
    end_cause_to_wire,
    match_to_wire,
    role_of,
)
from services.matching.domain.lifecycle import DeclineCause, EndCause, Kind, MatchRecord, Transition
from services.shared.envelope import CloudEvent, published_event
from services.shared.outbox import stage_events

PRODUCER: Final = "matching"


def event_of(match: MatchRecord, transition: Transition) -> CloudEvent:
    wire = match_to_wire(match)
    by = role_of(transition.by, match.format)
    cause = transition.cause
    message: Message
    if transition.kind is Kind.PROPOSED:
        message = events_pb2.MatchProposed(match=wire)
    elif transition.kind is Kind.ACCEPTED:
        message = events_pb2.MatchAccepted(match=wire, by=by)
    elif transition.kind is Kind.DECLINED:
        message = events_pb2.MatchDeclined(
            match=wire,
            by=by,
            reason=transition.reason,
            cause=decline_cause_to_wire(cause if isinstance(cause, DeclineCause) else None),
        )
    elif transition.kind is Kind.ACTIVATED:
        message = events_pb2.MatchActivated(match=wire)
    else:
        message = events_pb2.MatchEnded(
            match=wire,
            by=by,
            reason=transition.reason,
            rematch_offered=transition.rematch_offered,
            cause=end_cause_to_wire(cause if isinstance(cause, EndCause) else None),
        )
    return published_event(PRODUCER, message, subject=match.match_id, tenant=match.tenant)


async def publish(session: AsyncSession, match: MatchRecord, transitions: Sequence[Transition]) -> None:
    """Stage one event per transition, in order, in the caller's transaction."""
    await stage_events(session, [(event_of(match, transition), match.match_id) for transition in transitions])


async def publish_proposals(session: AsyncSession, records: Sequence[MatchRecord]) -> None:
    """Stage a MatchProposed per new match, in order, in the caller's transaction."""
    await stage_events(
        session, [(event_of(record, Transition(Kind.PROPOSED)), record.match_id) for record in records]
    )
