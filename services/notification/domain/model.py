"""The notification domain: who is told what, on which channel, and how a delivery ends.

An event becomes a :class:`Trigger` (a template, its recipients with their audience, and the facts). The
recipients' preferences decide the channels: an in-app inbox item is delivered when it is stored; an
e-mail starts PENDING and ends DELIVERED or FAILED after one or more attempts. Recipients are opaque
employee ids; names and addresses are only looked up, at send time, for the e-mail channel.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.categories import NO_CHOICES, CategoryChannels, chosen_channels
from services.notification.domain.channels import Channel as Channel
from services.notification.domain.channels import WebhookFormat
from services.notification.domain.quiet_hours import URGENT, QuietHours, parse_quiet_hours
from services.notification.domain.templates import Audience, Facts, Reader, Template, render
from services.notification.domain.texts import LANGUAGES
from services.shared.errors import FailedPrecondition, InvalidArgument
from services.shared.ids import require_id

MAX_URL_LENGTH: Final = 2000
MAX_BACKOFF: Final = timedelta(hours=1)
_ID_NAMESPACE: Final = uuid.UUID("5b0f2f52-7f7e-4f0e-9d3c-0c3f3c1f6a10")


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class FailureReason(enum.StrEnum):
    """Stable codes for a failed delivery (they go into events and metric labels)."""

    CONTACT_LOOKUP_UNAVAILABLE = "contact_lookup_unavailable"
    CONTACT_NOT_FOUND = "contact_not_found"
    NO_EMAIL_ADDRESS = "no_email_address"
    INVALID_EMAIL_ADDRESS = "invalid_email_address"
    RECIPIENT_INACTIVE = "recipient_inactive"
    CHANNEL_UNAVAILABLE = "channel_unavailable"
    # The mail server's answers: 5xx to the message (permanent), 4xx (temporary), or no answer at all
    # (connection refused or dropped, timeout: temporary).
    SMTP_REJECTED = "smtp_rejected"
    SMTP_DEFERRED = "smtp_deferred"
    SMTP_UNREACHABLE = "smtp_unreachable"
    # The webhook endpoint: refused (4xx; not retried), unavailable (408, 429, 5xx), no answer, none set.
    WEBHOOK_REJECTED = "webhook_rejected"
    WEBHOOK_UNAVAILABLE = "webhook_unavailable"
    WEBHOOK_UNREACHABLE = "webhook_unreachable"
    NO_WEBHOOK_ENDPOINT = "no_webhook_endpoint"


@dataclass(frozen=True, slots=True)
class Preferences:
    recipient_id: str
    email: bool
    in_app: bool = True
    webhook_url: str = ""
    muted_templates: frozenset[Template] = frozenset()
    language: str = ""  # "" is English; a language without texts falls back to English
    webhook_format: WebhookFormat = WebhookFormat.STANDARD
    # The endpoint's signing secrets (whsec_...): the current one, and the one it replaced while a
    # rotation is under way (both sign).
    webhook_secret: str = ""
    webhook_previous_secret: str = ""
    quiet_hours: QuietHours | None = None  # in the recipient's timezone
    # The person's own channels per category (categories.py); they come before the tenant's defaults.
    categories: CategoryChannels = field(default_factory=lambda: NO_CHOICES)

    def channels_for(
        self, template: Template, tenant_defaults: CategoryChannels = NO_CHOICES
    ) -> tuple[Channel, ...]:
        """The channels the template goes to: none when muted; else those chosen for its category (the
        person's choice, else the tenant's default), else the general switches. A webhook needs an
        endpoint whatever was chosen."""
        if template in self.muted_templates:
            return ()
        chosen = chosen_channels(template, self.categories, tenant_defaults)
        wanted = (
            (Channel.IN_APP, self.in_app if chosen is None else Channel.IN_APP in chosen),
            (Channel.EMAIL, self.email if chosen is None else Channel.EMAIL in chosen),
            (Channel.WEBHOOK, bool(self.webhook_url) and (chosen is None or Channel.WEBHOOK in chosen)),
        )
        return tuple(channel for channel, on in wanted if on)


def default_preferences(recipient_id: str, email_by_default: bool) -> Preferences:
    return Preferences(recipient_id=recipient_id, email=email_by_default)


def validate_preferences(
    recipient_id: str,
    email: bool,
    in_app: bool,
    webhook_url: str,
    muted_templates: Iterable[str],
    language: str = "",
    webhook_format: str = "",
    quiet_hours: tuple[str, str] = ("", ""),
    categories: CategoryChannels = NO_CHOICES,
) -> Preferences:
    muted: set[Template] = set()
    for index, name in enumerate(muted_templates):
        try:
            muted.add(Template(name.strip()))
        except ValueError:
            known = ", ".join(template.value for template in Template)
            raise InvalidArgument(f"muted_templates[{index}]", f"unknown template; known: {known}") from None
    url = webhook_url.strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or len(url) > MAX_URL_LENGTH:
            raise InvalidArgument("webhook_url", "must be an https URL")
    wanted_language = language.strip().lower()
    if wanted_language and wanted_language not in LANGUAGES:
        raise InvalidArgument("language", f"no texts in that language; known: {', '.join(sorted(LANGUAGES))}")
    try:
        chat = WebhookFormat(webhook_format.strip().lower() or WebhookFormat.STANDARD.value)
    except ValueError:
        known = ", ".join(item.value for item in WebhookFormat)
        raise InvalidArgument("webhook_format", f"unknown format; known: {known}") from None
    return Preferences(
        recipient_id=require_id(recipient_id, "recipient_id"),
        email=email,
        in_app=in_app,
        webhook_url=url,
        muted_templates=frozenset(muted),
        language=wanted_language,
        webhook_format=chat,
        quiet_hours=parse_quiet_hours(*quiet_hours),
        categories=categories,
    )


@dataclass(frozen=True, slots=True)
class Recipient:
    employee_id: str
    audience: Audience


@dataclass(frozen=True, slots=True)
class Trigger:
    """An event seen as a reason to notify: one template, its recipients, what the text may say."""

    event_id: str
    template: Template
    recipients: tuple[Recipient, ...]
    facts: Facts = field(default_factory=Facts)
    tenant: str = ""
    participants: tuple[Recipient, ...] = ()  # everyone concerned (a match's people), recipients or not
    session: SessionCalendar | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What an e-mail is written from at send time: the recipient's audience, the facts, the other
    people (named then, through the directory) and the session of an invitation. Opaque ids only."""

    audience: Audience
    facts: Facts
    participants: tuple[Recipient, ...] = ()
    session: SessionCalendar | None = None
    language: str = ""
    zone: str = ""  # as the enrolment said; the directory's answer at send time comes first

    def others(self, recipient_id: str) -> tuple[Recipient, ...]:
        return tuple(person for person in self.participants if person.employee_id != recipient_id)


class AttemptOutcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # failed for now, tried again at ``next_attempt_at``
    FAILED = "failed"  # failed for good


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt as the delivery status shows it. ``detail`` is a bounded code (an SMTP reply
    code, an HTTP status, an error class), never the text of a reply, which may quote an address."""

    attempt: int
    at: datetime
    outcome: AttemptOutcome
    reason: str = ""
    detail: str = ""
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    notification_id: str
    recipient_id: str
    template: Template
    channel: Channel
    title: str
    body: str
    state: DeliveryState
    created_at: datetime
    tenant: str = ""
    attempts: int = 0
    last_error: str = ""
    read: bool = False
    next_attempt_at: datetime | None = None
    history: tuple[Attempt, ...] = ()  # loaded for the delivery status only
    context: Context | None = None  # e-mails only

    def mark_read(self, recipient_id: str) -> Notification:
        if self.recipient_id != recipient_id:
            raise FailedPrecondition("not_the_recipient", "only its recipient can mark an inbox item read")
        return self if self.read else replace(self, read=True)


@dataclass(frozen=True, slots=True)
class InboxPage:
    """A page of a recipient's inbox, newest first, and the token of the next one ("" on the last)."""

    items: list[Notification]
    next_page_token: str
    total_size: int


def notification_id(event_id: str, recipient_id: str, template: Template, channel: Channel) -> str:
    """Deterministic: the same event never yields two notifications for one recipient and channel."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{event_id}/{recipient_id}/{template.value}/{channel.value}"))


@dataclass(frozen=True, slots=True)
class Plan:
    notifications: tuple[Notification, ...]
    muted: tuple[str, ...]  # recipients who muted the template or turned every channel off


def plan(
    trigger: Trigger,
    preferences: Mapping[str, Preferences],
    email_by_default: bool,
    now: datetime,
    zones: Mapping[str, str] | None = None,
    tenant_defaults: CategoryChannels = NO_CHOICES,
) -> Plan:
    """The notifications an event causes: one per recipient and wanted channel, rendered for the
    recipient's audience, in their language and timezone (``zones``, by recipient); in-app items are
    delivered at once, e-mails wait for the dispatcher (which writes them again, naming the others).
    ``tenant_defaults`` are the tenant's channels per category, for recipients who chose none."""
    notifications: list[Notification] = []
    muted: list[str] = []
    seen: set[str] = set()
    for recipient in trigger.recipients:
        if recipient.employee_id in seen:
            continue
        seen.add(recipient.employee_id)
        wanted = preferences.get(recipient.employee_id) or default_preferences(
            recipient.employee_id, email_by_default
        )
        channels = wanted.channels_for(trigger.template, tenant_defaults)
        if not channels:
            muted.append(recipient.employee_id)
            continue
        zone = (zones or {}).get(recipient.employee_id, "")
        reader = Reader(language=wanted.language, zone=zone)
        text = render(trigger.template, recipient.audience, trigger.facts, reader)
        context = Context(
            recipient.audience,
            trigger.facts,
            trigger.participants,
            trigger.session,
            wanted.language,
            zone,
        )
        held = None
        if wanted.quiet_hours is not None and trigger.template not in URGENT:
            held = wanted.quiet_hours.until(now, zone)
        for channel in channels:
            in_app = channel is Channel.IN_APP
            notifications.append(
                Notification(
                    notification_id=notification_id(
                        trigger.event_id, recipient.employee_id, trigger.template, channel
                    ),
                    recipient_id=recipient.employee_id,
                    template=trigger.template,
                    channel=channel,
                    title=text.title,
                    body=text.body,
                    state=DeliveryState.DELIVERED if in_app else DeliveryState.PENDING,
                    created_at=now,
                    tenant=trigger.tenant,
                    attempts=1 if in_app else 0,
                    next_attempt_at=None if in_app else held or now,
                    context=None if in_app else context,
                )
            )
    return Plan(tuple(notifications), tuple(muted))


