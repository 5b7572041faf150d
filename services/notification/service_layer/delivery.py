"""What every dispatcher (e-mail, webhook) does once an attempt is over: record the delivery's new state
and the attempt in its history, stage its outcome event, count it, all in one transaction."""

from __future__ import annotations

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


async def record_outcome(
    database: Database,
    notification_id: str,
    result: AttemptResult,
    now: datetime | None,
    retry: RetryPolicy,
    wake_relay: Callable[[], None],
) -> None:
    moment = now or datetime.now(UTC)
    async with database.transaction() as uow:
        current = await store.get_notification(uow, notification_id)
        if current is None or current.state is not DeliveryState.PENDING:
            return  # erased, or settled by another dispatcher, meanwhile
        updated = after_attempt(
            current, result, moment, retry.max_attempts, retry.retry_base, jitter=retry.jitter()
        )
        await store.update_delivery(uow, updated)
        await store.record_attempts(uow, [(updated, attempt_record(updated, result, moment))])
        after_commit(uow, partial(_count_attempt, updated))
        if await publishing.stage_outcomes(uow, [updated]):
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
