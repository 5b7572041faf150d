"""The consuming side of every service: decode, skip what was applied, apply in one transaction,
retry what is transient, dead-letter what is not. No exception vanishes; every outcome is counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import Database
from services.shared.dlq import DlqPublisher, RawRecord
from services.shared.envelope import CloudEvent, EnvelopeError, decode
from services.shared.errors import DomainError, FailedPrecondition, InvalidArgument
from services.shared.inbox import already_applied, record_applied
from services.shared.logging import get_logger
from services.shared.metrics import CONSUMER_EVENTS_BY_TYPE, CONSUMER_MESSAGES, EVENT_PROCESSING_SECONDS

# A handler applies one event inside the unit of work it is given and returns; it raises a DomainError
# for bad data (dead-lettered) and anything transient for a retry.
EventHandler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
AfterCommit = Callable[[], None]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, TimeoutError)

log = get_logger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DLQ = "dlq"


class ConsumerPipeline:
    def __init__(
        self,
        service: str,
        database: Database,
        handlers: Mapping[str, EventHandler],
        dlq: DlqPublisher,
        max_retries: int = 5,
        retry_base_seconds: float = 0.2,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self._service = service
        self._database = database
        self._handlers = handlers
        self._dlq = dlq
        self._max_retries = max_retries
        self._retry_base_seconds = retry_base_seconds
        self._after_commit = after_commit

    async def process(self, record: RawRecord) -> Outcome:
        started = time.perf_counter()
        try:
            outcome, ce_type = await self._process(record)
        finally:
            EVENT_PROCESSING_SECONDS.labels(self._service, record.topic).observe(
                time.perf_counter() - started
            )
        CONSUMER_MESSAGES.labels(self._service, record.topic, outcome.value).inc()
        CONSUMER_EVENTS_BY_TYPE.labels(self._service, record.topic, ce_type, outcome.value).inc()
        return outcome

    async def _process(self, record: RawRecord) -> tuple[Outcome, str]:
        try:
            event = decode(record.headers, record.value)
        except EnvelopeError as exc:
            await self._dead_letter(record, exc.reason, exc.message)
            return Outcome.DLQ, "undecodable"
        handler = self._handlers.get(event.type)
        if handler is None:
            return Outcome.IGNORED, event.type
        attempt = 0
        while True:
            try:
                applied = await self._apply(handler, event, record.topic)
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                CONSUMER_MESSAGES.labels(self._service, record.topic, "retried").inc()
                if attempt > self._max_retries:
                    await self._dead_letter(record, "retries_exhausted", repr(exc))
                    return Outcome.DLQ, event.type
                await asyncio.sleep(self._retry_base_seconds * 2 ** (attempt - 1))
                continue
            except DomainError as exc:
                await self._dead_letter(record, _reason_of(exc), exc.message)
                return Outcome.DLQ, event.type
            except Exception as exc:
                log.exception("handler_failed", topic=record.topic, ce_type=event.type, ce_id=event.id)
                await self._dead_letter(record, "handler_error", f"{type(exc).__name__}: {exc}")
                return Outcome.DLQ, event.type
            if applied and self._after_commit is not None:
                self._after_commit()
            return (Outcome.APPLIED if applied else Outcome.DUPLICATE), event.type

    async def _apply(self, handler: EventHandler, event: CloudEvent, topic: str) -> bool:
        async with self._database.transaction() as session:
            if await already_applied(session, event.id):
                return False
            await handler(session, event)
            await record_applied(session, event, topic)
        return True

    async def _dead_letter(self, record: RawRecord, reason: str, error: str) -> None:
        log.warning(
            "dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
        await self._dlq.publish(record, reason, error)


def _reason_of(error: DomainError) -> str:
    if isinstance(error, InvalidArgument):
        return f"invalid_argument:{error.field}"
    if isinstance(error, FailedPrecondition):
        return f"failed_precondition:{error.rule}"
    return type(error).__name__.lower()
