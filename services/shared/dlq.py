"""Dead-letter publishing: the original bytes and headers, plus why and where it failed.

A record of any size is dead-lettered. One whose copy would not fit in a Kafka request (the original
near the limit, plus our headers) goes without its value and its non-CloudEvents headers, with the
reason ``too_large``, the original reason, the value's length and SHA-256 and its first bytes; otherwise
its batch would be retried for ever and every partition behind it would stall.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from services.shared.metrics import DLQ_MESSAGES
from services.shared.outbox import kafka_producer
from services.shared.topics import MAX_RECORD_BYTES, dlq_name

MAX_ERROR_TEXT = 1000
TOO_LARGE = "too_large"
# What the record format adds to a record's key, value and headers, rounded up generously.
RECORD_OVERHEAD_BYTES = 1024
# What a too-large record keeps of itself: the first bytes of its value, and its key and CloudEvents
# headers cut to this length.
KEPT_PREFIX_BYTES = 256


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
        letter = dead_letter(record, reason, error, self._service)
        try:
            await self._send(letter)
        except MessageSizeTooLargeError:
            # Our estimate let it through and a limit on the way did not (a broker or topic set lower).
            letter = dead_letter(record, reason, error, self._service, max_bytes=0)
            await self._send(letter)
        DLQ_MESSAGES.labels(self._service, record.topic, letter.reason).inc()

    async def _send(self, letter: DeadLetter) -> None:
        assert self._producer is not None
        await self._producer.send_and_wait(
            letter.topic, letter.value, key=letter.key, headers=list(letter.headers)
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    reason: str


def dead_letter(
    record: RawRecord, reason: str, error: str, service: str, max_bytes: int = MAX_RECORD_BYTES
) -> DeadLetter:
    """The DLQ copy of ``record``: whole when it fits in ``max_bytes``, else cut down to what identifies
    it (``too_large``)."""
    about = (
        ("dlq_error", error[:MAX_ERROR_TEXT].encode()),
        ("dlq_service", service.encode()),
        ("dlq_original_topic", record.topic.encode()),
        ("dlq_original_partition", str(record.partition).encode()),
        ("dlq_original_offset", str(record.offset).encode()),
    )
    whole = DeadLetter(
        dlq_name(record.topic),
        record.key,
        record.value,
        (*record.headers, ("dlq_reason", reason.encode()), *about),
        reason,
    )
    if _size(whole) <= max_bytes:
        return whole
    value = record.value or b""
    cloudevents_headers = tuple(
        (name, raw[:KEPT_PREFIX_BYTES]) for name, raw in record.headers if name.startswith("ce_")
    )
    return DeadLetter(
        whole.topic,
        None if record.key is None else record.key[:KEPT_PREFIX_BYTES],
        None,
        (
            *cloudevents_headers,
            ("dlq_reason", TOO_LARGE.encode()),
            ("dlq_original_reason", reason.encode()),
            *about,
            ("dlq_value_length", str(len(value)).encode()),
            ("dlq_value_sha256", hashlib.sha256(value).hexdigest().encode()),
            ("dlq_value_head", value[:KEPT_PREFIX_BYTES]),
        ),
        TOO_LARGE,
    )


def _size(letter: DeadLetter) -> int:
    headers = sum(len(name) + len(raw) for name, raw in letter.headers)
    return len(letter.key or b"") + len(letter.value or b"") + headers + RECORD_OVERHEAD_BYTES
