"""Command handlers of the notification service, each inside the unit of work it is given: load through
the store, decide in the domain, persist, and stage the outcome events in the outbox in the same
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.notification import metrics
from services.notification.adapters import store
from services.notification.domain import model
from services.notification.domain.model import Notification, Plan, Preferences, Recipient, Trigger
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.service_layer import messages
from services.shared.errors import FailedPrecondition, InvalidArgument, NotFound
from services.shared.ids import require_id
from services.shared.outbox import stage_events
from services.shared.paging import decode_token, encode_token, page_size

MAX_PROGRAM_NAME: Final = 200


@dataclass(frozen=True, slots=True)
class Policy:
    """Service-wide settings the handlers apply."""

    email_by_default: bool = True


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[Notification]
    next_page_token: str
    total_size: int


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# ---- what events teach the service ----


async def remember_program(uow: AsyncSession, program_id: str, name: str) -> None:
    """Programme names make texts readable; they name a programme, never a person."""
    await store.save_program(
        uow, require_id(program_id, "program.program_id"), name.strip()[:MAX_PROGRAM_NAME]
    )


async def remember_match(
    uow: AsyncSession, match_id: str, program_id: str, mentor_id: str, mentee_ids: Sequence[str]
) -> tuple[Recipient, ...]:
    """Record who takes part in a match (session events carry only its id); returns them, mentor first."""
    participants = (
        Recipient(require_id(mentor_id, "match.mentor_employee_id"), Audience.MENTOR),
        *(
            Recipient(mentee, Audience.MENTEE)
            for mentee in dict.fromkeys(m.strip() for m in mentee_ids)
            if mentee
        ),
    )
    await store.save_match(uow, require_id(match_id, "match.match_id"), program_id.strip(), participants)
    return participants


async def erase_recipient(uow: AsyncSession, employee_id: str) -> int:
    removed = await store.erase_recipient(uow, require_id(employee_id, "employee_id"))
    metrics.ERASURES.inc()
    return removed


# ---- notifying ----


async def notify(
    uow: AsyncSession, trigger: Trigger, program_id: str, policy: Policy, now: datetime | None = None
) -> Plan:
    """Create the trigger's notifications as the recipients' preferences say; in-app items are
    delivered on the spot, so their NotificationDelivered is staged now."""
    facts = trigger.facts
    if program_id and not facts.program_name:
        facts = replace(facts, program_name=await store.program_name(uow, program_id))
    recipients = tuple(
        Recipient(require_id(recipient.employee_id, "recipient_id"), recipient.audience)
        for recipient in trigger.recipients
    )
    wanted = await store.get_preferences(uow, (recipient.employee_id for recipient in recipients))
    planned = model.plan(
        replace(trigger, recipients=recipients, facts=facts), wanted, policy.email_by_default, _now(now)
    )
    await store.insert_notifications(uow, planned.notifications)
    await stage_events(
        uow, [event for item in planned.notifications if (event := messages.outcome_event(item))]
    )
    for item in planned.notifications:
        metrics.NOTIFICATIONS.labels(item.template.value, item.channel.value).inc()
        if item.state is model.DeliveryState.DELIVERED:
            metrics.DELIVERIES.labels(item.channel.value, "delivered").inc()
    if planned.muted:
        metrics.SUPPRESSED.labels(trigger.template.value).inc(len(planned.muted))
    return planned


async def notify_match(
    uow: AsyncSession,
    event_id: str,
    match_id: str,
    template: Template,
    facts: Facts,
    tenant: str,
    policy: Policy,
    now: datetime | None = None,
) -> Plan:
    """Notify every participant of a match known from matching events."""
    known = await store.match_of(uow, require_id(match_id, "match_id"))
    if known is None:
        raise FailedPrecondition("match_unknown", f"no matching event has introduced match {match_id}")
    program_id, participants = known
    return await notify(
        uow, Trigger(event_id, template, participants, facts, tenant), program_id, policy, now
    )


# ---- the API ----


async def list_inbox(
    uow: AsyncSession, recipient_id: str, unread_only: bool, requested_size: int, token: str
) -> InboxPage:
    recipient = require_id(recipient_id, "recipient_id")
    limit = page_size(requested_size)
    key = decode_token("inbox", token, 2)
    before = (_parse_instant(key[0]), key[1]) if key is not None else None
    items, total = await store.list_inbox(uow, recipient, unread_only, limit + 1, before)
    next_token = ""
    if len(items) > limit:
        items = items[:limit]
        next_token = encode_token("inbox", [items[-1].created_at.isoformat(), items[-1].notification_id])
    return InboxPage(items=items, next_page_token=next_token, total_size=total)


async def mark_read(uow: AsyncSession, notification_id: str, recipient_id: str) -> Notification:
    wanted_id = require_id(notification_id, "notification_id")
    recipient = require_id(recipient_id, "recipient_id")
    item = await store.get_notification(uow, wanted_id)
    if item is None or item.channel is not model.Channel.IN_APP:
        raise NotFound("inbox item", wanted_id)
    read = item.mark_read(recipient)
    if read is not item:
        await store.update_delivery(uow, read)
        metrics.INBOX_READS.inc()
    return read


async def get_preferences(uow: AsyncSession, recipient_id: str, policy: Policy) -> Preferences:
    recipient = require_id(recipient_id, "recipient_id")
    stored = await store.get_preferences(uow, [recipient])
    return stored.get(recipient) or model.default_preferences(recipient, policy.email_by_default)


async def update_preferences(
    uow: AsyncSession,
    recipient_id: str,
    email: bool,
    in_app: bool,
    webhook_url: str,
    muted_templates: Sequence[str],
    now: datetime | None = None,
) -> Preferences:
    """Replace the recipient's preferences as a whole (the API has no field mask)."""
    wanted = model.validate_preferences(recipient_id, email, in_app, webhook_url, muted_templates)
    await store.save_preferences(uow, wanted, _now(now))
    return wanted


async def delivery_status(uow: AsyncSession, notification_id: str) -> Notification:
    wanted_id = require_id(notification_id, "notification_id")
    item = await store.get_notification(uow, wanted_id)
    if item is None:
        raise NotFound("notification", wanted_id)
    return item


def _parse_instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from exc
    if parsed.tzinfo is None:
        raise InvalidArgument("page.page_token", "is not a token this service issued")
    return parsed
