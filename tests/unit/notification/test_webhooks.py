"""The chat and webhook channel against a real HTTPS server in this process (aiohttp, a self-signed
certificate the client is told to trust): Standard Webhooks signatures checked by an independent
verifier (the ``standardwebhooks`` library), Slack and Teams payloads, secret rotation, how 4xx, 5xx and
timeouts end, and a dead endpoint's circuit opening while other endpoints and e-mail go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.adapters.webhook import HttpWebhooks
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.email import Links
from services.notification.domain.model import Contact, Notification, Recipient, Trigger
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import (
    DispatchDueEmails,
    DispatchDueWebhooks,
    GetDeliveryStatus,
    UpdatePreferences,
)
from services.notification.service_layer.delivery import RetryPolicy
from services.notification.service_layer.email_dispatch import EmailSending
from services.notification.service_layer.handlers import Policy
from services.notification.service_layer.webhook_dispatch import Circuits, WebhookSending
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.messagebus import MessageBus
from tests.unit.notification.mail_server import self_signed

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LINKS = Links("https://mentoring.example.com", b"k")


@dataclass
class Endpoint:
    """Records each request; answers ``replies`` in turn (then 200), or sleeps ``delay`` first."""

    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    delay: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.replies.pop(0) if self.replies else 200)


@dataclass
class Server:
    base: str
    endpoints: dict[str, Endpoint]
    certificate: Path


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    context, certificate = self_signed(tmp_path)
    endpoints = {name: Endpoint() for name in ("good", "slack", "teams", "flaky", "slow", "refusing")}
    app = web.Application()
    for name, endpoint in endpoints.items():
        app.router.add_post(f"/{name}", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Server(f"https://localhost:{port}", endpoints, certificate)
    await runner.cleanup()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


def person(employee_id: str) -> Principal:
    return Principal(f"sub-{employee_id}", "acme", employee_id, None, frozenset({"employee"}))


class Contacts:
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        return Contact(employee_id, "Someone", f"{employee_id.lower()}@example.com")

    async def close(self) -> None:
        return None


def bus(db: Database, server: Server, tmp_path: Path, threshold: int = 5, timeout: float = 2) -> MessageBus:
    retry = RetryPolicy(max_attempts=3, retry_base=timedelta(seconds=10), jitter=lambda: 0.0)
    webhooks = WebhookSending(
        HttpWebhooks(timeout, server.certificate), retry, Circuits(threshold, timedelta(minutes=5)), LINKS
    )
    email = EmailSending(
        Contacts(), MailboxDirectory(tmp_path / "mail", "M <m@example.com>"), retry, links=LINKS
    )
    return MessageBus(db, handlers.handler_map(Policy(email_by_default=False), email, webhooks))


async def subscribe(db: Database, recipient: str, url: str, fmt: str = "", email: bool = False) -> str:
    async with db.transaction() as uow:
        wanted = UpdatePreferences(person(recipient), "", email, True, url, webhook_format=fmt)
        return (await handlers.update_preferences(uow, wanted)).webhook_secret


async def proposed(db: Database, recipient: str, event_id: str = "ev-1") -> Notification:
    facts = Facts(program_name="Engineering", match_id="m-1")
    trigger = Trigger(
        event_id, Template.MATCH_PROPOSED, (Recipient(recipient, Audience.MENTOR),), facts, "acme"
    )
    async with db.transaction() as uow:
        planned = await handlers.notify(uow, trigger, "", Policy(email_by_default=False), NOW)
    return next(item for item in planned.notifications if item.channel.value == "webhook")


async def status(db: Database, item: Notification) -> tuple[str, int, list[tuple[str, str, str]]]:
    async with db.transaction() as uow:
        found = await handlers.get_delivery_status(
            uow, GetDeliveryStatus(person(item.recipient_id), item.notification_id)
        )
    return found.state.value, found.attempts, [(a.outcome.value, a.reason, a.detail) for a in found.history]


async def test_a_standard_webhook_is_signed_and_verified(
    database: Database, server: Server, tmp_path: Path
) -> None:
    secret = await subscribe(database, "E-1", f"{server.base}/good")
    assert secret.startswith("whsec_")
    item = await proposed(database, "E-1")
    assert await bus(database, server, tmp_path).execute(DispatchDueWebhooks(NOW)) == 1
    [(headers, body)] = server.endpoints["good"].calls
    assert headers["webhook-id"] == item.notification_id
    document: Any = Webhook(secret).verify(body, headers)
    assert document["type"] == "notification.match_proposed"
    assert document["data"]["title"] == "A mentee has been proposed to you"
    assert document["data"]["url"] == "https://mentoring.example.com/matches/m-1"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(body, headers)
    tampered = body.replace(b"Engineering", b"Marketing")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)
    assert await status(database, item) == ("delivered", 1, [("delivered", "", "200")])


async def test_a_rotated_secret_signs_alongside_the_previous_one(
    database: Database, server: Server, tmp_path: Path
) -> None:
    first = await subscribe(database, "E-1", f"{server.base}/good")
    async with database.transaction() as uow:
        wanted = UpdatePreferences(
            person("E-1"), "", False, True, f"{server.base}/good", rotate_webhook_secret=True
        )
        rotated = await handlers.update_preferences(uow, wanted)
    assert rotated.webhook_previous_secret == first and rotated.webhook_secret not in ("", first)
    await proposed(database, "E-1")
    await bus(database, server, tmp_path).execute(DispatchDueWebhooks(NOW))
    [(headers, body)] = server.endpoints["good"].calls
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (first, rotated.webhook_secret):
        Webhook(secret).verify(body, headers)
    assert await subscribe(database, "E-1", f"{server.base}/slack") not in (first, rotated.webhook_secret)


async def test_slack_and_teams_get_their_own_payloads(
    database: Database, server: Server, tmp_path: Path
) -> None:
    await subscribe(database, "E-1", f"{server.base}/slack", "slack")
    await subscribe(database, "E-2", f"{server.base}/teams", "teams")
    await proposed(database, "E-1")
    await proposed(database, "E-2")
    assert await bus(database, server, tmp_path).execute(DispatchDueWebhooks(NOW)) == 2
    [(slack_headers, slack_body)] = server.endpoints["slack"].calls
    [(_, teams_body)] = server.endpoints["teams"].calls
    slack = json.loads(slack_body)
    assert slack["text"].startswith("A mentee has been proposed to you")
    assert slack["blocks"][0]["text"]["type"] == "mrkdwn"
    assert slack["blocks"][1]["elements"][0]["url"] == "https://mentoring.example.com/matches/m-1"
    assert "webhook-signature" not in slack_headers
    teams = json.loads(teams_body)
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["body"][0]["text"] == "A mentee has been proposed to you"
    assert attachment["content"]["actions"][0]["type"] == "Action.OpenUrl"


async def test_refusals_are_final_unavailability_and_timeouts_are_retried(
    database: Database, server: Server, tmp_path: Path
) -> None:
    server.endpoints["refusing"].replies.append(404)
    server.endpoints["flaky"].replies.append(503)
    server.endpoints["slow"].delay = 2.0
    await subscribe(database, "E-1", f"{server.base}/refusing")
    await subscribe(database, "E-2", f"{server.base}/flaky")
    await subscribe(database, "E-3", f"{server.base}/slow")
    refused, flaky, slow = [await proposed(database, who) for who in ("E-1", "E-2", "E-3")]
    sender = bus(database, server, tmp_path, timeout=0.5)
    assert await sender.execute(DispatchDueWebhooks(NOW)) == 3
    assert await status(database, refused) == ("failed", 1, [("failed", "webhook_rejected", "404")])
    assert await status(database, flaky) == ("pending", 1, [("retry", "webhook_unavailable", "503")])
    assert (await status(database, slow))[2] == [("retry", "webhook_unreachable", "TimeoutError")]
    server.endpoints["slow"].delay = 0
    assert await sender.execute(DispatchDueWebhooks(NOW + timedelta(seconds=10))) == 2
    assert (await status(database, flaky))[:2] == ("delivered", 2)
    assert (await status(database, slow))[:2] == ("delivered", 2)


async def test_a_dead_endpoint_opens_its_circuit_while_others_and_email_go_on(
    database: Database, server: Server, tmp_path: Path
) -> None:
    dead = "https://localhost:1/dead"
    await subscribe(database, "E-1", dead, email=True)
    await subscribe(database, "E-2", f"{server.base}/good")
    first, second = await proposed(database, "E-1", "ev-1"), await proposed(database, "E-1", "ev-2")
    healthy = await proposed(database, "E-2", "ev-3")
    sender = bus(database, server, tmp_path, threshold=2)
    assert await sender.execute(DispatchDueWebhooks(NOW)) == 3
    assert (await status(database, healthy))[0] == "delivered"
    for item in (first, second):
        assert (await status(database, item))[2] == [("retry", "webhook_unreachable", "ClientConnectorError")]
    # Open now: the next tries go nowhere and spend no attempt; they wait for the cooldown.
    third = await proposed(database, "E-1", "ev-4")
    assert await sender.execute(DispatchDueWebhooks(NOW + timedelta(seconds=20))) == 3
    for item in (first, second, third):
        state, attempts, _ = await status(database, item)
        assert state == "pending" and attempts == (0 if item is third else 1)
    assert await sender.execute(DispatchDueWebhooks(NOW + timedelta(seconds=30))) == 0, "postponed"
    # E-mail has its own dispatcher: the dead endpoint holds none of it back.
    assert await sender.execute(DispatchDueEmails(NOW)) == 3
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3
