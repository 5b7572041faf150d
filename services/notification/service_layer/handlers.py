"""Handlers of the notification service, each inside the unit of work it is given: load through the
store, decide in the domain, persist, stage the outcome events in the outbox in the same transaction,
and count what happened once it commits. :func:`handler_map`, at the end, lists every command and
event the service reacts to.

The API's handlers serve a person their own inbox and preferences only, in their token's tenant
(:func:`_own`); a delivery that is missing, another tenant's or another person's is NOT_FOUND alike.
Events are applied in the tenant they name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.notification import metrics
from services.notification.adapters import event_memory, publishing, store
from services.notification.domain import categories, model
from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.model import (
    InboxPage,
    Notification,
    Plan,
    Preferences,
    Recipient,
    Trigger,
)
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.domain.unsubscribe import read_unsubscribe_token
from services.notification.service_layer import email_dispatch, reminders, webhook_dispatch
from services.notification.service_layer.commands import (
    DispatchDueEmails,
    DispatchDueWebhooks,
    EraseRecipient,
    FireDueReminders,
    GetDeliveryStatus,
    GetPreferences,
    GetTenantDefaults,
    ListInbox,
    MarkRead,
    NotifyEnrolled,
    NotifyMatchEvent,
    NotifySessionEvent,
    RememberProgram,
    Unsubscribe,
    UpdatePreferences,
    UpdateTenantDefaults,
)
from services.notification.service_layer.email_dispatch import EmailSending
from services.notification.service_layer.webhook_dispatch import WebhookSending
from services.shared.access import DenialReason, PermissionDenied, acting_for, is_hr, person_of, tenant_of
from services.shared.auth import Principal
from services.shared.errors import InvalidArgument, NotFound, NotYetKnown
from services.shared.ids import require_id
from services.shared.messagebus import Handlers
from services.shared.paging import decode_token, encode_token, page_size
from services.shared.unit_of_work import after_commit

MAX_PROGRAM_NAME: Final = 200


@dataclass(frozen=True, slots=True)
class Policy:
    """Service-wide settings the handlers apply."""

    email_by_default: bool = True
    reminder_leads_hours: tuple[int, ...] = (24, 1)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# ---- what events teach the service ----


async def remember_program(uow: AsyncSession, command: RememberProgram) -> None:
    """Programme names make texts readable; they name a programme, never a person."""
    await event_memory.save_program(
        uow,
        require_id(command.program_id, "program.program_id"),
        command.name.strip()[:MAX_PROGRAM_NAME],
        command.program_format,
    )


async def remember_match(
    uow: AsyncSession, tenant: str, match_id: str, program_id: str, mentor_id: str, mentee_ids: Sequence[str]
) -> tuple[Recipient, ...]:
    """Record who takes part in a match (session events carry only its id); returns them, mentor first."""
    participants = (
        Recipient(require_id(mentor_id, "match.mentor_employee_id"), Audience.MENTOR),
        *(
            Recipient(mentee, Audience.MENTEE)
            for mentee in dict.fromkeys(m.strip() for m in mentee_ids)
            if mentee
        ),
    )
    await event_memory.save_match(
        uow, _event_tenant(tenant), require_id(match_id, "match.match_id"), program_id.strip(), participants
    )
    return participants


async def erase_recipient(
    uow: AsyncSession, command: EraseRecipient, *, email: EmailSending | None = None
) -> int:
    """Forget the person here, and once that commits, whatever the e-mail channel keeps of their
    e-mails (the mailbox sink's files)."""
    tenant = _event_tenant(command.tenant)
    employee_id = require_id(command.employee_id, "employee_id")
    emails = await store.email_ids_of(uow, tenant, employee_id)
    removed = await store.erase_recipient(uow, tenant, employee_id)
    if email is not None and emails:
        after_commit(uow, partial(email.channel.forget, emails))
    after_commit(uow, metrics.ERASURES.inc)
    return removed


def _event_tenant(tenant: str) -> str:
    """The tenant an event names (``ce_tenant``): without one, its people cannot be told apart from
    another tenant's namesakes, so the event is refused (and dead-lettered)."""
    return require_id(tenant, "tenant", missing="the event names no tenant")


# ---- notifying ----


async def notify(
    uow: AsyncSession, trigger: Trigger, program_id: str, policy: Policy, now: datetime | None = None
) -> Plan:
    """Create the trigger's notifications as the recipients' preferences say; in-app items are
    delivered on the spot, so their NotificationDelivered is staged now."""
    tenant = _event_tenant(trigger.tenant)
    facts = trigger.facts
    if program_id:
        name, program_format = await event_memory.program_of(uow, program_id)
        facts = replace(
            facts,
            program_name=facts.program_name or name,
            program_format=facts.program_format or program_format,
            program_id=program_id,
        )
    recipients = tuple(
        Recipient(require_id(recipient.employee_id, "recipient_id"), recipient.audience)
        for recipient in trigger.recipients
    )
    ids = [recipient.employee_id for recipient in recipients]
    wanted = await store.get_preferences(uow, tenant, ids)
    zones = await event_memory.zones_of(uow, tenant, ids)
    planned = model.plan(
        replace(trigger, recipients=recipients, facts=facts),
        wanted,
        policy.email_by_default,
        _now(now),
        zones,
        await store.get_tenant_defaults(uow, tenant),
    )
    await store.insert_notifications(uow, planned.notifications)
    await store.record_attempts(
        uow,
        [
            (item, model.Attempt(1, item.created_at, model.AttemptOutcome.DELIVERED))
            for item in planned.notifications
            if item.state is model.DeliveryState.DELIVERED
        ],
    )
    await publishing.stage_outcomes(uow, planned.notifications)
    after_commit(uow, partial(_count_planned, trigger.template, planned))
    return planned


async def _notify_for(
    uow: AsyncSession, trigger: Trigger, program_id: str, now: datetime | None, *, policy: Policy
) -> Plan:
    return await notify(uow, trigger, program_id, policy, now)


def _count_planned(template: Template, planned: Plan) -> None:
    for item in planned.notifications:
        metrics.NOTIFICATIONS.labels(item.template.value, item.channel.value).inc()
        if item.state is model.DeliveryState.DELIVERED:
            metrics.DELIVERIES.labels(item.channel.value, "delivered").inc()
    if planned.muted:
        metrics.SUPPRESSED.labels(template.value).inc(len(planned.muted))


async def notify_enrolled(
    uow: AsyncSession, command: NotifyEnrolled, *, policy: Policy, now: datetime | None = None
) -> Plan:
    # A participant enrolled without a role is addressed as a mentee, and their text names no role.
    recipient = Recipient(command.employee_id, command.role or Audience.MENTEE)
    zone = command.timezone.strip()
    if zone and command.employee_id.strip():
        tenant = _event_tenant(command.tenant)
        await event_memory.save_zone(uow, tenant, command.employee_id.strip(), zone[:64])
    trigger = Trigger(
        command.event_id, Template.ENROLLED, (recipient,), Facts(role=command.role), command.tenant
    )
    return await notify(uow, trigger, command.program_id, policy, now)


async def notify_match_event(
    uow: AsyncSession, command: NotifyMatchEvent, *, policy: Policy, now: datetime | None = None
) -> Plan:
    participants = await remember_match(
        uow, command.tenant, command.match_id, command.program_id, command.mentor_id, command.mentee_ids
    )
    recipients = model.told_of_match_event(command.template, command.by, participants)
    facts = replace(command.facts, by=command.by, match_id=command.match_id.strip())
    trigger = Trigger(command.event_id, command.template, recipients, facts, command.tenant, participants)
    return await notify(uow, trigger, command.program_id, policy, now)


async def notify_session_event(
    uow: AsyncSession, command: NotifySessionEvent, *, policy: Policy, now: datetime | None = None
) -> Plan:
    """Notify every participant of a match known from matching events. A session event may overtake
    the matching event that introduces its match (another topic): it is retried for a while first."""
    tenant = _event_tenant(command.tenant)
    known = await event_memory.match_of(uow, tenant, require_id(command.match_id, "match_id"))
    if known is None:
        # Another tenant's match is as unknown here as one never heard of.
        raise NotYetKnown("match_unknown", f"no matching event has introduced match {command.match_id}")
    program_id, participants = known
    entry = await _calendar_entry(uow, tenant, command)
    template = command.template
    if template is Template.SESSION_SCHEDULED and entry is not None and entry.sequence > 0:
        template = Template.SESSION_MOVED
    facts = replace(command.facts, match_id=command.match_id.strip(), session_id=command.session_id.strip())
    trigger = Trigger(command.event_id, template, participants, facts, command.tenant, participants, entry)
    if entry is not None:
        leads = policy.reminder_leads_hours
        await reminders.plan_reminders(uow, tenant, command.match_id.strip(), entry, leads, _now(now))
    return await notify(uow, trigger, program_id, policy, now)


async def _calendar_entry(
    uow: AsyncSession, tenant: str, command: NotifySessionEvent
) -> SessionCalendar | None:
    """The session's calendar entry after this event (stored): new at SEQUENCE 0, one more when it
    moved or is cancelled. None for an event that names no session or time."""
    starts_at = command.facts.starts_at
    if not command.session_id.strip() or starts_at is None:
        return None
    session_id = command.session_id.strip()
    known = await event_memory.session_of(uow, tenant, session_id)
    duration = command.facts.duration_minutes
    if known is None:
        known = SessionCalendar(
            session_id, starts_at, duration, 0, False, command.location, command.meeting_link
        )
        if command.template is Template.SESSION_CANCELLED:
            known = known.cancel()
    elif command.template is Template.SESSION_CANCELLED:
        known = known.cancel()
    else:
        known = known.scheduled(starts_at, duration, command.location, command.meeting_link)
    await event_memory.save_session(uow, tenant, known)
    return known


# ---- the API ----


def _own(caller: Principal, recipient_id: str = "") -> tuple[str, str]:
    """(tenant, employee id) of a person asking about their own inbox or preferences: a request naming
    nobody names the caller; naming anyone else is refused, HR included (an inbox is its owner's)."""
    person_of(caller)
    return tenant_of(caller), acting_for(caller, recipient_id)


async def list_inbox(uow: AsyncSession, command: ListInbox) -> InboxPage:
    tenant, recipient = _own(command.caller, command.recipient_id)
    limit = page_size(command.page_size)
    key = decode_token("inbox", command.page_token, 2)
    before = (_parse_instant(key[0]), key[1]) if key is not None else None
    items, total = await store.list_inbox(uow, tenant, recipient, command.unread_only, limit + 1, before)
    next_token = ""
    if len(items) > limit:
        items = items[:limit]
        next_token = encode_token("inbox", [items[-1].created_at.isoformat(), items[-1].notification_id])
    return InboxPage(items=items, next_page_token=next_token, total_size=total)


async def mark_read(uow: AsyncSession, command: MarkRead) -> Notification:
    tenant, recipient = _own(command.caller, command.recipient_id)
    wanted_id = require_id(command.notification_id, "notification_id")
    item = await store.notification_of(uow, tenant, recipient, wanted_id)
    if item is None or item.channel is not model.Channel.IN_APP:
        raise NotFound("inbox item", wanted_id)
    read = item.mark_read(recipient)
    if read is not item:
        await store.update_delivery(uow, read)
        after_commit(uow, metrics.INBOX_READS.inc)
    return read


async def get_preferences(uow: AsyncSession, command: GetPreferences, *, policy: Policy) -> Preferences:
    tenant, recipient = _own(command.caller, command.recipient_id)
    stored = await store.get_preferences(uow, tenant, [recipient])
    return stored.get(recipient) or model.default_preferences(recipient, policy.email_by_default)


async def update_preferences(
    uow: AsyncSession, command: UpdatePreferences, now: datetime | None = None
) -> Preferences:
    tenant, recipient = _own(command.caller, command.recipient_id)
    wanted = model.validate_preferences(
        recipient,
        command.email,
        command.in_app,
        command.webhook_url,
        command.muted_templates,
        command.language,
        command.webhook_format,
        command.quiet_hours,
        categories.parse_category_channels(command.categories),
    )
    stored = (await store.get_preferences(uow, tenant, [recipient])).get(recipient)
    wanted = _with_secrets(wanted, stored, command.rotate_webhook_secret)
    await store.save_preferences(uow, tenant, wanted, _now(now))
    return wanted


async def unsubscribe(
    uow: AsyncSession, command: Unsubscribe, *, policy: Policy, secret: bytes, now: datetime | None = None
) -> Preferences:
    """Honoured at once: the template is muted in the recipient's preferences (every channel)."""
    wanted = read_unsubscribe_token(secret, command.token)
    stored = (await store.get_preferences(uow, wanted.tenant, [wanted.recipient_id])).get(wanted.recipient_id)
    current = stored or model.default_preferences(wanted.recipient_id, policy.email_by_default)
    muted = replace(current, muted_templates=current.muted_templates | {wanted.template})
    await store.save_preferences(uow, wanted.tenant, muted, _now(now))
    return muted


def _hr_tenant(caller: Principal) -> str:
    """The tenant of an HR admin; anyone else is refused (the access table admits HR only)."""
    if not is_hr(caller):
        raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, "only HR sets a tenant's defaults")
    return tenant_of(caller)


