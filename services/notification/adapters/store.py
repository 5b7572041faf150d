"""The notification service's queries on deliveries (in-app inbox items and e-mails) and their attempts,
and on preferences; and the erasure of a person. Every function runs in the caller's ``AsyncSession``
(the unit of work); the tables are in ``tables.py``.

The tenant of a delivery is the one its event carried (``ce_tenant``), that of an API call the caller's
token's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.adapters.context_json import context_json, context_of
from services.notification.adapters.tables import (
    delivery_attempts,
    match_participants,
    metadata,
    notifications,
    people,
    preferences,
    tenant_defaults,
)
from services.notification.domain import categories
from services.notification.domain.channels import WebhookFormat
from services.notification.domain.model import (
    Attempt,
    AttemptOutcome,
    Channel,
    DeliveryState,
    Notification,
    Preferences,
)
from services.notification.domain.quiet_hours import parse_quiet_hours, quiet_hours_text
from services.notification.domain.templates import Template

__all__ = ["match_participants", "metadata", "preferences"]  # the tables too, for the migration tests


# ---- deliveries ----


def _notification_of(row: Row[Any]) -> Notification:
    return Notification(
        notification_id=row.notification_id,
        recipient_id=row.recipient_id,
        template=Template(row.template),
        channel=Channel(row.channel),
        title=row.title,
        body=row.body,
        state=DeliveryState(row.state),
        created_at=row.created_at,
        tenant=row.tenant,
        attempts=row.attempts,
        last_error=row.last_error,
        read=row.is_read,
        next_attempt_at=row.next_attempt_at,
        context=context_of(row.context),
    )


async def insert_notifications(session: AsyncSession, planned: Sequence[Notification]) -> None:
    if not planned:
        return
    await session.execute(
        notifications.insert(),
        [
            {
                "notification_id": item.notification_id,
                "recipient_id": item.recipient_id,
                "tenant": item.tenant,
                "template": item.template.value,
                "channel": item.channel.value,
                "title": item.title,
                "body": item.body,
                "state": item.state.value,
                "attempts": item.attempts,
                "last_error": item.last_error,
                "is_read": item.read,
                "created_at": item.created_at,
                "next_attempt_at": item.next_attempt_at,
                "context": context_json(item.context),
            }
            for item in planned
        ],
    )


async def get_notification(session: AsyncSession, notification_id: str) -> Notification | None:
    """Any delivery by id: for the dispatcher, which works for every tenant."""
    row = (
        await session.execute(select(notifications).where(notifications.c.notification_id == notification_id))
    ).first()
    return _notification_of(row) if row is not None else None


async def notifications_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Notification]:
    """Deliveries by id, any tenant (the dispatchers'); missing ids are left out."""
    if not ids:
        return {}
    rows = await session.execute(select(notifications).where(notifications.c.notification_id.in_(list(ids))))
    return {row.notification_id: _notification_of(row) for row in rows}


async def notification_of(
    session: AsyncSession, tenant: str, recipient_id: str, notification_id: str
) -> Notification | None:
    """A delivery of one recipient of one tenant: None when it is missing, another tenant's or another
    person's (the API cannot tell these apart)."""
    row = (
        await session.execute(
            select(notifications).where(
                notifications.c.notification_id == notification_id,
                notifications.c.tenant == tenant,
                notifications.c.recipient_id == recipient_id,
            )
        )
    ).first()
    return _notification_of(row) if row is not None else None


async def update_delivery(session: AsyncSession, item: Notification) -> None:
    await session.execute(
        notifications.update()
        .where(notifications.c.notification_id == item.notification_id)
        .values(
            state=item.state.value,
            attempts=item.attempts,
            last_error=item.last_error,
            next_attempt_at=item.next_attempt_at,
            is_read=item.read,
        )
    )


async def postpone(session: AsyncSession, notification_id: str, until: datetime) -> None:
    """Try a pending delivery later without spending an attempt (its endpoint's circuit is open)."""
    await session.execute(
        notifications.update()
        .where(
            notifications.c.notification_id == notification_id,
            notifications.c.state == DeliveryState.PENDING.value,
        )
        .values(next_attempt_at=until)
    )


async def record_attempts(session: AsyncSession, entries: Sequence[tuple[Notification, Attempt]]) -> None:
    if not entries:
        return
    await session.execute(
        delivery_attempts.insert(),
        [
            {
                "notification_id": item.notification_id,
                "attempt": attempt.attempt,
                "tenant": item.tenant,
                "recipient_id": item.recipient_id,
                "at": attempt.at,
                "outcome": attempt.outcome.value,
                "reason": attempt.reason,
                "detail": attempt.detail[:64],
                "next_attempt_at": attempt.next_attempt_at,
            }
            for item, attempt in entries
        ],
    )


async def attempts_of(session: AsyncSession, notification_id: str) -> tuple[Attempt, ...]:
    rows = await session.execute(
        select(delivery_attempts)
        .where(delivery_attempts.c.notification_id == notification_id)
        .order_by(delivery_attempts.c.attempt)
    )
    return tuple(
        Attempt(row.attempt, row.at, AttemptOutcome(row.outcome), row.reason, row.detail, row.next_attempt_at)
        for row in rows
    )


async def due_emails(session: AsyncSession, now: datetime, limit: int) -> list[Notification]:
    return await due_deliveries(session, Channel.EMAIL, now, limit)


async def due_deliveries(
    session: AsyncSession, channel: Channel, now: datetime, limit: int
) -> list[Notification]:
    rows = await session.execute(
        select(notifications)
        .where(
            notifications.c.state == DeliveryState.PENDING.value,
            notifications.c.channel == channel.value,
            notifications.c.next_attempt_at <= now,
        )
        .order_by(notifications.c.next_attempt_at, notifications.c.notification_id)
        .limit(limit)
    )
    return [_notification_of(row) for row in rows]


async def list_inbox(
    session: AsyncSession,
    tenant: str,
    recipient_id: str,
    unread_only: bool,
    limit: int,
    before: tuple[datetime, str] | None,
) -> tuple[list[Notification], int]:
    """A page of the recipient's in-app items, newest first, after the keyset of the previous page."""
    scope = [
        notifications.c.tenant == tenant,
        notifications.c.recipient_id == recipient_id,
        notifications.c.channel == Channel.IN_APP.value,
    ]
    if unread_only:
        scope.append(notifications.c.is_read.is_(False))
    query = select(notifications).where(*scope)
    if before is not None:
        created_at, notification_id = before
        query = query.where(
            or_(
                notifications.c.created_at < created_at,
                and_(
                    notifications.c.created_at == created_at,
                    notifications.c.notification_id < notification_id,
                ),
            )
        )
    rows = await session.execute(
        query.order_by(notifications.c.created_at.desc(), notifications.c.notification_id.desc()).limit(limit)
    )
    total = (
        await session.execute(select(func.count()).select_from(notifications).where(*scope))
    ).scalar_one()
    return [_notification_of(row) for row in rows], int(total)


# ---- preferences ----


async def get_preferences(
    session: AsyncSession, tenant: str, recipient_ids: Iterable[str]
) -> dict[str, Preferences]:
    """The stored preferences of these recipients of ``tenant``, by recipient id."""
    wanted = list(dict.fromkeys(recipient_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(preferences).where(preferences.c.tenant == tenant, preferences.c.recipient_id.in_(wanted))
    )
    return {
        row.recipient_id: Preferences(
            recipient_id=row.recipient_id,
            email=row.email,
            in_app=row.in_app,
            webhook_url=row.webhook_url,
            muted_templates=frozenset(Template(name) for name in row.muted_templates),
            language=row.language,
            webhook_format=WebhookFormat(row.webhook_format),
            webhook_secret=row.webhook_secret,
            webhook_previous_secret=row.webhook_previous_secret,
            quiet_hours=parse_quiet_hours(row.quiet_start, row.quiet_end),
            categories=categories.from_json(row.categories),
        )
        for row in rows
    }


async def save_preferences(session: AsyncSession, tenant: str, wanted: Preferences, now: datetime) -> None:
    quiet = quiet_hours_text(wanted.quiet_hours)
    values = {
        "email": wanted.email,
        "in_app": wanted.in_app,
        "webhook_url": wanted.webhook_url,
        "muted_templates": sorted(template.value for template in wanted.muted_templates),
        "updated_at": now,
        "language": wanted.language,
        "webhook_format": wanted.webhook_format.value,
        "webhook_secret": wanted.webhook_secret,
        "webhook_previous_secret": wanted.webhook_previous_secret,
        "quiet_start": quiet[0],
        "quiet_end": quiet[1],
        "categories": categories.as_json(wanted.categories),
    }
    updated = await session.execute(
        preferences.update()
        .where(preferences.c.tenant == tenant, preferences.c.recipient_id == wanted.recipient_id)
        .values(**values)
    )
    if _rowcount(updated) == 0:
        await session.execute(
            preferences.insert().values(tenant=tenant, recipient_id=wanted.recipient_id, **values)
        )


async def get_tenant_defaults(session: AsyncSession, tenant: str) -> categories.CategoryChannels:
    """The tenant's channels per category (none chosen: empty)."""
    row = (
        await session.execute(select(tenant_defaults.c.categories).where(tenant_defaults.c.tenant == tenant))
    ).first()
    return categories.from_json(row.categories if row is not None else None)


async def save_tenant_defaults(
    session: AsyncSession, tenant: str, wanted: categories.CategoryChannels, now: datetime
) -> None:
    values = {"categories": categories.as_json(wanted), "updated_at": now}
    updated = await session.execute(
        tenant_defaults.update().where(tenant_defaults.c.tenant == tenant).values(**values)
    )
    if _rowcount(updated) == 0:
        await session.execute(tenant_defaults.insert().values(tenant=tenant, **values))


async def email_ids_of(session: AsyncSession, tenant: str, employee_id: str) -> list[str]:
    """The ids of every e-mail to an employee of ``tenant``, sent or queued."""
    rows = await session.execute(
        select(notifications.c.notification_id).where(
            notifications.c.tenant == tenant,
            notifications.c.recipient_id == employee_id,
            notifications.c.channel == Channel.EMAIL.value,
        )
    )
    return [row.notification_id for row in rows]


async def erase_recipient(session: AsyncSession, tenant: str, employee_id: str) -> int:
    """Forget an erased employee of ``tenant``: their deliveries (queued ones too) and their history,
    preferences and match memberships."""
    await session.execute(
        delivery_attempts.delete().where(
            delivery_attempts.c.tenant == tenant, delivery_attempts.c.recipient_id == employee_id
        )
    )
    removed = await session.execute(
        notifications.delete().where(
            notifications.c.tenant == tenant, notifications.c.recipient_id == employee_id
        )
    )
    await session.execute(
        preferences.delete().where(preferences.c.tenant == tenant, preferences.c.recipient_id == employee_id)
    )
    await session.execute(
        match_participants.delete().where(
            match_participants.c.tenant == tenant, match_participants.c.employee_id == employee_id
        )
    )
    await session.execute(
        people.delete().where(people.c.tenant == tenant, people.c.employee_id == employee_id)
    )
    return _rowcount(removed)


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count
