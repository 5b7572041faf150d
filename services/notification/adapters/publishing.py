"""The outcome events of deliveries, staged in the outbox in the caller's unit of work (the relay
publishes them once it commits). Keyed by recipient, so one person's outcomes stay in order."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.adapters import translate
from services.notification.domain.model import Notification
from services.shared.envelope import CloudEvent, published_event
from services.shared.outbox import stage_events

SERVICE_NAME = "notification"


def outcome_event(item: Notification) -> tuple[CloudEvent, str] | None:
    """The outbox entry of a delivery that reached its end (with its key); None while it is pending."""
    message = translate.outcome_message(item)
    if message is None:
        return None
    event = published_event(SERVICE_NAME, message, subject=item.notification_id, tenant=item.tenant)
    return event, item.recipient_id


async def stage_outcomes(session: AsyncSession, items: Iterable[Notification]) -> bool:
    """Stage the outcome event of every settled delivery in ``items``; whether any was staged."""
    events = [event for item in items if (event := outcome_event(item)) is not None]
    await stage_events(session, events)
    return bool(events)
