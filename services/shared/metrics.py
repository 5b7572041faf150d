"""Metrics shared by every service, and the metrics port (``/metrics``, ``/livez``, ``/readyz``:
``services.shared.probes``).

Labels never carry employee ids or names: only service, topic, method, outcome and reason codes.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from services.shared.probes import serve_probes

GRPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code.",
    ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
)
GRPC_STARTED = Counter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
)
GRPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time to handle an RPC on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_MESSAGES = Counter(
    "mentoring_consumer_messages_total",
    "Records consumed, by outcome: applied, duplicate (skipped by the inbox), dlq, retried.",
    ["service", "topic", "outcome"],
)
CONSUMER_EVENTS_BY_TYPE = Counter(
    "mentoring_consumer_events_total",
    "Records consumed by CloudEvents type and outcome.",
    ["service", "topic", "ce_type", "outcome"],
)
CONSUMER_LAG = Gauge(
    "mentoring_consumer_lag",
    "The consumer's own view, per partition: records behind the high-water mark after its last processed "
    "batch. It freezes while the consumer is stuck and goes with its process: alerts use "
    "mentoring_consumer_group_lag, read from the broker by the lag exporter.",
    ["service", "topic", "partition"],
)
EVENT_PROCESSING_SECONDS = Histogram(
    "mentoring_event_processing_seconds",
    "Time from receipt to commit of one consumed record.",
    ["service", "topic"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
DLQ_MESSAGES = Counter(
    "mentoring_dlq_messages_total",
    "Records sent to a dead-letter topic, by reason code.",
    ["service", "topic", "reason"],
)
OUTBOX_BACKLOG = Gauge("mentoring_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_PUBLISHED = Counter("mentoring_outbox_published_total", "Outbox rows published.", ["service", "topic"])
MESSAGING_ROWS_PRUNED = Counter(
    "mentoring_messaging_rows_pruned_total",
    "Published outbox rows and inbox ids deleted once past their retention (table: outbox or inbox).",
    ["service", "table"],
)

ERASURE_CHECKPOINTS = Counter(
    "mentoring_erasure_checkpoints_total",
    "SQLite write-ahead log checkpoints (TRUNCATE) after erasures, by outcome: done (the log is empty), "
    "busy (a reader or writer kept frames in it: retried).",
    ["service", "outcome"],
)
JOB_RUNS = Counter(
    "mentoring_job_runs_total",
    "Runs of a background job (task: expiry sweep, gauges, e-mail worker...), by outcome: ok or failed.",
    # Not `job`: that is Prometheus's own target label, which this one would replace (honor_labels).
    ["service", "task", "outcome"],
)


# Outcomes of a consumed record and the dead-letter reasons the shared pipeline itself gives (handlers add
# invalid_argument:<field> and failed_precondition:<rule>, which appear when they first happen).
CONSUMER_OUTCOMES = ("applied", "duplicate", "ignored", "dlq", "retried")
PIPELINE_DLQ_REASONS = (
    "malformed",
    "unknown_type",
    "wrong_topic",
    "too_large",
    "retries_exhausted",
    "handler_error",
)


def initialise_consumer_counters(service: str, topic: str) -> None:
    """Every known outcome and reason of ``topic`` at 0 from the start: a series that appears only with
    its first increment is invisible to ``increase()``, so the first dead letter would alert no one."""
    for outcome in CONSUMER_OUTCOMES:
        CONSUMER_MESSAGES.labels(service, topic, outcome)
    for reason in PIPELINE_DLQ_REASONS:
        DLQ_MESSAGES.labels(service, topic, reason)


def _always() -> bool:
    return True


def start_metrics_server(
    host: str,
    port: int,
    registry: CollectorRegistry = REGISTRY,
    *,
    live: Callable[[], bool] = _always,
    ready: Callable[[], bool] = _always,
) -> int:
    """Serve ``/metrics``, ``/livez`` (``live()``) and ``/readyz`` (``ready()``) on a background thread,
    404 on any other path; returns the bound port (``port=0`` picks a free one)."""
    server = serve_probes(host, port, registry, live, ready)
    return int(server.server_port)