async def get_tenant_defaults(uow: AsyncSession, command: GetTenantDefaults) -> categories.CategoryChannels:
    return await store.get_tenant_defaults(uow, _hr_tenant(command.caller))


async def update_tenant_defaults(
    uow: AsyncSession, command: UpdateTenantDefaults, now: datetime | None = None
) -> categories.CategoryChannels:
    tenant = _hr_tenant(command.caller)
    wanted = categories.parse_category_channels(command.categories)
    await store.save_tenant_defaults(uow, tenant, wanted, _now(now))
    return wanted


def _with_secrets(wanted: Preferences, stored: Preferences | None, rotate: bool) -> Preferences:
    """An endpoint's signing secret: a new one for a new endpoint; on rotation a new one, the previous
    one signing too until the next rotation; none without an endpoint."""
    if not wanted.webhook_url:
        return replace(wanted, webhook_secret="", webhook_previous_secret="")
    if stored is None or stored.webhook_url != wanted.webhook_url or not stored.webhook_secret:
        return replace(
            wanted, webhook_secret=webhook_dispatch.new_webhook_secret(), webhook_previous_secret=""
        )
    if rotate:
        return replace(
            wanted,
            webhook_secret=webhook_dispatch.new_webhook_secret(),
            webhook_previous_secret=stored.webhook_secret,
        )
    return replace(
        wanted, webhook_secret=stored.webhook_secret, webhook_previous_secret=stored.webhook_previous_secret
    )


