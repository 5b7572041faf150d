"""Domain counters of the notification service.

Labels are bounded codes: never recipient or notification ids. Every name starts
``mentoring_notification_``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from services.notification.domain.model import Channel

NOTIFICATIONS = Counter(
    "mentoring_notification_created_total",
    "Notifications created, by template and channel.",
    ["template", "channel"],
)
SUPPRESSED = Counter(
    "mentoring_notification_suppressed_total",
    "Recipients not notified because they muted the template or turned every channel off.",
    ["template"],
)
DELIVERIES = Counter(
    "mentoring_notification_deliveries_total",
    "Delivery attempts by channel and outcome: delivered, failed (for good), retry.",
    ["channel", "outcome"],
)
# Every channel and outcome at 0 from the start, so increase() sees the first failed delivery.
for _channel in Channel:
    for _outcome in ("delivered", "failed", "retry"):
        DELIVERIES.labels(str(_channel), _outcome)
FAILURES = Counter(
    "mentoring_notification_failures_total",
    "Deliveries failed for good, by reason code.",
    ["channel", "reason"],
)
INBOX_READS = Counter("mentoring_notification_inbox_reads_total", "Inbox items marked read.")
ERASURES = Counter("mentoring_notification_erasures_total", "Recipients erased on request.")
CIRCUITS_OPENED = Counter(
    "mentoring_notification_webhook_circuits_opened_total",
    "Times a webhook endpoint's circuit opened after failures in a row.",
)
OPEN_CIRCUITS = Gauge(
    "mentoring_notification_webhook_open_circuits", "Webhook endpoints whose circuit is open now."
)
