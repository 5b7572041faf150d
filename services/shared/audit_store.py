"""Where the audit trail is kept: the ``audit_log`` table of the service's own database (created by the
shared migration ``messaging_0004``) and, in the same transaction, an ``AuditRecorded`` event in the
outbox for ``audit.events.v1``.

The table is append-only: this module inserts rows and deletes those past their retention, nothing else,
and the database refuses an UPDATE (a trigger). A record holds opaque ids only (employee ids, service
names, token subjects, the ids a request named), never names, e-mails or free text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import events_pb2 as ev
from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import UtcDateTime, messaging_metadata, rows_affected
from services.shared.envelope import published_event
from services.shared.outbox import stage_events

audit_log_table = Table(
    "audit_log",
    messaging_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("audit_id", String(64), nullable=False, unique=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("service", String(50), nullable=False),
    Column("grpc_service", String(200), nullable=False),
    Column("grpc_method", String(100), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("reason", String(100), nullable=False),
    Column("tenant", String(100), nullable=False),
    Column("actor_employee_id", String(200), nullable=False),
    Column("actor_service", String(100), nullable=False),
    Column("actor_subject", String(200), nullable=False),
    Column("ids", Text, nullable=False),  # JSON object: request field -> list of ids
    Column("audited", Boolean, nullable=False),
    Index("ix_audit_log_recorded_at", "recorded_at"),
    Index("ix_audit_log_tenant", "tenant", "recorded_at"),
)

Ids = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One recorded call. Empty strings where there is nothing (an unauthenticated call has no actor)."""

    audit_id: str
    recorded_at: datetime
    service: str
    grpc_service: str
    grpc_method: str
    outcome: str
    reason: str
    tenant: str
    actor_employee_id: str
    actor_service: str
    actor_subject: str
    ids: Ids
    audited: bool

    def row(self) -> dict[str, Any]:
        return {
            "audit_id": self.audit_id,
            "recorded_at": self.recorded_at,
            "service": self.service,
            "grpc_service": self.grpc_service,
            "grpc_method": self.grpc_method,
            "outcome": self.outcome,
            "reason": self.reason,
            "tenant": self.tenant,
            "actor_employee_id": self.actor_employee_id,
            "actor_service": self.actor_service,
            "actor_subject": self.actor_subject,
            "ids": json.dumps({field: list(values) for field, values in self.ids}, sort_keys=True),
            "audited": self.audited,
        }

    def message(self) -> ev.AuditRecorded:
        recorded_at = Timestamp()
        recorded_at.FromDatetime(self.recorded_at)
        actor = ev.AuditActor(
            employee_id=self.actor_employee_id, service=self.actor_service, subject=self.actor_subject
        )
        return ev.AuditRecorded(
            audit_id=self.audit_id,
            recorded_at=recorded_at,
            service=self.service,
            grpc_service=self.grpc_service,
            grpc_method=self.grpc_method,
            outcome=self.outcome,
            reason=self.reason,
            tenant=self.tenant,
            actor=actor if actor.ByteSize() else None,
            ids=[ev.AuditIds(field=field, values=values) for field, values in self.ids],
            audited=self.audited,
        )


async def append(session: AsyncSession, records: Sequence[AuditRecord]) -> None:
    """Insert ``records`` and stage their events, in the caller's transaction."""
    if not records:
        return
    await session.execute(audit_log_table.insert(), [record.row() for record in records])
    events = []
    for record in records:
        event = published_event(
            record.service,
            record.message(),
            subject=f"/{record.grpc_service}/{record.grpc_method}",
            tenant=record.tenant,
        )
        # The audit id is the event's id: a consumer deduplicating by ce_id sees each record once.
        events.append((replace(event, id=record.audit_id), record.tenant))
    await stage_events(session, events)


async def delete_older_than(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the oldest rows recorded before ``cutoff`` (the retention, nothing else)."""
    expired = (
        select(audit_log_table.c.id)
        .where(audit_log_table.c.recorded_at < cutoff)
        .order_by(audit_log_table.c.recorded_at)
        .limit(limit)
    )
    result = await session.execute(delete(audit_log_table).where(audit_log_table.c.id.in_(expired)))
    return rows_affected(result)
