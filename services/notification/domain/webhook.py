"""The chat and webhook channel: what is posted to a recipient's endpoint, how it is signed, how an answer
is judged, and the circuit breaker that stops calling an endpoint that keeps failing.

Three formats: a Slack incoming webhook (``text`` plus Block Kit ``blocks``), a Microsoft Teams incoming
webhook (a ``message`` with one Adaptive Card) and a generic webhook signed as the Standard Webhooks
convention says: ``webhook-id`` (the notification id, the same on every retry, so a receiver can drop
a repeat), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``, ``v1,`` and the base64 of
HMAC-SHA256 over ``id.timestamp.body`` under the endpoint's secret (``whsec_`` and base64). While a
secret is rotated, both the new and the previous secret sign, space-separated, as the convention allows.

What is posted is the in-app text (which names nobody: a chat channel may be read by others) and a link.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from services.notification.domain.channels import WebhookFormat
from services.notification.domain.model import AttemptResult, FailureReason

SECRET_PREFIX: Final = "whsec_"


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    notification_id: str
    template: str
    title: str
    body: str
    url: str
    created_at: datetime


def new_secret(key: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def payload(message: WebhookMessage, webhook_format: WebhookFormat) -> bytes:
    if webhook_format is WebhookFormat.SLACK:
        text = f"*{message.title}*\n{message.body}"
        document: object = {
            "text": f"{message.title}: {message.body} {message.url}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": message.url}
                    ],
                },
            ],
        }
    elif webhook_format is WebhookFormat.TEAMS:
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": message.title,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                },
                {"type": "TextBlock", "text": message.body, "wrap": True},
            ],
            "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": message.url}],
        }
        document = {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
    else:
        document = {
            "type": f"notification.{message.template}",
            "timestamp": message.created_at.isoformat(),
            "data": {
                "notification_id": message.notification_id,
                "template": message.template,
                "title": message.title,
                "body": message.body,
                "url": message.url,
            },
        }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(secrets: tuple[str, ...], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    signatures = " ".join(signature(secret, message_id, timestamp, body) for secret in secrets if secret)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def judged(status: int) -> AttemptResult:
    """An endpoint's HTTP answer: 2xx delivered; 408, 425, 429 and 5xx worth another try; any other
    answer (the endpoint refuses or is gone) not."""
    if 200 <= status < 300:
        return AttemptResult.ok(str(status))
    if status in (408, 425, 429) or status >= 500:
        return AttemptResult.failed(FailureReason.WEBHOOK_UNAVAILABLE, retryable=True, detail=str(status))
    return AttemptResult.failed(FailureReason.WEBHOOK_REJECTED, detail=str(status))


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"  # one trial call may go; its outcome closes or opens the circuit again


@dataclass(frozen=True, slots=True)
class Circuit:
    """One endpoint's breaker: opens after ``threshold`` failures in a row, stays open for ``cooldown``,
    then lets one call through."""

    threshold: int
    cooldown: timedelta
    failures: int = 0
    opened_at: datetime | None = None
    trial_running: bool = False

    def state(self, now: datetime) -> CircuitState:
        if self.opened_at is None:
            return CircuitState.CLOSED
        if now - self.opened_at < self.cooldown:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def admits(self, now: datetime) -> tuple[bool, Circuit]:
        """Whether a call may go now (and the circuit after letting it)."""
        state = self.state(now)
        if state is CircuitState.CLOSED:
            return True, self
        if state is CircuitState.HALF_OPEN and not self.trial_running:
            return True, replace(self, trial_running=True)
        return False, self

    def reopens_at(self) -> datetime | None:
        return None if self.opened_at is None else self.opened_at + self.cooldown

    def after(self, succeeded: bool, now: datetime) -> Circuit:
        if succeeded:
            return replace(self, failures=0, opened_at=None, trial_running=False)
        failures = self.failures + 1
        if self.opened_at is not None or failures >= self.threshold:
            return replace(self, failures=failures, opened_at=now, trial_running=False)
        return replace(self, failures=failures)