async def get_delivery_status(uow: AsyncSession, command: GetDeliveryStatus) -> Notification:
    """The status of one of the caller's own deliveries. Another person's is NOT_FOUND, not
    PERMISSION_DENIED: notification ids derive from event and employee ids, so a refusal would confirm to
    a colleague that someone was told of something."""
    tenant, recipient = _own(command.caller)
    wanted_id = require_id(command.notification_id, "notification_id")
    item = await store.notification_of(uow, tenant, recipient, wanted_id)
    if item is None:
        raise NotFound("notification", wanted_id)
    return replace(item, history=await store.attempts_of(uow, item.notification_id))


def _parse_instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from exc
    if parsed.tzinfo is None:
        raise InvalidArgument("page.page_token", "is not a token this service issued")
    return parsed


def handler_map(policy: Policy, email: EmailSending, webhooks: WebhookSending | None = None) -> Handlers:
    """Every command and event the notification service reacts to, and its handler."""
    return {
        # events consumed
        RememberProgram: remember_program,
        NotifyEnrolled: partial(notify_enrolled, policy=policy),
        NotifyMatchEvent: partial(notify_match_event, policy=policy),
        NotifySessionEvent: partial(notify_session_event, policy=policy),
        EraseRecipient: partial(erase_recipient, email=email),
        # the API
        ListInbox: list_inbox,
        MarkRead: mark_read,
        GetPreferences: partial(get_preferences, policy=policy),
        UpdatePreferences: update_preferences,
        GetTenantDefaults: get_tenant_defaults,
        UpdateTenantDefaults: update_tenant_defaults,
        GetDeliveryStatus: get_delivery_status,
        Unsubscribe: partial(unsubscribe, policy=policy, secret=email.links.unsubscribe_secret),
        # background work
        DispatchDueEmails: partial(email_dispatch.dispatch_due_emails, email=email),
        FireDueReminders: partial(reminders.fire_due_reminders, notify=partial(_notify_for, policy=policy)),
        DispatchDueWebhooks: partial(
            webhook_dispatch.dispatch_due_webhooks, webhooks=webhooks or _no_webhooks(email)
        ),
    }


def _no_webhooks(email: EmailSending) -> WebhookSending:
    """A service (or test) built without a webhook client: every call is unreachable."""
    return WebhookSending(
        webhook_dispatch.Unconfigured(), email.retry, webhook_dispatch.Circuits(), email.links
    )
