"""Idempotent inbox: a consumer records each ``ce_id`` it applied in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import messaging_metadata
from services.shared.envelope import CloudEvent

inbox_table = Table(
    "inbox",
    messaging_metadata,
    Column("event_id", String(64), primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("ce_type", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Index("ix_inbox_applied_at", "applied_at"),  # retention deletes by age
)


async def applied_ids(session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
    """Which of these events were applied already."""
    if not event_ids:
        return set()
    found = await session.execute(select(inbox_table.c.event_id).where(inbox_table.c.event_id.in_(event_ids)))
    return {row.event_id for row in found}


async def record_applied(session: AsyncSession, applied: Sequence[tuple[CloudEvent, str]]) -> None:
    """Record ``(event, topic)`` pairs as applied, in one statement, inside the caller's transaction."""
    if not applied:
        return
    now = datetime.now(UTC)
    await session.execute(
        inbox_table.insert(),
        [
            {"event_id": event.id, "topic": topic, "ce_type": event.type, "applied_at": now}
            for event, topic in applied
        ],
    )
