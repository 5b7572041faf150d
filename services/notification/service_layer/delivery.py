"""What every dispatcher (e-mail, webhook) does once an attempt is over: record the delivery's new state
and the attempt in its history, stage its outcome event, count it, all in one transaction."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from services.notification import metrics
from services.notification.adapters import publishing, store
from services.notification.domain.model import (
    AttemptResult,
    DeliveryState,
    Notification,
    after_attempt,
    attempt_record,
)
from services.shared.db import Database
from services.shared.logging import get_logger
from services.shared.unit_of_work import after_commit

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=2)
    batch_size: int = 100
    concurrency: int = 8
    jitter: Callable[[], float] = random.random  # in [0, 1): how much of half the back-off to drop


def nothing() -> None:
    return None


class OutcomeWriter:
    """Records the outcomes of one dispatch batch as they come in, committing together those that
    arrive while a commit is under way (a group commit): each :meth:`add` returns once its outcome
    has committed, so the relay is woken for settled deliveries as soon as they are, yet a batch of
    quick sends does not pay one transaction each."""

    def __init__(
        self,
        database: Database,
        now: datetime | None,
        retry: RetryPolicy,
        wake_relay: Callable[[], None],
    ) -> None:
        self._database = database
        self._now = now
        self._retry = retry
        self._wake = wake_relay
        self._pending: list[tuple[str, AttemptResult]] = []
        self._lock = asyncio.Lock()

    async def add(self, notification_id: str, result: AttemptResult) -> None:
        self._pending.append((notification_id, result))
        async with self._lock:
            if not self._pending:
                return  # committed by the writer before us
            batch, self._pending = self._pending, []
            await record_outcomes(self._database, batch, self._now, self._retry, self._wake)


async def record_outcomes(
    database: Database,
    outcomes: list[tuple[str, AttemptResult]],
    now: datetime | None,
    retry: RetryPolicy,
    wake_relay: Callable[[], None],
) -> None:
    moment = now or datetime.now(UTC)
    async with database.transaction() as uow:
        settled = []
        known = await store.notifications_by_id(uow, [notification_id for notification_id, _ in outcomes])
        for notification_id, result in outcomes:
            current = known.get(notification_id)
            if current is None or current.state is not DeliveryState.PENDING:
                continue  # erased, or settled by another dispatcher, meanwhile
            updated = after_attempt(
                current, result, moment, retry.max_attempts, retry.retry_base, jitter=retry.jitter()
            )
            await store.update_delivery(uow, updated)
            await store.record_attempts(uow, [(updated, attempt_record(updated, result, moment))])
            after_commit(uow, partial(_count_attempt, updated))
            settled.append(updated)
        if await publishing.stage_outcomes(uow, settled):
            after_commit(uow, wake_relay)


def _count_attempt(updated: Notification) -> None:
    channel = updated.channel.value
    if updated.state is DeliveryState.DELIVERED:
        metrics.DELIVERIES.labels(channel, "delivered").inc()
    elif updated.state is DeliveryState.FAILED:
        metrics.DELIVERIES.labels(channel, "failed").inc()
        metrics.FAILURES.labels(channel, updated.last_error).inc()
        log.info(
            "delivery_failed",
            channel=channel,
            notification_id=updated.notification_id,
            reason=updated.last_error,
        )
    else:
        metrics.DELIVERIES.labels(channel, "retry").inc()
