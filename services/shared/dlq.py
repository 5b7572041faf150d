"""Dead-letter publishing: the original bytes and headers, plus why and where it failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from services.shared.metrics import DLQ_MESSAGES
from services.shared.outbox import kafka_producer
from services.shared.topics import dlq_name

MAX_ERROR_TEXT = 1000


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A consumed Kafka record as it arrived, whatever the consumer library."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def raw_record(message: Any) -> RawRecord:
    """A consumed record of Faust or aiokafka (headers as a mapping or as pairs) as a RawRecord."""
    return RawRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=_headers_of(message.headers),
    )


def _headers_of(headers: Any) -> tuple[tuple[str, bytes], ...]:
    if not headers:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(name), bytes(value)) for name, value in items)


class DlqPublisher:
    def __init__(self, service: str, bootstrap: str) -> None:
        self._service = service
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = kafka_producer(self._bootstrap)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, record: RawRecord, reason: str, error: str) -> None:
        """Send to ``<topic>.dlq`` and wait for the broker's acknowledgement before returning."""
        if self._producer is None:
            raise RuntimeError("the DLQ publisher sends only between start() and stop()")
        headers = [
            *record.headers,
            ("dlq_reason", reason.encode()),
            ("dlq_error", error[:MAX_ERROR_TEXT].encode()),
            ("dlq_service", self._service.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            dlq_name(record.topic), record.value, key=record.key, headers=headers
        )
        DLQ_MESSAGES.labels(self._service, record.topic, reason).inc()
