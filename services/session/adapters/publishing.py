"""Publishing: the domain events of a unit of work go to the outbox in the same transaction as the state
change that caused them, keyed by their match; the relay sends them once the transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.translate import event_to_wire
from services.session.domain.events import Event
from services.shared.envelope import CloudEvent, published_event
from services.shared.outbox import stage_events

SERVICE_NAME: Final = "session"


async def publish(session: AsyncSession, events: Sequence[Event]) -> None:
    await stage_events(session, [(_cloud_event(event), event.match_id) for event in events])


def _cloud_event(event: Event) -> CloudEvent:
    return published_event(SERVICE_NAME, event_to_wire(event), subject=event.subject, tenant=event.tenant)
