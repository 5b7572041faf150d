"""The consuming side of every service: decode, skip what was applied, apply, retry what is transient,
dead-letter what is not. No exception vanishes; every outcome is counted.

Records are applied in micro-batches, optimistically: one database transaction for the whole batch and
no savepoints (a savepoint per record cost more than the records themselves). When a record fails, the
transaction is rolled back and the batch is applied again without it, so the failing record leaves
nothing behind and the others are applied once. A handler that cannot say which record failed sends
the batch down the slow path: one savepoint per record.

A service whose events are cheaper to apply together (one read and one write per batch instead of per
record) gives a :class:`BatchHandler`; the others give one :data:`EventHandler` per event type.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import Database
from services.shared.dlq import DlqPublisher, RawRecord
from services.shared.envelope import CloudEvent, EnvelopeError, decode
from services.shared.errors import DomainError, FailedPrecondition, InvalidArgument, NotYetKnown
from services.shared.inbox import applied_ids, record_applied
from services.shared.logging import get_logger
from services.shared.metrics import CONSUMER_EVENTS_BY_TYPE, CONSUMER_MESSAGES, EVENT_PROCESSING_SECONDS
from services.shared.topics import EVENT_TYPES

# A handler applies one event inside the unit of work it is given and returns; it raises a DomainError
# for bad data (dead-lettered) and anything transient for a retry.
EventHandler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
AfterCommit = Callable[[], None]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, TimeoutError)
# Retried with back-off like a transient error; dead-lettered under its own reason once retries run out.
RETRIED_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, NotYetKnown)

# Past this many failing records in one batch, the rest of it takes the savepoint path instead of one
# more rollback and retry per failure.
MAX_OPTIMISTIC_RETRIES = 8

log = get_logger(__name__)


class RecordFailed(Exception):
    """Raised by a batch handler: the event at ``position`` (in the sequence it was given) failed with
    ``cause``; the pipeline rolls the batch back and applies it again without that event."""

    def __init__(self, position: int, cause: Exception) -> None:
        super().__init__(f"event {position} of the batch failed: {cause!r}")
        self.position = position
        self.cause = cause


@dataclass(frozen=True)
class BatchHandler:
    """Applies several events of ``types`` in one unit of work, in their order.

    ``apply`` returns one slot per event: None when applied, or the DomainError that rejects it, in
    which case it must have written nothing for that event (a batch handler validates before it
    writes). Raising :class:`RecordFailed` or anything else rolls the whole batch back.
    """

    types: frozenset[str]
    apply: Callable[[AsyncSession, Sequence[CloudEvent]], Awaitable[Sequence[DomainError | None]]]


def per_event(handlers: Mapping[str, EventHandler]) -> BatchHandler:
    """A batch handler that calls each event's own handler in turn."""

    async def apply(session: AsyncSession, events: Sequence[CloudEvent]) -> list[DomainError | None]:
        for position, event in enumerate(events):
            try:
                await handlers[event.type](session, event)
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # named and handed to the pipeline, which decides its fate
                raise RecordFailed(position, exc) from exc
        return [None] * len(events)

    return BatchHandler(frozenset(handlers), apply)


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
        handler: Mapping[str, EventHandler] | BatchHandler,
        dlq: DlqPublisher,
        max_retries: int = 5,
        retry_base_seconds: float = 0.2,
        after_commit: AfterCommit | None = None,
        registry_topic: str | None = None,
    ) -> None:
        """``registry_topic``: the topic's name in the registry (without the namespace); a record of a
        type that travels on another topic is then dead-lettered as ``wrong_topic``."""
        self._service = service
        self._registry_topic = registry_topic
        self._database = database
        self._handler = handler if isinstance(handler, BatchHandler) else per_event(handler)
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
        self._count(items, time.perf_counter() - started)
        return [item.outcome for item in items if item.outcome is not None]

    def _count(self, items: Sequence[_Item], elapsed: float) -> None:
        """Metrics once per label set and batch: a labels() look-up per record costs as much as the
        record's decoding."""
        by_topic: Counter[tuple[str, str]] = Counter()
        by_type: Counter[tuple[str, str, str]] = Counter()
        for item in items:
            assert item.outcome is not None
            by_topic[item.record.topic, item.outcome.value] += 1
            by_type[item.record.topic, item.ce_type, item.outcome.value] += 1
        per_topic: Counter[str] = Counter()
        for (topic, outcome), count in by_topic.items():
            CONSUMER_MESSAGES.labels(self._service, topic, outcome).inc(count)
            per_topic[topic] += count
        for (topic, ce_type, outcome), count in by_type.items():
            CONSUMER_EVENTS_BY_TYPE.labels(self._service, topic, ce_type, outcome).inc(count)
        for topic, count in per_topic.items():
            histogram = EVENT_PROCESSING_SECONDS.labels(self._service, topic)
            for _ in range(count):
                histogram.observe(elapsed)

    def _decode(self, record: RawRecord) -> _Item:
        item = _Item(record)
        try:
            item.event = decode(record.headers, record.value)
        except EnvelopeError as exc:
            item.outcome, item.failure = Outcome.DLQ, (exc.reason, exc.message)
            return item
        home = EVENT_TYPES[item.event.type].topic
        if self._registry_topic is not None and home != self._registry_topic:
            item.outcome = Outcome.DLQ
            item.failure = ("wrong_topic", f"{item.event.type} travels on {home}, not {self._registry_topic}")
            return item
        if item.event.type not in self._handler.types:
            item.outcome = Outcome.IGNORED
        return item

    async def _apply_with_retries(self, items: list[_Item]) -> None:
        attempt = 0
        while True:
            try:
                await self._apply(items)
            except RETRIED_ERRORS as exc:
                attempt += 1
                CONSUMER_MESSAGES.labels(self._service, items[0].record.topic, "retried").inc(len(items))
                if attempt > self._max_retries:
                    if len(items) > 1:
                        # Find the record that keeps failing: the others may go through alone.
                        for item in items:
                            await self._apply_with_retries([item])
                        return
                    items[0].outcome = Outcome.DLQ
                    items[0].failure = (
                        (_reason_of(exc), exc.message)
                        if isinstance(exc, DomainError)
                        else ("retries_exhausted", repr(exc))
                    )
                    return
                await asyncio.sleep(self._retry_base_seconds * 2 ** (attempt - 1))
                continue
            if self._after_commit is not None and any(item.outcome is Outcome.APPLIED for item in items):
                self._after_commit()
            return

    async def _apply(self, items: list[_Item]) -> None:
        """The batch in one transaction; a failing record is left out and the rest applied again.
        Outcomes are set only once a transaction commits."""
        failures: dict[int, tuple[str, str]] = {}
        while len(failures) <= MAX_OPTIMISTIC_RETRIES:
            try:
                outcomes = await self._apply_together(items, failures)
            except RecordFailed as failed:
                if isinstance(failed.cause, RETRIED_ERRORS):
                    raise failed.cause from failed
                failures[failed.position] = self._failure(items[failed.position], failed.cause)
                continue
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 -- unattributed: found record by record below
                log.warning("batch_failed_unattributed", error=type(exc).__name__, records=len(items))
                break
            self._settle(items, outcomes)
            return
        self._settle(items, await self._apply_one_by_one(items))

    async def _apply_together(
        self, items: list[_Item], failures: Mapping[int, tuple[str, str]]
    ) -> list[tuple[Outcome, tuple[str, str] | None]]:
        """One transaction, no savepoints. Raises RecordFailed with the position in ``items``."""
        outcomes: list[tuple[Outcome, tuple[str, str] | None]] = []
        async with self._database.transaction() as session:
            done = await applied_ids(session, [_event_of(item).id for item in items])
            positions: list[int] = []
            for position, item in enumerate(items):
                if position in failures:
                    outcomes.append((Outcome.DLQ, failures[position]))
                elif _event_of(item).id in done:
                    outcomes.append((Outcome.DUPLICATE, None))
                else:
                    done.add(_event_of(item).id)  # the same id twice in one batch: applied once
                    positions.append(position)
                    outcomes.append((Outcome.APPLIED, None))
            try:
                rejected = await self._handler.apply(session, [_event_of(items[p]) for p in positions])
            except RecordFailed as failed:
                raise RecordFailed(positions[failed.position], failed.cause) from failed.cause
            applied: list[tuple[CloudEvent, str]] = []
            for position, error in zip(positions, rejected, strict=True):
                if error is None:
                    applied.append((_event_of(items[position]), items[position].record.topic))
                else:
                    outcomes[position] = (Outcome.DLQ, self._failure(items[position], error))
            await record_applied(session, applied)
        return outcomes

    async def _apply_one_by_one(self, items: list[_Item]) -> list[tuple[Outcome, tuple[str, str] | None]]:
        """The slow path: one transaction, one savepoint per record."""
        outcomes: list[tuple[Outcome, tuple[str, str] | None]] = []
        async with self._database.transaction() as session:
            done = await applied_ids(session, [_event_of(item).id for item in items])
            applied: list[tuple[CloudEvent, str]] = []
            for item in items:
                event = _event_of(item)
                if event.id in done:
                    outcomes.append((Outcome.DUPLICATE, None))
                    continue
                failure = await self._apply_alone(session, item)
                if failure is None:
                    done.add(event.id)
                    applied.append((event, item.record.topic))
                    outcomes.append((Outcome.APPLIED, None))
                else:
                    outcomes.append((Outcome.DLQ, failure))
            await record_applied(session, applied)
        return outcomes

    async def _apply_alone(self, session: AsyncSession, item: _Item) -> tuple[str, str] | None:
        """Apply one record inside a savepoint; returns the DLQ reason when it must be dead-lettered."""
        try:
            async with session.begin_nested():
                rejected = (await self._handler.apply(session, [_event_of(item)]))[0]
                if rejected is not None:
                    return self._failure(item, rejected)
        except RETRIED_ERRORS:
            raise
        except RecordFailed as failed:
            if isinstance(failed.cause, RETRIED_ERRORS):
                raise failed.cause from failed
            return self._failure(item, failed.cause)
        except Exception as exc:  # noqa: BLE001 -- a handler bug must not lose the record
            return self._failure(item, exc)
        return None

    def _failure(self, item: _Item, error: Exception) -> tuple[str, str]:
        """The DLQ reason and text for a record that failed with ``error``."""
        if isinstance(error, DomainError):
            return _reason_of(error), error.message
        log.error(
            "handler_failed",
            topic=item.record.topic,
            ce_type=item.ce_type,
            ce_id=_event_of(item).id,
            error=type(error).__name__,
            exc_info=error,
        )
        return "handler_error", f"{type(error).__name__}: {error}"

    @staticmethod
    def _settle(items: list[_Item], outcomes: list[tuple[Outcome, tuple[str, str] | None]]) -> None:
        for item, (outcome, failure) in zip(items, outcomes, strict=True):
            item.outcome, item.failure = outcome, failure

    async def _dead_letter(self, record: RawRecord, reason: str, error: str) -> None:
        log.warning(
            "dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
        await self._dlq.publish(record, reason, error)


async def until_processed(pipeline: ConsumerPipeline, records: list[RawRecord]) -> None:
    """Faust acknowledges a batch once the agent moves on and a raising agent stops consuming; the bulk
    consumer commits offsets after it. So a batch that could not even be dead-lettered (database or
    broker down) is retried here until it goes through, never skipped."""
    delay = 0.5
    while True:
        try:
            await pipeline.process_batch(records)
            return
        except Exception:  # retried, never dropped: see the docstring
            log.exception("batch_not_processed", topic=records[0].topic, records=len(records))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


def _event_of(item: _Item) -> CloudEvent:
    assert item.event is not None, "only decoded records reach the handler"
    return item.event


def _reason_of(error: DomainError) -> str:
    if isinstance(error, InvalidArgument):
        return f"invalid_argument:{error.field}"
    if isinstance(error, FailedPrecondition):
        return f"failed_precondition:{error.rule}"
    return type(error).__name__.lower()
