"""Transactional outbox: an event is written in the same transaction as the state change that caused
it, and a relay publishes unpublished rows in order, then marks them published.

At-least-once: a relay killed between publishing and marking publishes those rows again on restart;
consumers skip them through their inbox (``ce_id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    false,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import Database, messaging_metadata, rows_affected
from services.shared.envelope import CloudEvent, binary_headers
from services.shared.logging import get_logger
from services.shared.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED
from services.shared.topics import EVENT_TYPES, MAX_RECORD_BYTES

outbox_table = Table(
    "outbox",
    messaging_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", LargeBinary, nullable=True),
    Column("ce_type", String(200), nullable=False),
    Column("ce_source", String(200), nullable=False),
    Column("ce_time", String(40), nullable=False),
    Column("ce_subject", String(200), nullable=False),
    Column("ce_tenant", String(100), nullable=False),
    Column("ce_extensions", Text, nullable=True),  # JSON object of extension attributes, if any
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # Deleted once published rather than kept: the person it is about was erased while it waited.
    Column("forget_after_publish", Boolean, nullable=False, server_default=false()),
    Index("ix_outbox_unpublished", "published_at", "id"),
    Index("ix_outbox_subject", "ce_tenant", "ce_subject"),  # an erasure deletes rows by subject
)

log = get_logger(__name__)

BACKLOG_REFRESH_SECONDS = 5.0


def outbox_row(event: CloudEvent, key: str) -> dict[str, Any]:
    """The outbox row of an event, on the topic the registry assigns to its type."""
    return {
        "event_id": event.id,
        "topic": EVENT_TYPES[event.type].topic,
        "key": key.encode(),
        "ce_type": event.type,
        "ce_source": event.source,
        "ce_time": event.time.isoformat(),
        "ce_subject": event.subject,
        "ce_tenant": event.tenant,
        "ce_extensions": json.dumps(dict(event.extensions)) if event.extensions else None,
        "payload": event.message().SerializeToString(),
        "created_at": datetime.now(UTC),
    }


async def stage_events(session: AsyncSession, events: Sequence[tuple[CloudEvent, str]]) -> None:
    """Write ``(event, key)`` pairs to the outbox inside the caller's transaction."""
    if events:
        await session.execute(outbox_table.insert(), [outbox_row(event, key) for event, key in events])


async def forget_subjects(session: AsyncSession, tenant: str, subjects: Collection[str]) -> int:
    """An erasure: rows about these subjects may hold the person's data. Published ones are deleted now
    (returns how many); unpublished ones are published first, since consumers need them in order before
    the erasure's own events, and deleted by the relay as soon as they are."""
    if not subjects:
        return 0
    about = (outbox_table.c.ce_tenant == tenant, outbox_table.c.ce_subject.in_(sorted(subjects)))
    await session.execute(
        update(outbox_table)
        .where(*about, outbox_table.c.published_at.is_(None))
        .values(forget_after_publish=True)
    )
    published = outbox_table.c.published_at.is_not(None)
    return rows_affected(await session.execute(delete(outbox_table).where(*about, published)))


