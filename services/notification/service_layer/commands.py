"""What the notification service is asked to do, whichever entrypoint asks: the events it reacts to,
translated into commands by its consumers, and the requests of its API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.notification.domain.categories import CategoryChannels
from services.notification.domain.model import InboxPage, Notification, Plan, Preferences
from services.notification.domain.templates import Audience, Facts, ProgramFormat, Template
from services.shared.auth import Principal
from services.shared.messagebus import Command, Query, Workflow

# ---- what events teach the service, and whom they notify ----


@dataclass(frozen=True, slots=True)
class RememberProgram(Command[None]):
    """A programme was created or renamed: its name makes texts readable."""

    program_id: str
    name: str
    program_format: ProgramFormat | None = None


@dataclass(frozen=True, slots=True)
class NotifyEnrolled(Command[Plan]):
    """Tell a participant their enrollment in a programme is confirmed."""

    event_id: str
    program_id: str
    employee_id: str
    role: Audience | None
    tenant: str = ""
    timezone: str = ""  # IANA name the participant enrolled with


@dataclass(frozen=True, slots=True)
class NotifyMatchEvent(Command[Plan]):
    """A match changed (proposed, accepted, declined, activated, ended): remember its participants and
    tell those the template concerns. ``by`` is the side that acted, if one did."""

    event_id: str
    template: Template
    match_id: str
    program_id: str
    mentor_id: str
    mentee_ids: tuple[str, ...]
    by: Audience | None = None
    facts: Facts = field(default_factory=Facts)
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class NotifySessionEvent(Command[Plan]):
    """A session of a match known from matching events was scheduled or cancelled: tell everyone in it."""

    event_id: str
    template: Template
    match_id: str
    facts: Facts = field(default_factory=Facts)
    tenant: str = ""
    # For the calendar invitation: which session, and where it happens (given to its attendees only).
    session_id: str = ""
    location: str = ""
    meeting_link: str = ""


@dataclass(frozen=True, slots=True)
class EraseRecipient(Command[int]):
    """An employee of ``tenant`` was erased: forget their deliveries, preferences and match memberships
    (employee ids are unique within a tenant only: another tenant's namesake keeps theirs)."""

    tenant: str
    employee_id: str


# ---- the API ----
# Each carries its caller (the RPC's Principal): an inbox, its items and preferences are the person's own,
# in their token's tenant. ``recipient_id`` empty means the caller; anyone else's is refused.


@dataclass(frozen=True, slots=True)
class ListInbox(Query[InboxPage]):
    caller: Principal
    recipient_id: str = ""
    unread_only: bool = False
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class MarkRead(Command[Notification]):
    caller: Principal
    notification_id: str
    recipient_id: str = ""


@dataclass(frozen=True, slots=True)
class GetPreferences(Query[Preferences]):
    caller: Principal
    recipient_id: str = ""


@dataclass(frozen=True, slots=True)
class UpdatePreferences(Command[Preferences]):
    """Replace the recipient's preferences as a whole (the API has no field mask)."""

    caller: Principal
    recipient_id: str
    email: bool
    in_app: bool
    webhook_url: str = ""
    muted_templates: tuple[str, ...] = ()
    language: str = ""
    webhook_format: str = ""
    rotate_webhook_secret: bool = False
    quiet_hours: tuple[str, str] = ("", "")  # HH:MM start and end, or both empty
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (category, channels) the person chose


@dataclass(frozen=True, slots=True)
class GetTenantDefaults(Query[CategoryChannels]):
    """The channels per category of the caller's tenant (HR)."""

    caller: Principal


@dataclass(frozen=True, slots=True)
class UpdateTenantDefaults(Command[CategoryChannels]):
    """Replace the tenant's channels per category (HR); people's own choices still come first."""

    caller: Principal
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class GetDeliveryStatus(Query[Notification]):
    caller: Principal
    notification_id: str


# ---- background work ----


@dataclass(frozen=True, slots=True)
class DispatchDueEmails(Workflow[int]):
    """Attempt one batch of the e-mails due by ``now`` (the present when None); returns how many were
    attempted. Look-ups and sends happen outside any transaction, so it opens its own."""

    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class DispatchDueWebhooks(Workflow[int]):
    """Attempt one batch of the chat and webhook deliveries due by ``now`` (the present when None)."""

    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class FireDueReminders(Command[int]):
    """Fire the session reminders due by ``now`` (the present when None), at most ``limit``."""

    now: datetime | None = None
    limit: int = 200


@dataclass(frozen=True, slots=True)
class Unsubscribe(Command[Preferences]):
    """A one-click unsubscribe (RFC 8058) from an e-mail's link: mute its template for its recipient.
    The signed token is the only authority: the POST comes from a mail client, with no bearer token."""

    token: str
