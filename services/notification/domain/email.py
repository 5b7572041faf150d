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

from services.notification.domain import texts
from services.notification.domain.calendar import CalendarPart
from services.notification.domain.model import AttemptResult, Contact, FailureReason, Notification
from services.notification.domain.templates import Reader, render
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
    notification: Notification,
    contact: Contact,
    links: Links,
    calendar: CalendarPart | None = None,
    others: tuple[str, ...] = (),
) -> EmailContent | AttemptResult:
    """The e-mail for a contact, or why none can be sent to it: written now from the delivery's context
    in the recipient's language, in the timezone the directory gives (else the one of their enrolment),
    naming ``others`` (the other people's names, looked up now). A delivery stored before contexts
    were kept is sent with its stored text."""
    unusable = usable_address(contact)
    if unusable is not None:
        return unusable
    context = notification.context
    language = texts.language_of(context.language if context is not None else "")
    subject, paragraphs, action = notification.title, (notification.body,), None
    if context is not None:
        reader = Reader(language, contact.timezone or context.zone, others, calendar is not None)
        rendered = render(notification.template, context.audience, context.facts, reader)
        subject, paragraphs = rendered.title, (rendered.body,)
        if rendered.action is not None:
            action = Link(rendered.action.label, links.to(rendered.action.path))
    name = contact.display_name.strip()
    greeting = (
        texts.text(language, "greeting", name=name) if name else texts.text(language, "greeting.anonymous")
    )
    return EmailContent(
        notification_id=notification.notification_id,
        to_name=name,
        to_address=contact.email.strip(),
        subject=subject,
        greeting=greeting,
        paragraphs=paragraphs,
        footer=texts.text(language, "footer"),
        settings_url=links.to(SETTINGS_PATH),
        unsubscribe_url=links.unsubscribe(
            Unsubscription(notification.tenant, notification.recipient_id, notification.template)
        ),
        action=action,
        calendar=calendar,
        language=language,
    )


def plain_text(content: EmailContent) -> str:
    parts = [content.greeting, *content.paragraphs]
    if content.action is not None:
        parts.append(f"{content.action.label}: {content.action.url}")
    parts.append(f"{content.footer}\n{content.settings_url}")
    parts.append(f"{texts.text(content.language, 'unsubscribe')}: {content.unsubscribe_url}")
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
        f"{anchor(texts.text(content.language, 'settings'), content.settings_url)} · "
        f"{anchor(texts.text(content.language, 'unsubscribe'), content.unsubscribe_url)}</p>"
    )
    lang = html.escape(content.language, quote=True)
    return f'<!DOCTYPE html>\n<html lang="{lang}"><body>\n' + "\n".join(body) + "\n</body></html>\n"
