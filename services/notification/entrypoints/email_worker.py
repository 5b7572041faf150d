"""The background loop that drives the e-mail dispatcher for as long as the service runs."""

from __future__ import annotations

import asyncio

from services.notification.adapters.contacts import ContactDirectory
from services.notification.service_layer.email_dispatch import EmailDispatcher
from services.shared.logging import get_logger

log = get_logger(__name__)


async def run_email_worker(
    dispatcher: EmailDispatcher, contacts: ContactDirectory, poll_seconds: float, batch_size: int
) -> None:
    """Dispatch due e-mails, then wait ``poll_seconds`` unless a full batch suggests more are due.
    Runs until cancelled (at shutdown); a failing round is logged and the next one tries again."""
    try:
        while True:
            try:
                attempted = await dispatcher.dispatch_due()
            except Exception:
                log.exception("email_dispatch_failed")
                attempted = 0
            if attempted < batch_size:
                await asyncio.sleep(poll_seconds)
    finally:
        await contacts.close()
