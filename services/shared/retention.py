"""Retention of the messaging tables: published outbox rows and inbox ids are kept for a while, then
deleted, so neither table grows for ever (nor slows every insert into it as it grows).

Deletion goes in chunks, one short transaction each, so a consumer's or the relay's transaction never
waits behind a long delete. Unpublished outbox rows are never deleted, whatever their age.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Delete, delete, select

from services.shared.db import Database, rows_affected
from services.shared.inbox import inbox_table
from services.shared.logging import get_logger
from services.shared.metrics import MESSAGING_ROWS_PRUNED
from services.shared.outbox import outbox_table
from services.shared.topics import TOPICS

log = get_logger(__name__)

DELETE_CHUNK = 5000


class RetentionTooShort(ValueError):
    """The inbox would forget ids that a consumer can still be handed again."""


@dataclass(frozen=True)
class Pruned:
    outbox: int
    inbox: int


def hours(value: float) -> timedelta | None:
    """A retention setting in hours; 0 means keep for ever (None)."""
    return timedelta(hours=value) if value > 0 else None


def check_inbox_retention(inbox_retention: timedelta | None, consumed_topics: Iterable[str]) -> None:
    """Refuse an inbox retention shorter than the retention of a topic the service consumes."""
    if inbox_retention is None:
        return
    for topic in consumed_topics:
        kept = timedelta(milliseconds=TOPICS[topic].retention_ms)
        if inbox_retention < kept:
            raise RetentionTooShort(
                f"inbox_retention_hours must be at least {kept / timedelta(hours=1):g}, the retention of "
                f"{topic}: a consumer re-reading it from the start would apply its records again"
            )


class MessagingRetention:
    """Deletes published outbox rows and inbox ids older than their retention, now and then."""

    def __init__(
        self,
        service: str,
        database: Database,
        *,
        outbox_retention: timedelta | None,
        inbox_retention: timedelta | None,
        interval_seconds: float,
        chunk_size: int = DELETE_CHUNK,
    ) -> None:
        self._service = service
        self._database = database
        self._outbox_retention = outbox_retention
        self._inbox_retention = inbox_retention
        self._interval_seconds = interval_seconds
        self._chunk_size = chunk_size
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def prune(self, now: datetime | None = None) -> Pruned:
        moment = now if now is not None else datetime.now(UTC)
        # published_at < cutoff is false for unpublished rows (NULL): they are never expired.
        outbox = await self._prune(
            outbox_table.c.id, outbox_table.c.published_at, self._outbox_retention, moment
        )
        inbox = await self._prune(
            inbox_table.c.event_id, inbox_table.c.applied_at, self._inbox_retention, moment
        )
        MESSAGING_ROWS_PRUNED.labels(self._service, "outbox").inc(outbox)
        MESSAGING_ROWS_PRUNED.labels(self._service, "inbox").inc(inbox)
        return Pruned(outbox, inbox)

    async def _prune(
        self,
        key: Column[Any],
        age: Column[datetime],
        retention: timedelta | None,
        moment: datetime,
    ) -> int:
        """Delete the rows of ``key``'s table whose ``age`` column is older than ``retention``."""
        if retention is None:
            return 0
        expired = select(key).where(age < moment - retention).order_by(age).limit(self._chunk_size)
        return await self._delete_in_chunks(delete(key.table).where(key.in_(expired)))

    async def _delete_in_chunks(self, statement: Delete) -> int:
        total = 0
        while True:
            async with self._database.transaction() as session:
                deleted = rows_affected(await session.execute(statement))
            total += deleted
            # A long backlog (the first run after an upgrade) must not hold up a shutdown.
            if deleted < self._chunk_size or self._stopping.is_set():
                return total
            await asyncio.sleep(0)  # let the consumers and the relay in between chunks

    async def start(self) -> None:
        if self._outbox_retention is None and self._inbox_retention is None:
            return
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-messaging-retention")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                pruned = await self.prune()
            except Exception:  # a database outage must not end housekeeping for good
                log.exception("messaging_retention_failed")
            else:
                if pruned.outbox or pruned.inbox:
                    log.info("messaging_rows_pruned", outbox=pruned.outbox, inbox=pruned.inbox)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval_seconds)
