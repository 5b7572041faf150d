"""A local e-mail sink: each message as an RFC 5322 ``.eml`` file in a directory (an MTA's pickup
directory, or a developer's inbox). It is the channel when no SMTP host is configured, as in the
embedded ``make run``. One file per notification id, written atomically, so a retried send replaces
rather than duplicates; an erased person's files are deleted (:meth:`forget`)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

from services.notification.adapters.email_message import MESSAGE_ID_DOMAIN, EmailNotSent, mime_message
from services.notification.domain.email import EmailContent
from services.notification.domain.model import FailureReason
from services.shared.logging import get_logger

log = get_logger(__name__)


class MailboxDirectory:
    def __init__(self, directory: Path, sender: str, domain: str = MESSAGE_ID_DOMAIN) -> None:
        self._directory = directory
        self._sender = sender
        self._domain = domain

    def path_of(self, notification_id: str) -> Path:
        return self._directory / f"{notification_id}.eml"

    async def send(self, content: EmailContent) -> str:
        data = mime_message(content, self._sender, datetime.now(UTC), self._domain)
        try:
            await asyncio.to_thread(self._write, content.notification_id, data)
        except OSError as exc:
            raise EmailNotSent(FailureReason.CHANNEL_UNAVAILABLE, True, type(exc).__name__) from exc
        return "written"

    def forget(self, notification_ids: list[str]) -> None:
        for notification_id in notification_ids:
            try:
                self.path_of(notification_id).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("mailbox_file_not_deleted", notification_id=notification_id, error=exc.strerror)

    def _write(self, notification_id: str, data: bytes) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        final = self.path_of(notification_id)
        partial = final.with_suffix(".eml.part")
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, final)
