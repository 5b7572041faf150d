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
from functools import partial

from services.notification import metrics
from services.notification.adapters import publishing, store
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
from services.notification.service_layer.commands import DispatchDueEmails
from services.shared.db import Database
from services.shared.logging import get_logger
from services.shared.unit_of_work import after_commit

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=2)
    batch_size: int = 100


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class EmailSending:
    """What the dispatcher sends with. ``wake_relay`` runs after each outcome commits: a batch of slow
    look-ups must not hold back the events of the e-mails already settled."""

    contacts: ContactDirectory
    channel: EmailChannel
    retry: RetryPolicy
    wake_relay: Callable[[], None] = _nothing


async def dispatch_due_emails(database: Database, command: DispatchDueEmails, *, email: EmailSending) -> int:
    """Attempt every e-mail due by the command's moment (one batch); returns how many were attempted."""
    moment = command.now or datetime.now(UTC)
    async with database.transaction() as uow:
        due = await store.due_emails(uow, moment, email.retry.batch_size)
    for item in due:
        result = await _attempt(email, item)
        await _record(database, email, item.notification_id, result, moment)
    return len(due)


async def _attempt(email: EmailSending, item: Notification) -> AttemptResult:
    try:
        contact = await email.contacts.contact_of(item.tenant, item.recipient_id)
    except ContactLookupUnavailable as exc:
        return AttemptResult.failed(FailureReason.CONTACT_LOOKUP_UNAVAILABLE, retryable=exc.retryable)
    if contact is None:
        return AttemptResult.failed(FailureReason.CONTACT_NOT_FOUND)
    content = compose_email(item, contact)
    if isinstance(content, AttemptResult):
        return content
    try:
        await email.channel.send(content)
    except InvalidRecipientAddress:
        return AttemptResult.failed(FailureReason.INVALID_EMAIL_ADDRESS)
    except EmailChannelError:
        return AttemptResult.failed(FailureReason.CHANNEL_UNAVAILABLE, retryable=True)
    return AttemptResult.ok()


async def _record(
    database: Database, email: EmailSending, notification_id: str, result: AttemptResult, now: datetime
) -> None:
    async with database.transaction() as uow:
        current = await store.get_notification(uow, notification_id)
        if current is None or current.state is not DeliveryState.PENDING:
            return  # erased, or settled by another dispatcher, meanwhile
        retry = email.retry
        updated = after_attempt(current, result, now, retry.max_attempts, retry.retry_base)
        await store.update_delivery(uow, updated)
        after_commit(uow, partial(_count_attempt, updated))
        if await publishing.stage_outcomes(uow, [updated]):
            after_commit(uow, email.wake_relay)


def _count_attempt(updated: Notification) -> None:
    channel = Channel.EMAIL.value
    if updated.state is DeliveryState.DELIVERED:
        metrics.DELIVERIES.labels(channel, "delivered").inc()
    elif updated.state is DeliveryState.FAILED:
        metrics.DELIVERIES.labels(channel, "failed").inc()
        metrics.FAILURES.labels(channel, updated.last_error).inc()
        log.info("email_failed", notification_id=updated.notification_id, reason=updated.last_error)
    else:
        metrics.DELIVERIES.labels(channel, "retry").inc()