def kafka_producer(bootstrap: str, **overrides: Any) -> AIOKafkaProducer:
    """The producer every publisher uses: all replicas acknowledge, idempotent, so retries keep order."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "max_request_size": MAX_RECORD_BYTES,
        "request_timeout_ms": 30000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


@dataclass(frozen=True)
class _InFlight:
    """A batch sent to the broker, not yet acknowledged."""

    ids: list[int]
    topics: list[str]
    deliveries: list[asyncio.Future[Any]]


class OutboxRelay:
    """Publishes outbox rows in id order and marks them published; one relay per service database."""

    def __init__(
        self,
        service: str,
        database: Database,
        bootstrap: str,
        batch_size: int = 2000,
        poll_seconds: float = 0.05,
        namespace: str = "",
    ) -> None:
        self._service = service
        self._database = database
        self._bootstrap = bootstrap
        self._namespace = namespace
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Nudge the relay after a commit, so an event leaves at once rather than at the next poll."""
        self._wake.set()

    async def start(self, background: bool = True) -> None:
        """Connect the producer and, unless ``background`` is off (benchmarks, tools), start the loop."""
        self._producer = kafka_producer(self._bootstrap)
        await self._producer.start()
        await self.refresh_backlog()
        if background:
            self._task = asyncio.create_task(self._run(), name=f"{self._service}-outbox-relay")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._producer is not None:
            await self._producer.stop()

    async def publish_pending(self) -> int:
        """Publish every unpublished row, in id order; returns how many were published.

        Pipelined: while one batch is in flight to the broker the next is read from the database, and
        a batch is marked published only once the broker acknowledged all of it.
        """
        if self._producer is None:
            raise RuntimeError("the relay publishes only between start() and stop()")
        published = 0
        after_id = 0
        in_flight: _InFlight | None = None
        while True:
            rows = await self._read_batch(after_id)
            sending = None
            if rows:
                after_id = rows[-1].id
                sending = _InFlight(
                    ids=[row.id for row in rows],
                    topics=[row.topic for row in rows],
                    deliveries=await self._send(rows),
                )
            if in_flight is not None:
                published += await self._confirm(in_flight)
            if sending is None:
                return published
            in_flight = sending

    async def _read_batch(self, after_id: int) -> Sequence[Any]:
        # Rows committed later with a lower id (possible on PostgreSQL) are read on the next call.
        async with self._database.read_sessions() as session:
            result = await session.execute(
                select(
                    outbox_table.c.id,
                    outbox_table.c.event_id,
                    outbox_table.c.topic,
                    outbox_table.c.key,
                    outbox_table.c.ce_type,
                    outbox_table.c.ce_source,
                    outbox_table.c.ce_time,
                    outbox_table.c.ce_subject,
                    outbox_table.c.ce_tenant,
                    outbox_table.c.ce_extensions,
                    outbox_table.c.payload,
                )
                .where(outbox_table.c.published_at.is_(None), outbox_table.c.id > after_id)
                .order_by(outbox_table.c.id)
                .limit(self._batch_size)
            )
            return result.all()

    async def _send(self, rows: Sequence[Any]) -> list[asyncio.Future[Any]]:
        """Append rows to one producer batch per partition, in order, and send each full batch.

        Partitions are chosen by the producer's default partitioner on the key, as ``send`` would; a
        partition's batches leave in order and the idempotent producer keeps that order on retries.
        """
        assert self._producer is not None
        producer = self._producer
        deliveries: list[asyncio.Future[Any]] = []
        open_batches: dict[tuple[str, int], Any] = {}
        for row in rows:
            topic = self._namespace + row.topic
            partitions = self._partitions.get(topic)
            if partitions is None:
                partitions = self._partitions[topic] = sorted(await producer.partitions_for(topic))
            partition = self._partitioner(row.key, partitions, partitions)
            headers = binary_headers(
                row.event_id,
                row.ce_source,
                row.ce_type,
                row.ce_time,
                row.ce_subject,
                row.ce_tenant,
                json.loads(row.ce_extensions) if row.ce_extensions else None,
            )
            batch = open_batches.get((topic, partition))
            if batch is None:
                batch = open_batches[(topic, partition)] = producer.create_batch()
            if batch.append(key=row.key, value=row.payload, timestamp=None, headers=headers) is None:
                deliveries.append(await producer.send_batch(batch, topic, partition=partition))
                batch = open_batches[(topic, partition)] = producer.create_batch()
                batch.append(key=row.key, value=row.payload, timestamp=None, headers=headers)
        for (topic, partition), batch in open_batches.items():
            deliveries.append(await producer.send_batch(batch, topic, partition=partition))
        return deliveries

    async def _confirm(self, sent: _InFlight) -> int:
        await asyncio.gather(*sent.deliveries)
        async with self._database.transaction() as session:
            # The flag is read now, not with the batch: an erasure may have set it while the batch was out.
            # Only flagged rows are in the partial index ix_outbox_forget, so this look-up costs nothing.
            flagged = await session.execute(
                select(outbox_table.c.id).where(outbox_table.c.forget_after_publish)
            )
            forget = set(flagged.scalars()).intersection(sent.ids)
            if forget:
                await session.execute(delete(outbox_table).where(outbox_table.c.id.in_(forget)))
            await session.execute(
                update(outbox_table)
                .where(outbox_table.c.id.in_(sent.ids))
                .values(published_at=datetime.now(UTC))
            )
        for topic, count in Counter(sent.topics).items():
            OUTBOX_PUBLISHED.labels(self._service, topic).inc(count)
        return len(sent.ids)

    async def refresh_backlog(self) -> int:
        async with self._database.read_sessions() as session:
            backlog = int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(outbox_table)
                        .where(outbox_table.c.published_at.is_(None))
                    )
                ).scalar_one()
            )
        OUTBOX_BACKLOG.labels(self._service).set(backlog)
        return backlog

    async def _run(self) -> None:
        last_count = 0.0
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                published = await self.publish_pending()
            except Exception:  # the relay must outlive a broker or database outage
                log.exception("outbox_publish_failed")
                published = 0
                await asyncio.sleep(1.0)
            if published or time.monotonic() - last_count > BACKLOG_REFRESH_SECONDS:
                await self.refresh_backlog()
                last_count = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
