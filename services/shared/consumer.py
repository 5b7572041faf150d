"""The consuming side of every service: decode, skip what was applied, apply, retry what is transient,
dead-letter what is not. No exception vanishes; every outcome is counted.

Records are applied in micro-batches: one database transaction per batch, one savepoint per record, so
a record that fails rolls back alone and the batch pays for one commit instead of one per record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import Database
from services.shared.dlq import DlqPublisher, RawRecord
from services.shared.envelope import CloudEvent, EnvelopeError, decode
from services.shared.errors import DomainError, FailedPrecondition, InvalidArgument
from services.shared.inbox import applied_ids, record_applied
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


@dataclass(slots=True)
class _Item:
    record: RawRecord
    event: CloudEvent | None = None
    outcome: Outcome | None = None
    failure: tuple[str, str] | None = None  # (reason, error) for the DLQ

    @property
    def ce_type(self) -> str:
        return self.event.type if self.event is not None else "undecodable"


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
        return (await self.process_batch([record]))[0]

    async def process_batch(self, records: Sequence[RawRecord]) -> list[Outcome]:
        """Apply records in their order; returns each one's outcome."""
        started = time.perf_counter()
        items = [self._decode(record) for record in records]
        pending = [item for item in items if item.outcome is None]
        if pending:
            await self._apply_with_retries(pending)
        for item in items:
            if item.failure is not None:
                await self._dead_letter(item.record, *item.failure)
        elapsed = time.perf_counter() - started
        for item in items:
            assert item.outcome is not None
            topic = item.record.topic
            EVENT_PROCESSING_SECONDS.labels(self._service, topic).observe(elapsed)
            CONSUMER_MESSAGES.labels(self._service, topic, item.outcome.value).inc()
            CONSUMER_EVENTS_BY_TYPE.labels(self._service, topic, item.ce_type, item.outcome.value).inc()
        return [item.outcome for item in items if item.outcome is not None]

    def _decode(self, record: RawRecord) -> _Item:
        item = _Item(record)
        try:
            item.event = decode(record.headers, record.value)
        except EnvelopeError as exc:
            item.outcome, item.failure = Outcome.DLQ, (exc.reason, exc.message)
            return item
        if item.event.type not in self._handlers:
            item.outcome = Outcome.IGNORED
        return item

    async def _apply_with_retries(self, items: list[_Item]) -> None:
        attempt = 0
        while True:
            try:
                await self._apply(items)
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                for item in items:
                    CONSUMER_MESSAGES.labels(self._service, item.record.topic, "retried").inc()
                if attempt > self._max_retries:
                    if len(items) > 1:
                        # Find the record that keeps failing: the others may go through alone.
                        for item in items:
                            await self._apply_with_retries([item])
                        return
                    items[0].outcome, items[0].failure = Outcome.DLQ, ("retries_exhausted", repr(exc))
                    return
                await asyncio.sleep(self._retry_base_seconds * 2 ** (attempt - 1))
                continue
            if self._after_commit is not None and any(item.outcome is Outcome.APPLIED for item in items):
                self._after_commit()
            return

    async def _apply(self, items: list[_Item]) -> None:
        """One transaction for the batch, one savepoint per record; outcomes are set only on commit."""
        outcomes: list[tuple[Outcome, tuple[str, str] | None]] = []
        async with self._database.transaction() as session:
            done = await applied_ids(session, [item.event.id for item in items if item.event is not None])
            applied: list[tuple[CloudEvent, str]] = []
            for item in items:
                assert item.event is not None
                if item.event.id in done:
                    outcomes.append((Outcome.DUPLICATE, None))
                    continue
                failure = await self._apply_one(session, item)
                if failure is None:
                    done.add(item.event.id)
                    applied.append((item.event, item.record.topic))
                    outcomes.append((Outcome.APPLIED, None))
                else:
                    outcomes.append((Outcome.DLQ, failure))
            await record_applied(session, applied)
        for item, (outcome, failure) in zip(items, outcomes, strict=True):
            item.outcome, item.failure = outcome, failure

    async def _apply_one(self, session: AsyncSession, item: _Item) -> tuple[str, str] | None:
        """Apply one record inside a savepoint; returns the DLQ reason when it must be dead-lettered."""
        event = item.event
        assert event is not None
        try:
            async with session.begin_nested():
                await self._handlers[event.type](session, event)
        except TRANSIENT_ERRORS:
            raise
        except DomainError as exc:
            return _reason_of(exc), exc.message
        except Exception as exc:  # a handler bug must not lose the record
            log.exception("handler_failed", topic=item.record.topic, ce_type=event.type, ce_id=event.id)
            return "handler_error", f"{type(exc).__name__}: {exc}"
        return None

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
