"""A high-volume topic consumed in whole fetches, straight from aiokafka.

Faust hands an agent one event at a time (an Event object, a queue hop and flow-control waits per
record): measured on the HRIS topic, a Faust agent whose handler did nothing peaked at ~4,400 records/s
while a plain aiokafka consumer read and decoded ~80,000/s. A firehose topic (HRIS lifecycle events)
therefore takes this path: ``getmany`` returns up to a batch of records, the shared
:class:`ConsumerPipeline` applies them in one transaction, and only then are the offsets committed.
A crash between the commit of the transaction and the commit of the offsets redelivers the batch,
which the inbox turns into duplicates: at least once in, exactly once applied.

The consumer group is the service's own per topic (``<namespace><service>.<topic>``), separate from the
Faust app's group, whose partition assignor it could not share.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from services.shared.consumer import ConsumerPipeline, until_processed
from services.shared.dlq import raw_record
from services.shared.logging import get_logger
from services.shared.metrics import CONSUMER_LAG

log = get_logger(__name__)

# How long stop() lets the batch in hand finish before cancelling it (its transaction then rolls back
# and the records are redelivered).
STOP_GRACE_SECONDS = 5.0
FETCH_RETRY_SECONDS = 1.0


class BulkConsumer:
    def __init__(
        self,
        service: str,
        pipeline: ConsumerPipeline,
        *,
        bootstrap: str,
        topic: str,
        group_id: str,
        batch_size: int,
        batch_seconds: float,
        session_timeout_seconds: float,
    ) -> None:
        self._service = service
        self._pipeline = pipeline
        self._topic = topic
        self._batch_size = batch_size
        self._batch_timeout_ms = max(1, int(batch_seconds * 1000))
        self._config = {
            "bootstrap_servers": bootstrap,
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "max_poll_records": batch_size,
            "max_partition_fetch_bytes": 8 << 20,
            "session_timeout_ms": int(session_timeout_seconds * 1000),
            "heartbeat_interval_ms": int(session_timeout_seconds * 1000 / 3),
        }
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Created here, not in __init__: aiokafka binds to the running loop.
        self._consumer = AIOKafkaConsumer(self._topic, **self._config)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(self._consumer), name=f"bulk-consumer:{self._topic}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            try:
                fetched = await consumer.getmany(
                    timeout_ms=self._batch_timeout_ms, max_records=self._batch_size
                )
            except KafkaError as exc:  # the broker away or a fetch refused: fetch again, never give up
                log.warning("fetch_failed", topic=self._topic, error=type(exc).__name__)
                await asyncio.sleep(FETCH_RETRY_SECONDS)
                continue
            if not fetched:
                continue
            records = [raw_record(message) for messages in fetched.values() for message in messages]
            await until_processed(self._pipeline, records)
            await self._commit(consumer, {tp: messages[-1].offset + 1 for tp, messages in fetched.items()})

    async def _commit(self, consumer: AIOKafkaConsumer, next_offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in next_offsets.items()})
        except KafkaError as exc:
            # A rebalance took the partitions away: their new owner re-reads from the last committed
            # offset and the inbox skips what this batch applied.
            log.warning("offsets_not_committed", topic=self._topic, error=type(exc).__name__)
        for tp, offset in next_offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                CONSUMER_LAG.labels(self._service, tp.topic, str(tp.partition)).set(
                    max(highwater - offset, 0)
                )
