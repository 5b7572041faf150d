"""The notification service's tables (SQLAlchemy Core) and the queries its handlers run.

It keeps deliveries (in-app inbox items and e-mails), preferences, and what it needs to address events
that carry only ids: the names of programmes and the participants of each match. Every function runs in
the caller's ``AsyncSession`` (the unit of work).

Employee ids are unique within a tenant only, so everything about a person is keyed and queried by
(tenant, employee id): the tenant of a delivery and of a match is the one its event carried
(``ce_tenant``), that of an API call the caller's token's. Programme and match ids are unique across
tenants (drawn at random by the services that create them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.adapters.context_json import context_json, context_of
from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.model import (
    Attempt,
    AttemptOutcome,
    Channel,
    DeliveryState,
    Notification,
    Preferences,
    Recipient,
)
from services.notification.domain.templates import Audience, Template
from services.shared.db import UtcDateTime

metadata = MetaData()

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("recipient_id", String(128), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("template", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(64), nullable=False),
    Column("is_read", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("context", JSON, nullable=True),  # e-mails: what they are written from at send time
    Index("ix_notifications_inbox", "tenant", "recipient_id", "channel", "created_at"),
    Index("ix_notifications_due", "state", "channel", "next_attempt_at"),
)

# Every attempt of every delivery, for its delivery status (erased with the person's deliveries).
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("notification_id", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("recipient_id", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", String(64), nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("notification_id", "attempt"),
    Index("ix_delivery_attempts_recipient", "tenant", "recipient_id"),
)

preferences = Table(
    "preferences",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("recipient_id", String(128), nullable=False),
    Column("email", Boolean, nullable=False),
    Column("in_app", Boolean, nullable=False),
    Column("webhook_url", Text, nullable=False),
    Column("muted_templates", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant", "recipient_id", name="pk_preferences_tenant"),
)

# Each session's calendar entry as last announced (its SEQUENCE counts the moves and the cancellation).
session_calendar = Table(
    "session_calendar",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("location", Text, nullable=False),
    Column("meeting_link", Text, nullable=False),
    PrimaryKeyConstraint("tenant", "session_id"),
)

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
)

match_participants = Table(
    "match_participants",
    metadata,
    Column("match_id", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("program_id", String(128), nullable=False),
    Column("tenant", String(128), nullable=False),
    PrimaryKeyConstraint("match_id", "employee_id"),
    Index("ix_match_participants_employee", "tenant", "employee_id"),
)


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
    rows = await session.execute(
        select(notifications)
        .where(
            notifications.c.state == DeliveryState.PENDING.value,
            notifications.c.channel == Channel.EMAIL.value,
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
        )
        for row in rows
    }


async def save_preferences(session: AsyncSession, tenant: str, wanted: Preferences, now: datetime) -> None:
    values = {
        "email": wanted.email,
        "in_app": wanted.in_app,
        "webhook_url": wanted.webhook_url,
        "muted_templates": sorted(template.value for template in wanted.muted_templates),
        "updated_at": now,
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


# ---- programmes and matches ----


async def save_program(session: AsyncSession, program_id: str, name: str) -> None:
    updated = await session.execute(
        programs.update().where(programs.c.program_id == program_id).values(name=name)
    )
    if _rowcount(updated) == 0:
        await session.execute(programs.insert().values(program_id=program_id, name=name))


async def program_name(session: AsyncSession, program_id: str) -> str:
    found = await session.execute(select(programs.c.name).where(programs.c.program_id == program_id))
    return found.scalar_one_or_none() or ""


async def save_match(
    session: AsyncSession, tenant: str, match_id: str, program_id: str, participants: Sequence[Recipient]
) -> None:
    # Scoped by tenant too: an event of another tenant naming this match id cannot rewrite its people.
    await session.execute(
        match_participants.delete().where(
            match_participants.c.tenant == tenant, match_participants.c.match_id == match_id
        )
    )
    if participants:
        await session.execute(
            match_participants.insert(),
            [
                {
                    "match_id": match_id,
                    "employee_id": participant.employee_id,
                    "audience": participant.audience.value,
                    "program_id": program_id,
                    "tenant": tenant,
                }
                for participant in participants
            ],
        )


async def session_of(session: AsyncSession, tenant: str, session_id: str) -> SessionCalendar | None:
    row = (
        await session.execute(
            select(session_calendar).where(
                session_calendar.c.tenant == tenant, session_calendar.c.session_id == session_id
            )
        )
    ).first()
    if row is None:
        return None
    return SessionCalendar(
        session_id=row.session_id,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        sequence=row.sequence,
        cancelled=row.cancelled,
        location=row.location,
        meeting_link=row.meeting_link,
    )


async def save_session(session: AsyncSession, tenant: str, entry: SessionCalendar) -> None:
    values = {
        "starts_at": entry.starts_at,
        "duration_minutes": entry.duration_minutes,
        "sequence": entry.sequence,
        "cancelled": entry.cancelled,
        "location": entry.location,
        "meeting_link": entry.meeting_link,
    }
    updated = await session.execute(
        session_calendar.update()
        .where(session_calendar.c.tenant == tenant, session_calendar.c.session_id == entry.session_id)
        .values(**values)
    )
    if _rowcount(updated) == 0:
        await session.execute(
            session_calendar.insert().values(tenant=tenant, session_id=entry.session_id, **values)
        )


async def match_of(
    session: AsyncSession, tenant: str, match_id: str
) -> tuple[str, tuple[Recipient, ...]] | None:
    """The programme and participants of a match of ``tenant`` known from matching events (mentor
    first); None for an unknown match or one of another tenant."""
    rows = (
        await session.execute(
            select(match_participants)
            .where(match_participants.c.tenant == tenant, match_participants.c.match_id == match_id)
            .order_by(match_participants.c.audience.desc(), match_participants.c.employee_id)
        )
    ).all()
    if not rows:
        return None
    return rows[0].program_id, tuple(Recipient(row.employee_id, Audience(row.audience)) for row in rows)


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
    return _rowcount(removed)


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count
