"""The e-mail of a delivery: composed at send time for the contact the directory returns, then written
out twice from the same parts, as plain text and as HTML (:func:`plain_text`, :func:`html_text`), so the
two alternatives of the message always say the same thing.

Links go to the web app at the configured base URL (:class:`Links`); every e-mail carries a link to the
notification settings and a signed one-click unsubscribe link for its template (RFC 8058)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from services.notification.domain.calendar import CalendarPart
from services.notification.domain.model import AttemptResult, Contact, FailureReason, Notification
from services.notification.domain.unsubscribe import Unsubscription, unsubscribe_token

SETTINGS_PATH: Final = "/settings/notifications"
UNSUBSCRIBE_PATH: Final = "/notifications/unsubscribe"


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Links:
    """The web app's addresses: ``base_url`` (no trailing slash) and the secret unsubscribe links are
    signed with."""

    base_url: str
    unsubscribe_secret: bytes

    def to(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"

    def unsubscribe(self, wanted: Unsubscription) -> str:
        token = unsubscribe_token(self.unsubscribe_secret, wanted)
        return f"{self.to(UNSUBSCRIBE_PATH)}?token={quote(token)}"


@dataclass(frozen=True, slots=True)
class EmailContent:
    notification_id: str
    to_name: str
    to_address: str
    subject: str
    greeting: str
    paragraphs: tuple[str, ...]
    footer: str
    settings_url: str
    unsubscribe_url: str
    action: Link | None = None
    calendar: CalendarPart | None = None
    language: str = "en"


def usable_address(contact: Contact) -> AttemptResult | None:
    """Why no e-mail can go to a contact, or None when one can."""
    if not contact.active:
        return AttemptResult.failed(FailureReason.RECIPIENT_INACTIVE)
    address = contact.email.strip()
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return AttemptResult.failed(FailureReason.NO_EMAIL_ADDRESS)
    return None


def compose_email(
    notification: Notification, contact: Contact, links: Links, calendar: CalendarPart | None = None
) -> EmailContent | AttemptResult:
    """The e-mail for a contact, or why none can be sent to it."""
    unusable = usable_address(contact)
    if unusable is not None:
        return unusable
    name = contact.display_name.strip()
    return EmailContent(
        notification_id=notification.notification_id,
        to_name=name,
        to_address=contact.email.strip(),
        subject=notification.title,
        greeting=f"Hello {name}," if name else "Hello,",
        paragraphs=(notification.body,),
        footer="You can choose which messages you receive, and where, in your notification settings.",
        settings_url=links.to(SETTINGS_PATH),
        unsubscribe_url=links.unsubscribe(
            Unsubscription(notification.tenant, notification.recipient_id, notification.template)
        ),
        calendar=calendar,
    )


def plain_text(content: EmailContent) -> str:
    parts = [content.greeting, *content.paragraphs]
    if content.action is not None:
        parts.append(f"{content.action.label}: {content.action.url}")
    parts.append(f"{content.footer}\n{content.settings_url}")
    parts.append(f"Unsubscribe from these messages: {content.unsubscribe_url}")
    return "\n\n".join(parts) + "\n"


def html_text(content: EmailContent) -> str:
    def paragraph(text: str) -> str:
        return f"<p>{html.escape(text)}</p>"

    def anchor(label: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'

    body = [paragraph(content.greeting), *(paragraph(text) for text in content.paragraphs)]
    if content.action is not None:
        body.append(f"<p>{anchor(content.action.label, content.action.url)}</p>")
    body.append(
        f'<hr><p style="font-size:small">{html.escape(content.footer)} '
        f"{anchor('Notification settings', content.settings_url)} · "
        f"{anchor('Unsubscribe', content.unsubscribe_url)}</p>"
    )
    lang = html.escape(content.language, quote=True)
    return f'<!DOCTYPE html>\n<html lang="{lang}"><body>\n' + "\n".join(body) + "\n</body></html>\n"
