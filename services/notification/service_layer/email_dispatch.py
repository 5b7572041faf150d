"""Delivers pending e-mails: look the recipient's contact up, compose, hand to the channel, then record
the outcome and stage its event in one transaction.

The look-up and the send happen outside any transaction (they may be slow). A process killed between the
send and the commit sends that e-mail again on restart; the mailbox adapter writes one file per
notification id, so the resend replaces the first copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.notification import metrics
from services.notification.adapters import store
from services.notification.adapters.contacts import ContactDirectory, ContactLookupUnavailable
from services.notification.adapters.mailbox import EmailChannel, EmailChannelError, InvalidRecipientAddress
from services.notification.domain.model import (
    AttemptResult,
    Channel,
    DeliveryState,
    FailureReason,
    Notification,
    after_attempt,
    compose_email,
)
from services.notification.service_layer import messages
from services.shared.db import Database
from services.shared.logging import get_logger
from services.shared.outbox import stage_events

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=2)
    batch_size: int = 100


class EmailDispatcher:
    def __init__(
        self,
        database: Database,
        contacts: ContactDirectory,
        channel: EmailChannel,
        policy: RetryPolicy,
        wake_relay: Callable[[], None],
    ) -> None:
        self._database = database
        self._contacts = contacts
        self._channel = channel
        self._policy = policy
        self._wake_relay = wake_relay

    async def dispatch_due(self, now: datetime | None = None) -> int:
        """Attempt every e-mail due by ``now`` (one batch); returns how many were attempted."""
        moment = now or datetime.now(UTC)
        async with self._database.transaction() as uow:
            due = await store.due_emails(uow, moment, self._policy.batch_size)
        for item in due:
            result = await self._attempt(item)
            await self._record(item.notification_id, result, moment)
        return len(due)

    async def _attempt(self, item: Notification) -> AttemptResult:
        try:
            contact = await self._contacts.contact_of(item.recipient_id)
        except ContactLookupUnavailable as exc:
            return AttemptResult.failed(FailureReason.CONTACT_LOOKUP_UNAVAILABLE, retryable=exc.retryable)
        if contact is None:
            return AttemptResult.failed(FailureReason.CONTACT_NOT_FOUND)
        content = compose_email(item, contact)
        if isinstance(content, AttemptResult):
            return content
        try:
            await self._channel.send(content)
        except InvalidRecipientAddress:
            return AttemptResult.failed(FailureReason.INVALID_EMAIL_ADDRESS)
        except EmailChannelError:
            return AttemptResult.failed(FailureReason.CHANNEL_UNAVAILABLE, retryable=True)
        return AttemptResult.ok()

    async def _record(self, notification_id: str, result: AttemptResult, now: datetime) -> None:
        async with self._database.transaction() as uow:
            current = await store.get_notification(uow, notification_id)
            if current is None or current.state is not DeliveryState.PENDING:
                return  # erased, or settled by another dispatcher, meanwhile
            updated = after_attempt(current, result, now, self._policy.max_attempts, self._policy.retry_base)
            await store.update_delivery(uow, updated)
            event = messages.outcome_event(updated)
            await stage_events(uow, [event] if event is not None else [])
        channel = Channel.EMAIL.value
        if updated.state is DeliveryState.DELIVERED:
            metrics.DELIVERIES.labels(channel, "delivered").inc()
        elif updated.state is DeliveryState.FAILED:
            metrics.DELIVERIES.labels(channel, "failed").inc()
            metrics.FAILURES.labels(channel, updated.last_error).inc()
            log.info("email_failed", notification_id=notification_id, reason=updated.last_error)
        else:
            metrics.DELIVERIES.labels(channel, "retry").inc()
        if event is not None:
            self._wake_relay()
