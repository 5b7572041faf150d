"""Dead-letter publishing: the original bytes and headers, plus why and where it failed.

A record of any size is dead-lettered. One whose copy would not fit in a Kafka request (the original
near the limit, plus our headers) goes without its value and its non-CloudEvents headers, with the
reason ``too_large``, the original reason, the value's length and SHA-256 and its first bytes; otherwise
its batch would be retried for ever and every partition behind it would stall.

A topic whose records are about a person (HRIS: keyed ``tenant:worker``) can have its dead letters
sealed (:meth:`DlqPublisher.seal_topic`): the value and every header not in :data:`CLEAR_HEADERS` are
encrypted under that person's key (``services/shared/personal_keys.py``), which their erasure deletes.
What stays readable is what an operator needs to triage: the CloudEvents id, type, source, time and
tenant, the reason, the failing service and where the original was. :func:`open_letter` gives the
original value and headers back while the key exists. A record whose key names nobody is sealed under a
key that is never stored: unreadable from the start (the original is still on its topic, which keeps
it no longer than its dead-letter twin).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from services.shared.metrics import DLQ_MESSAGES
from services.shared.outbox import kafka_producer
from services.shared.personal_keys import CIPHER, new_key, seal, unseal
from services.shared.topics import MAX_RECORD_BYTES, dlq_name

MAX_ERROR_TEXT = 1000
TOO_LARGE = "too_large"
# What the record format adds to a record's key, value and headers, rounded up generously.
RECORD_OVERHEAD_BYTES = 1024
# What a too-large record keeps of itself: the first bytes of its value, and its key and CloudEvents
# headers cut to this length.
KEPT_PREFIX_BYTES = 256

SEALED = "dlq_sealed"  # the cipher the letter's personal fields are sealed with
SEALED_FOR = "dlq_sealed_for"  # whose key: "tenant:subject", or "" for a key never stored
# Headers a sealed letter keeps readable: no personal data, and what triage needs. Everything else
# (the error text, which may quote a field's value; the value's digest and first bytes; the subject;
# any extension) is sealed.
CLEAR_HEADERS = frozenset(
    {
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_tenant",
        "content-type",
        "dlq_reason",
        "dlq_original_reason",
        "dlq_service",
        "dlq_original_topic",
        "dlq_original_partition",
        "dlq_original_offset",
        "dlq_value_length",
        SEALED,
        SEALED_FOR,
    }
)
MAX_PERSON_ID = 128


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


class PersonalKeys(Protocol):
    """Where a sealing publisher gets a person's key (made on first use)."""

    async def key_for_sealing(self, tenant: str, subject: str) -> bytes: ...


class DlqPublisher:
    def __init__(self, service: str, bootstrap: str) -> None:
        self._service = service
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._sealed_topics: dict[str, PersonalKeys] = {}

    def seal_topic(self, topic: str, keys: PersonalKeys) -> None:
        """Seal the dead letters of ``topic`` (its full name) under the key of the person each is about."""
        self._sealed_topics[topic] = keys

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
        letter = await self.letter_for(record, reason, error)
        try:
            await self._send(letter)
        except MessageSizeTooLargeError:
            # Our estimate let it through and a limit on the way did not (a broker or topic set lower).
            letter = await self._sealed(record, dead_letter(record, reason, error, self._service, 0))
            await self._send(letter)
        DLQ_MESSAGES.labels(self._service, record.topic, letter.reason).inc()

    async def letter_for(self, record: RawRecord, reason: str, error: str) -> DeadLetter:
        """The dead letter to send: whole or cut down, sealed when its topic's letters are."""
        letter = await self._sealed(record, dead_letter(record, reason, error, self._service))
        if _size(letter) > MAX_RECORD_BYTES:  # sealing made it grow past the limit
            letter = await self._sealed(record, dead_letter(record, reason, error, self._service, 0))
        return letter

    async def _sealed(self, record: RawRecord, letter: DeadLetter) -> DeadLetter:
        keys = self._sealed_topics.get(record.topic)
        if keys is None:
            return letter
        person = person_of(record.key)
        if person is None:
            return seal_letter(letter, "", "", new_key())
        return seal_letter(letter, *person, await keys.key_for_sealing(*person))

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


def person_of(key: bytes | None) -> tuple[str, str] | None:
    """``(tenant, subject)`` from a record key ``tenant:subject``; None when it names nobody."""
    try:
        tenant, found, subject = (key or b"").decode().partition(":")
    except UnicodeDecodeError:
        return None
    if not (found and tenant and subject) or max(len(tenant), len(subject)) > MAX_PERSON_ID:
        return None
    return tenant, subject


def _associated(sealed_for: bytes, field: str) -> bytes:
    return sealed_for + b"\x00" + field.encode()


def seal_letter(letter: DeadLetter, tenant: str, subject: str, key: bytes) -> DeadLetter:
    """``letter`` with its value and personal headers sealed under ``key`` (``tenant:subject``'s)."""
    sealed_for = f"{tenant}:{subject}".encode() if tenant else b""
    headers = tuple(
        (name, raw if name in CLEAR_HEADERS else seal(key, raw, _associated(sealed_for, name)))
        for name, raw in letter.headers
    )
    value = None if letter.value is None else seal(key, letter.value, _associated(sealed_for, ""))
    return DeadLetter(
        letter.topic,
        letter.key,
        value,
        (*headers, (SEALED, CIPHER.encode()), (SEALED_FOR, sealed_for)),
        letter.reason,
    )


def open_letter(
    value: bytes | None, headers: tuple[tuple[str, bytes], ...], key: bytes
) -> tuple[bytes | None, tuple[tuple[str, bytes], ...]]:
    """The value and headers of a sealed letter as they were before sealing; raises
    :class:`~services.shared.personal_keys.Unreadable` when ``key`` is not the one it was sealed with."""
    sealed_for = dict(headers).get(SEALED_FOR, b"")
    opened = tuple(
        (name, raw if name in CLEAR_HEADERS else unseal(key, raw, _associated(sealed_for, name)))
        for name, raw in headers
        if name not in (SEALED, SEALED_FOR)
    )
    return (None if value is None else unseal(key, value, _associated(sealed_for, ""))), opened


def _size(letter: DeadLetter) -> int:
    headers = sum(len(name) + len(raw) for name, raw in letter.headers)
    return len(letter.key or b"") + len(letter.value or b"") + headers + RECORD_OVERHEAD_BYTES
