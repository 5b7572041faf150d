"""The e-mail channel. There is no SMTP server in this deployment: the adapter drops each message as an
RFC 5322 ``.eml`` file into a mailbox directory (an MTA's pickup directory, or a developer's inbox).
One file per notification id, written atomically, so a retried send replaces rather than duplicates."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from services.notification.domain.model import EmailContent

MESSAGE_ID_DOMAIN = "notification.mentoring.invalid"


class EmailChannelError(Exception):
    """The channel could not take the message now; the dispatcher tries again later."""


class InvalidRecipientAddress(Exception):
    """The address cannot be written into a message header: no retry will fix it."""


class EmailChannel(Protocol):
    async def send(self, content: EmailContent) -> None: ...


def mime_message(content: EmailContent, sender: str, now: datetime) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=content.to_name, addr_spec=content.to_address)
    message["Subject"] = content.subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    # Stable per notification: a receiving system can drop a re-sent copy.
    message["Message-ID"] = f"<{content.notification_id}@{MESSAGE_ID_DOMAIN}>"
    message["X-Notification-Id"] = content.notification_id
    message.set_content(content.text)
    return message


class MailboxDirectory:
    def __init__(self, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    def path_of(self, notification_id: str) -> Path:
        return self._directory / f"{notification_id}.eml"

    async def send(self, content: EmailContent) -> None:
        try:
            data = mime_message(content, self._sender, datetime.now(UTC)).as_bytes()
        except (ValueError, IndexError, MessageError) as exc:
            raise InvalidRecipientAddress(type(exc).__name__) from exc
        try:
            await asyncio.to_thread(self._write, content.notification_id, data)
        except OSError as exc:
            raise EmailChannelError(f"mailbox not writable: {exc.strerror}") from exc

    def _write(self, notification_id: str, data: bytes) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        final = self.path_of(notification_id)
        partial = final.with_suffix(".eml.part")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, final)
