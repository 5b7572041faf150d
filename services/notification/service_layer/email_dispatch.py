"""Delivers pending e-mails: look the recipient's contact up, compose, hand to the channel, then record
the outcome (and the attempt in the delivery's history) and stage its event in one transaction.

The look-up and the send happen outside any transaction (they may be slow), up to ``concurrency`` at
once. Failures the channel calls temporary are tried again with an exponential back-off and jitter, in
later batches (the next attempt's time is in the database, so a restart keeps it); permanent ones, and
temporary ones once the attempts run out, end FAILED with their reason, and a NotificationFailed is
published. A process killed between the send and the commit sends that e-mail again on restart with the
same Message-ID (the mailbox sink replaces its file)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr

from services.notification.adapters import store
from services.notification.adapters.contacts import ContactDirectory, ContactLookupUnavailable
from services.notification.adapters.email_message import EmailChannel, EmailNotSent
from services.notification.domain import texts
from services.notification.domain.calendar import CalendarPart, CalendarPerson, itip_message
from services.notification.domain.email import Links, compose_email, usable_address
from services.notification.domain.model import (
    AttemptResult,
    Contact,
    FailureReason,
    Notification,
)
from services.notification.service_layer.commands import DispatchDueEmails
from services.notification.service_layer.delivery import OutcomeWriter, RetryPolicy, nothing
from services.shared.db import Database
from services.shared.logging import get_logger

log = get_logger(__name__)

__all__ = ["EmailSending", "RetryPolicy", "dispatch_due_emails"]

DEVELOPMENT_LINKS = Links("https://mentoring.example.invalid", b"local-development-unsubscribe-secret")


@dataclass(frozen=True, slots=True)
class EmailSending:
    """What the dispatcher sends with. ``wake_relay`` runs after each outcome commits: a batch of slow
    look-ups must not hold back the events of the e-mails already settled."""

    contacts: ContactDirectory
    channel: EmailChannel
    retry: RetryPolicy
    wake_relay: Callable[[], None] = nothing
    links: Links = field(default=DEVELOPMENT_LINKS)
    sender: str = "Mentoring <mentoring-noreply@example.invalid>"  # the invitations' ORGANIZER too


async def dispatch_due_emails(database: Database, command: DispatchDueEmails, *, email: EmailSending) -> int:
    """Attempt every e-mail due by the command's moment (one batch); returns how many were attempted."""
    moment = command.now or datetime.now(UTC)
    async with database.transaction() as uow:
        due = await store.due_emails(uow, moment, email.retry.batch_size)
    slots = asyncio.Semaphore(email.retry.concurrency)
    outcomes = OutcomeWriter(database, command.now, email.retry, email.wake_relay)

    async def deliver(item: Notification) -> None:
        async with slots:
            result = await _attempt(email, item)
        await outcomes.add(item.notification_id, result)

    await asyncio.gather(*(deliver(item) for item in due))
    return len(due)


async def _attempt(email: EmailSending, item: Notification) -> AttemptResult:
    try:
        contact = await email.contacts.contact_of(item.tenant, item.recipient_id)
    except ContactLookupUnavailable as exc:
        return AttemptResult.failed(FailureReason.CONTACT_LOOKUP_UNAVAILABLE, retryable=exc.retryable)
    if contact is None:
        return AttemptResult.failed(FailureReason.CONTACT_NOT_FOUND)
    others = await _others(email, item)
    if isinstance(others, AttemptResult):
        return others
    calendar = _invitation(email, item, contact, others)
    names = tuple(name for person in others if (name := person.display_name.strip()))
    content = compose_email(item, contact, email.links, calendar, names)
    if isinstance(content, AttemptResult):
        return content
    try:
        detail = await email.channel.send(content)
    except EmailNotSent as refused:
        return AttemptResult.failed(refused.reason, retryable=refused.retryable, detail=refused.detail)
    return AttemptResult.ok(detail)


async def _others(email: EmailSending, item: Notification) -> list[Contact] | AttemptResult:
    """The contacts of the other people the e-mail is about (to name them, to invite them), looked up
    now like the recipient's; someone the directory no longer knows is left out."""
    if item.context is None:
        return []
    found: list[Contact] = []
    for person in item.context.others(item.recipient_id):
        try:
            contact = await email.contacts.contact_of(item.tenant, person.employee_id)
        except ContactLookupUnavailable as exc:
            return AttemptResult.failed(FailureReason.CONTACT_LOOKUP_UNAVAILABLE, retryable=exc.retryable)
        if contact is not None:
            found.append(contact)
    return found


def _invitation(
    email: EmailSending, item: Notification, contact: Contact, others: list[Contact]
) -> CalendarPart | None:
    session = item.context.session if item.context is not None else None
    if session is None:
        return None
    name, address = parseaddr(email.sender)
    attendees = tuple(
        CalendarPerson(person.display_name.strip(), person.email.strip())
        for person in (contact, *others)
        if usable_address(person) is None
    )
    language = texts.language_of(item.context.language if item.context is not None else "")
    summary = texts.text(language, "calendar.summary")
    return itip_message(session, CalendarPerson(name, address), attendees, summary, datetime.now(UTC))
