"""Delivers pending chat and webhook notifications: post the recipient's in-app text (which names
nobody) and a link to their endpoint in its format (Slack, Teams, Standard Webhooks, signed), then
record the outcome as every dispatcher does (``delivery.py``).

Each endpoint has a circuit breaker (in this process's memory): after ``threshold`` retryable failures
in a row it opens, and deliveries to it wait until its cooldown is over (postponed without an attempt
being spent) while every other endpoint, and e-mail, which has its own job, go on. A call has a total
timeout, and up to ``concurrency`` go at once, so a slow endpoint holds up no other."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from services.notification import metrics
from services.notification.adapters import store
from services.notification.adapters.webhook import WebhookClient, WebhookUnreachable
from services.notification.domain.channels import WebhookFormat
from services.notification.domain.email import Links
from services.notification.domain.model import (
    AttemptResult,
    Channel,
    FailureReason,
    Notification,
    Preferences,
)
from services.notification.domain.templates import Reader, render
from services.notification.domain.webhook import (
    Circuit,
    WebhookMessage,
    judged,
    new_secret,
    payload,
    signed_headers,
)
from services.notification.service_layer.commands import DispatchDueWebhooks
from services.notification.service_layer.delivery import OutcomeWriter, RetryPolicy, nothing
from services.shared.db import Database
from services.shared.logging import get_logger

log = get_logger(__name__)


@dataclass
class Circuits:
    """The circuit breaker of each endpoint, by URL (kept in memory, never logged nor a metric label)."""

    threshold: int = 5
    cooldown: timedelta = timedelta(seconds=60)
    _by_url: dict[str, Circuit] = field(default_factory=dict)

    def _of(self, url: str) -> Circuit:
        return self._by_url.get(url) or Circuit(self.threshold, self.cooldown)

    def admit(self, url: str, now: datetime) -> datetime | None:
        """None when a call may go now; otherwise when the circuit lets one through again."""
        admitted, circuit = self._of(url).admits(now)
        self._by_url[url] = circuit
        return None if admitted else circuit.reopens_at() or now + self.cooldown

    def record(self, url: str, healthy: bool, now: datetime) -> None:
        before = self._of(url)
        after = before.after(healthy, now)
        self._by_url[url] = after
        if after.opened_at is not None and before.opened_at is None:
            metrics.CIRCUITS_OPENED.inc()
            log.warning("webhook_circuit_opened", failures=after.failures)
        metrics.OPEN_CIRCUITS.set(sum(1 for item in self._by_url.values() if item.opened_at is not None))


class Unconfigured:
    """No HTTP client: every endpoint is unreachable."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        raise WebhookUnreachable("no_client")

    async def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class WebhookSending:
    client: WebhookClient
    retry: RetryPolicy
    circuits: Circuits
    links: Links
    wake_relay: Callable[[], None] = nothing


def new_webhook_secret() -> str:
    return new_secret(secrets.token_bytes(24))


async def dispatch_due_webhooks(
    database: Database, command: DispatchDueWebhooks, *, webhooks: WebhookSending
) -> int:
    """Attempt every webhook delivery due by the command's moment (one batch); returns how many were
    attempted or postponed."""
    moment = command.now or datetime.now(UTC)
    async with database.transaction() as uow:
        due = await store.due_deliveries(uow, Channel.WEBHOOK, moment, webhooks.retry.batch_size)
        endpoints: dict[tuple[str, str], Preferences] = {}
        for tenant in {item.tenant for item in due}:
            wanted = [item.recipient_id for item in due if item.tenant == tenant]
            for recipient, preferences in (await store.get_preferences(uow, tenant, wanted)).items():
                endpoints[tenant, recipient] = preferences
    slots = asyncio.Semaphore(webhooks.retry.concurrency)
    outcomes = OutcomeWriter(database, command.now, webhooks.retry, webhooks.wake_relay)

    async def deliver(item: Notification) -> None:
        async with slots:
            result = await _deliver(
                database, webhooks, item, endpoints.get((item.tenant, item.recipient_id)), command
            )
        if result is not None:
            await outcomes.add(item.notification_id, result)

    await asyncio.gather(*(deliver(item) for item in due))
    return len(due)


async def _deliver(
    database: Database,
    webhooks: WebhookSending,
    item: Notification,
    endpoint: Preferences | None,
    command: DispatchDueWebhooks,
) -> AttemptResult | None:
    """How the attempt went; None when none was made (the endpoint's circuit is open: postponed)."""
    if endpoint is None or not endpoint.webhook_url:
        return AttemptResult.failed(FailureReason.NO_WEBHOOK_ENDPOINT)
    url = endpoint.webhook_url
    wall = datetime.now(UTC)  # the circuits keep real time, whatever moment the batch is for
    reopens = webhooks.circuits.admit(url, wall)
    if reopens is not None:
        async with database.transaction() as uow:
            await store.postpone(uow, item.notification_id, (command.now or wall) + (reopens - wall))
        return None
    body = payload(_message(webhooks.links, item), endpoint.webhook_format)
    headers = {"content-type": "application/json"}
    if endpoint.webhook_format is WebhookFormat.STANDARD:
        signing = (endpoint.webhook_secret, endpoint.webhook_previous_secret)
        headers = signed_headers(signing, item.notification_id, int(time.time()), body)
    try:
        result = judged(await webhooks.client.post(url, body, headers))
    except WebhookUnreachable as error:
        result = AttemptResult.failed(FailureReason.WEBHOOK_UNREACHABLE, retryable=True, detail=error.detail)
    webhooks.circuits.record(url, result.delivered or not result.retryable, datetime.now(UTC))
    return result


def _message(links: Links, item: Notification) -> WebhookMessage:
    """The in-app text again (no names), in the recipient's language and zone, with its link."""
    title, body, url = item.title, item.body, links.to("/")
    context = item.context
    if context is not None:
        rendered = render(
            item.template, context.audience, context.facts, Reader(context.language, context.zone)
        )
        title, body = rendered.title, rendered.body
        if rendered.action is not None:
            url = links.to(rendered.action.path)
    return WebhookMessage(item.notification_id, item.template.value, title, body, url, item.created_at)
