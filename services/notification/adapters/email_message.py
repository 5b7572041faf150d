"""The RFC 5322 message of an e-mail, as every e-mail channel sends it (SMTP, or the mailbox sink).

``multipart/alternative`` with the plain text and the HTML written from the same parts, and an iTIP
``text/calendar`` part (with its ``method``) for invitations and cancellations, the form Outlook and
Google Calendar act on. Headers: a ``Message-ID`` stable per notification (a receiving system can drop a
re-sent copy), ``List-Unsubscribe`` with ``List-Unsubscribe-Post`` for one-click unsubscribe (RFC 8058),
and ``Auto-Submitted`` (RFC 3834) so that auto-responders do not answer."""

from __future__ import annotations

from datetime import UTC, datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Final, Protocol

from services.notification.domain.email import EmailContent, html_text, plain_text
from services.notification.domain.model import FailureReason

MESSAGE_ID_DOMAIN: Final = "notification.mentoring.invalid"


class EmailNotSent(Exception):
    """The channel did not take the message: ``reason`` and ``detail`` (a bounded code: an SMTP reply
    code or an error class) go into the delivery status; ``retryable`` when trying later may help."""

    def __init__(self, reason: FailureReason, retryable: bool, detail: str = "") -> None:
        super().__init__(f"{reason.value} {detail}".strip())
        self.reason = reason
        self.retryable = retryable
        self.detail = detail


class EmailChannel(Protocol):
    async def send(self, content: EmailContent) -> str:
        """Hand the message on; returns a bounded code of how it went (e.g. the SMTP reply code)."""
        ...

    def forget(self, notification_ids: list[str]) -> None:
        """Drop whatever the channel keeps of these e-mails (an erased person's)."""
        ...


def message_id(notification_id: str, domain: str = MESSAGE_ID_DOMAIN) -> str:
    return f"<{notification_id}@{domain}>"


def mime_message(content: EmailContent, sender: str, now: datetime, domain: str = MESSAGE_ID_DOMAIN) -> bytes:
    """The message's bytes (CRLF line ends, as sent); an address that cannot be written into a header
    is INVALID_EMAIL_ADDRESS for good."""
    try:
        message = EmailMessage(policy=SMTP)
        message["From"] = sender
        message["To"] = Address(display_name=content.to_name, addr_spec=content.to_address)
        message["Subject"] = content.subject
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = message_id(content.notification_id, domain)
        message["List-Unsubscribe"] = f"<{content.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        message["X-Notification-Id"] = content.notification_id
        message.set_content(plain_text(content))
        message.add_alternative(html_text(content), subtype="html")
        if content.calendar is not None:
            message.add_alternative(
                content.calendar.ics,
                subtype="calendar",
                params={"method": content.calendar.method},
            )
        message["Content-Language"] = content.language  # after the parts: setting them drops Content-*
        return message.as_bytes()  # fails here, not in the channel, on an address no header can hold
    except (ValueError, IndexError, MessageError) as exc:
        raise EmailNotSent(FailureReason.INVALID_EMAIL_ADDRESS, False, type(exc).__name__) from exc
