"""One-click unsubscribe (RFC 8058) end to end on a real HTTP server in this process: the
``List-Unsubscribe`` link of a sent e-mail, POSTed as a mail client does, mutes that template for its
recipient at once; a forged link or a POST without ``List-Unsubscribe=One-Click`` changes nothing."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.email import Links
from services.notification.domain.model import Contact, Recipient, Trigger
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.entrypoints.unsubscribe_http import application
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import DispatchDueEmails, GetPreferences
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.messagebus import MessageBus

NOW = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(email_by_default=True)


class Contacts:
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        return Contact(employee_id, "Ada", "ada@example.com")

    async def close(self) -> None:
        return None


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


async def enrolled(db: Database, event_id: str) -> int:
    trigger = Trigger(event_id, Template.ENROLLED, (Recipient("E-1", Audience.MENTEE),), Facts(), "acme")
    async with db.transaction() as uow:
        planned = await handlers.notify(uow, trigger, "", POLICY, NOW)
    return len(planned.notifications)


async def test_the_link_of_a_sent_email_mutes_its_template_at_once(
    database: Database, tmp_path: Path
) -> None:
    mailbox = MailboxDirectory(tmp_path / "mail", "M <m@example.com>")
    sending = EmailSending(Contacts(), mailbox, RetryPolicy(), links=Links("https://m.example", b"s3cret"))
    bus = MessageBus(database, handlers.handler_map(POLICY, sending))
    assert await enrolled(database, "ev-1") == 2
    await bus.execute(DispatchDueEmails(NOW))
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    link = urlsplit(str(message["List-Unsubscribe"]).strip("<>"))
    async with TestClient(TestServer(application(bus))) as client:
        wrong = await client.post(f"{link.path}?{link.query}", data={"List-Unsubscribe": "Yes"})
        forged = await client.post(f"{link.path}?token=x.y", data={"List-Unsubscribe": "One-Click"})
        assert (wrong.status, forged.status) == (400, 400)
        done = await client.post(f"{link.path}?{link.query}", data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200
    caller = Principal("sub-E-1", "acme", "E-1", None, frozenset({"employee"}))
    preferences = await bus.execute(GetPreferences(caller))
    assert preferences.muted_templates == frozenset({Template.ENROLLED})
    assert await enrolled(database, "ev-2") == 0, "honoured at once: no channel for that template"
