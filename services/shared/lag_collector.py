"""Consumer lag as the broker sees it: each consumer group's committed offsets against the log end.

The consumers' own lag gauge lives in their process: it vanishes when the process dies, freezes when it
is stuck, and does not exist after a restart until the first batch. This collector runs as its own
process (``python -m services.platform_cli lag-exporter``) and asks the broker, through the admin API,
every ``interval_seconds``:

- ``mentoring_consumer_group_lag{group,topic,service}``: records between the group's committed offset
  and the log end offset, summed over the topic's partitions (a partition the group never committed
  counts from the log start: the consumers reset to the earliest record);
- ``mentoring_consumer_group_committed_offset{group,topic,service}``: the committed offsets, summed
  (it stops moving when the group consumes nothing);
- ``mentoring_consumer_group_members{group,service}``: members of the group (0: no consumer);
- ``mentoring_lag_collector_success``: 1 when the last round read everything from the broker, 0 when
  it failed; the lag series are then dropped rather than left at stale values.

The groups are the ones the services join (one per service, and one per bulk-consumed topic), taken
from the topic registry, so a group that never started is reported too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.shared.logging import get_logger
from services.shared.topics import HRIS_WORKER_EVENTS, TOPICS

log = get_logger(__name__)

# Topics a service reads in whole fetches (runtime.consume(..., bulk=True)), in a group of their own.
BULK_CONSUMED = frozenset({("enrollment", HRIS_WORKER_EVENTS)})


class LagExporterSettings(BaseSettings):
    """``MENTORING_LAG_EXPORTER_*``, plus the shared broker address and topic namespace."""

    model_config = SettingsConfigDict(env_prefix="MENTORING_LAG_EXPORTER_", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", validation_alias="MENTORING_KAFKA_BOOTSTRAP")
    topic_namespace: str = Field(default="", validation_alias="MENTORING_TOPIC_NAMESPACE")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9105
    log_level: str = Field(default="INFO", validation_alias="MENTORING_LOG_LEVEL")
    log_json: bool = Field(default=True, validation_alias="MENTORING_LOG_JSON")
    # Where to write the bound port once listening (for tests that pick a free one with port 0).
    ready_file: Path | None = None
    interval_seconds: float = Field(default=10.0, gt=0)
    # One round (all groups) may take this long before it counts as failed.
    timeout_seconds: float = Field(default=10.0, gt=0)


@dataclass(frozen=True, slots=True)
class Watch:
    """One consumer group reading one topic (physical names, namespace included)."""

    service: str
    group: str
    topic: str


def consumer_group(namespace: str, service: str, topic: str) -> str:
    """The group a service joins to read ``topic``: the Faust app's, or a bulk consumer's own."""
    if (service, topic) in BULK_CONSUMED:
        return f"{namespace}{service}.{topic}"
    return namespace + service


def watches(namespace: str = "") -> list[Watch]:
    """Every (group, topic) the registry says is consumed."""
    return [
        Watch(service, consumer_group(namespace, service, topic.name), namespace + topic.name)
        for topic in TOPICS.values()
        for service in topic.consumers
    ]


@dataclass(slots=True)
class Snapshot:
    """What one round read; the collector exports the last one."""

    success: bool = False
    lag: dict[Watch, int] = field(default_factory=dict)
    committed: dict[Watch, int] = field(default_factory=dict)
    members: dict[tuple[str, str], int] = field(default_factory=dict)
    last_success: float = 0.0
    duration_seconds: float = 0.0


def group_lag(
    partitions: Iterable[TopicPartition],
    committed: dict[TopicPartition, int],
    beginning: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
) -> tuple[int, int]:
    """(lag, sum of committed offsets) over ``partitions``. A partition without a committed offset
    (-1 or missing) is read from its first record, so all of it is behind; an offset below the log
    start (records deleted by retention) counts from the log start."""
    lag = 0
    offsets = 0
    for tp in partitions:
        start = beginning.get(tp, 0)
        position = max(committed.get(tp, -1), start)
        lag += max(end.get(tp, 0) - position, 0)
        offsets += max(committed.get(tp, -1), 0)
    return lag, offsets


class LagCollector(Collector):
    """Reads the broker in rounds; a prometheus_client collector exporting the last round."""

    def __init__(self, bootstrap: str, watched: list[Watch], timeout_seconds: float = 10.0) -> None:
        self._bootstrap = bootstrap
        self._watched = watched
        self._timeout = timeout_seconds
        self.snapshot = Snapshot()
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        self._offsets = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await self._admin.start()
        await self._offsets.start()

    async def stop(self) -> None:
        if self._offsets is not None:
            await self._offsets.stop()
        if self._admin is not None:
            await self._admin.close()

    async def collect_once(self) -> Snapshot:
        """One round; on any broker error the snapshot says so and carries no lag."""
        started = time.monotonic()
        previous = self.snapshot
        try:
            snapshot = await asyncio.wait_for(self._read(), self._timeout)
        except (KafkaError, TimeoutError, OSError) as error:
            log.warning("lag_collection_failed", error=type(error).__name__)
            snapshot = Snapshot(success=False, last_success=previous.last_success)
        snapshot.duration_seconds = time.monotonic() - started
        self.snapshot = snapshot
        return snapshot

    async def run(self, interval_seconds: float) -> None:
        while True:
            await self.collect_once()
            await asyncio.sleep(interval_seconds)

    async def _read(self) -> Snapshot:
        assert self._admin is not None and self._offsets is not None
        topics = sorted({watch.topic for watch in self._watched})
        partitions: dict[str, list[TopicPartition]] = {}
        for described in await self._admin.describe_topics(topics):
            # A topic not created yet has no partitions: nothing is behind on it.
            partitions[described["topic"]] = sorted(
                TopicPartition(described["topic"], p["partition"]) for p in described["partitions"]
            )
        every_partition = [tp for tps in partitions.values() for tp in tps]
        beginning = await self._offsets.beginning_offsets(every_partition) if every_partition else {}
        end = await self._offsets.end_offsets(every_partition) if every_partition else {}
        snapshot = Snapshot(success=True, last_success=time.time())
        by_group: dict[tuple[str, str], list[Watch]] = defaultdict(list)
        for watch in self._watched:
            by_group[(watch.service, watch.group)].append(watch)
        for (service, group), group_watches in by_group.items():
            snapshot.members[(service, group)] = await self._members(group)
            group_partitions = [tp for watch in group_watches for tp in partitions.get(watch.topic, [])]
            committed = (
                await self._admin.list_consumer_group_offsets(group, partitions=group_partitions)
                if group_partitions
                else {}
            )
            offsets = {tp: meta.offset for tp, meta in committed.items()}
            for watch in group_watches:
                lag, committed_sum = group_lag(partitions.get(watch.topic, []), offsets, beginning, end)
                snapshot.lag[watch] = lag
                snapshot.committed[watch] = committed_sum
        return snapshot

    async def _members(self, group: str) -> int:
        assert self._admin is not None
        members = 0
        for response in await self._admin.describe_consumer_groups([group]):
            for described in response.groups:
                error_code, _group, state, _protocol_type, _protocol, group_members = described[:6]
                if error_code == 0 and state != "Dead":
                    members += len(group_members)
        return members

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.snapshot
        lag = GaugeMetricFamily(
            "mentoring_consumer_group_lag",
            "Records between the group's committed offsets and the log end offsets, summed over the "
            "topic's partitions, read from the broker.",
            labels=["service", "group", "topic"],
        )
        committed = GaugeMetricFamily(
            "mentoring_consumer_group_committed_offset",
            "The group's committed offsets on the topic, summed over partitions (moves while it consumes).",
            labels=["service", "group", "topic"],
        )
        members = GaugeMetricFamily(
            "mentoring_consumer_group_members",
            "Members of the consumer group (0: nothing consumes).",
            labels=["service", "group"],
        )
        if snapshot.success:
            for watch, value in snapshot.lag.items():
                lag.add_metric([watch.service, watch.group, watch.topic], value)
                committed.add_metric([watch.service, watch.group, watch.topic], snapshot.committed[watch])
            for (service, group), count in snapshot.members.items():
                members.add_metric([service, group], count)
        yield lag
        yield committed
        yield members
        yield GaugeMetricFamily(
            "mentoring_lag_collector_success",
            "1 if the last round read every group's offsets from the broker, 0 if it failed.",
            value=1 if snapshot.success else 0,
        )
        yield GaugeMetricFamily(
            "mentoring_lag_collector_last_success_timestamp_seconds",
            "When the last successful round finished (Unix time; 0 before the first).",
            value=snapshot.last_success,
        )
        yield GaugeMetricFamily(
            "mentoring_lag_collector_duration_seconds",
            "How long the last round took.",
            value=snapshot.duration_seconds,
        )


def exporter_registry(collector: LagCollector) -> CollectorRegistry:
    """The exporter's own registry: the lag figures and the process's own, none of a service's."""
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    return registry


async def serve(settings: LagExporterSettings) -> None:
    """Run the collector and its metrics endpoint until cancelled."""
    from services.shared.metrics import start_metrics_server
    from services.shared.probes import LoopHeartbeat

    collector = LagCollector(
        settings.kafka_bootstrap, watches(settings.topic_namespace), settings.timeout_seconds
    )
    heartbeat = LoopHeartbeat().start()
    port = start_metrics_server(
        settings.metrics_host,
        settings.metrics_port,
        registry=exporter_registry(collector),
        live=heartbeat.fresh,
        # Ready once a round has read the broker, and while rounds succeed.
        ready=lambda: collector.snapshot.success,
    )
    log.info("lag_exporter_ready", metrics=f"{settings.metrics_host}:{port}")
    if settings.ready_file is not None:
        settings.ready_file.write_text(str(port))
    while True:
        try:
            await collector.start()
            break
        except KafkaError as error:  # the broker is not up yet: the endpoint says so meanwhile
            log.warning("lag_exporter_broker_unreachable", error=type(error).__name__)
            with contextlib.suppress(KafkaError):
                await collector.stop()
            await asyncio.sleep(settings.interval_seconds)
    try:
        await collector.run(settings.interval_seconds)
    finally:
        await collector.stop()