def others_of(by: Audience | None, mentor_id: str, mentee_ids: Sequence[str]) -> tuple[Recipient, ...]:
    """The side that did not act: a mentor's acceptance is news to the mentees, and the reverse."""
    mentor = (Recipient(mentor_id, Audience.MENTOR),)
    mentees = tuple(Recipient(mentee, Audience.MENTEE) for mentee in mentee_ids)
    if by is Audience.MENTOR:
        return mentees
    if by is Audience.MENTEE:
        return mentor
    return mentor + mentees


# Responses to a proposal are news to the other side only; everything else about a match concerns all.
_TOLD_THE_OTHER_SIDE: Final = frozenset({Template.MATCH_ACCEPTED, Template.MATCH_DECLINED})


def told_of_match_event(
    template: Template, by: Audience | None, participants: Sequence[Recipient]
) -> tuple[Recipient, ...]:
    """Who hears of a match event, from its participants (mentor first)."""
    if template in _TOLD_THE_OTHER_SIDE:
        return others_of(by, participants[0].employee_id, [p.employee_id for p in participants[1:]])
    return tuple(participants)


# ---- e-mail ----


@dataclass(frozen=True, slots=True)
class Contact:
    """What the enrollment service's directory returns for the e-mail channel (never stored here)."""

    employee_id: str
    display_name: str
    email: str
    active: bool = True
    timezone: str = ""  # IANA name, "" when the directory has none


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How one delivery attempt went; ``retryable`` failures are tried again until the attempts run out."""

    delivered: bool
    reason: FailureReason | None = None
    retryable: bool = False
    detail: str = ""

    @staticmethod
    def ok(detail: str = "") -> AttemptResult:
        return AttemptResult(delivered=True, detail=detail)

    @staticmethod
    def failed(reason: FailureReason, retryable: bool = False, detail: str = "") -> AttemptResult:
        return AttemptResult(delivered=False, reason=reason, retryable=retryable, detail=detail)


def after_attempt(
    notification: Notification,
    result: AttemptResult,
    now: datetime,
    max_attempts: int,
    retry_base: timedelta,
    jitter: float = 0.0,
) -> Notification:
    """The delivery after one more attempt: delivered, failed for good, or pending with a back-off.

    The back-off doubles with each attempt (up to :data:`MAX_BACKOFF`); ``jitter`` in [0, 1) shortens it
    by up to half ("equal jitter"), so deliveries that failed together do not all come back together."""
    if notification.state is not DeliveryState.PENDING:
        raise FailedPrecondition(
            "delivery_not_pending", f"{notification.notification_id} is {notification.state}"
        )
    attempts = notification.attempts + 1
    if result.delivered:
        return replace(
            notification,
            state=DeliveryState.DELIVERED,
            attempts=attempts,
            last_error="",
            next_attempt_at=None,
        )
    reason = (result.reason or FailureReason.CHANNEL_UNAVAILABLE).value
    if result.retryable and attempts < max_attempts:
        delay = min(retry_base * 2 ** (attempts - 1), MAX_BACKOFF) * (1 - min(max(jitter, 0.0), 0.999) / 2)
        return replace(notification, attempts=attempts, last_error=reason, next_attempt_at=now + delay)
    return replace(
        notification, state=DeliveryState.FAILED, attempts=attempts, last_error=reason, next_attempt_at=None
    )


def attempt_record(updated: Notification, result: AttemptResult, at: datetime) -> Attempt:
    """The history entry of the attempt that made ``updated``."""
    outcome = {
        DeliveryState.DELIVERED: AttemptOutcome.DELIVERED,
        DeliveryState.FAILED: AttemptOutcome.FAILED,
        DeliveryState.PENDING: AttemptOutcome.RETRY,
    }[updated.state]
    return Attempt(updated.attempts, at, outcome, updated.last_error, result.detail, updated.next_attempt_at)
