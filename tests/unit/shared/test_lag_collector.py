"""The lag collector: its arithmetic, the groups it watches against the ones the services join, and
what it exports when the broker cannot be read."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError
from prometheus_client import generate_latest

from services.shared.lag_collector import (
    LagCollector,
    Snapshot,
    Watch,
    exporter_registry,
    group_lag,
    watches,
)

SERVICES = ("enrollment", "matching", "session", "notification")
TP0 = TopicPartition("t", 0)
TP1 = TopicPartition("t", 1)
TP2 = TopicPartition("t", 2)


def test_lag_counts_uncommitted_partitions_from_the_log_start_and_deleted_records_not_at_all() -> None:
    committed = {TP0: 40, TP1: -1}  # TP1 explicitly unknown, TP2 absent from the answer
    beginning = {TP0: 50, TP1: 10, TP2: 0}  # TP0's committed offset was deleted by retention
    end = {TP0: 70, TP1: 30, TP2: 5}
    lag, committed_sum = group_lag([TP0, TP1, TP2], committed, beginning, end)
    assert lag == (70 - 50) + (30 - 10) + 5
    assert committed_sum == 40


def test_a_group_at_the_end_has_no_lag() -> None:
    assert group_lag([TP0], {TP0: 9}, {TP0: 0}, {TP0: 9}) == (0, 9)


def test_the_watched_groups_are_the_ones_the_services_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector names the groups from the registry; each service's runtime names them itself (the
    Faust app's id, a bulk consumer's own group): they must agree, or a group would go unwatched."""
    monkeypatch.setenv("MENTORING_TOPIC_NAMESPACE", "ns.")
    monkeypatch.setenv("MENTORING_DATA_DIR", str(tmp_path))
    joined: set[tuple[str, str, str]] = set()
    for service in SERVICES:
        config = importlib.import_module(f"services.{service}.config")
        bootstrap = importlib.import_module(f"services.{service}.bootstrap")
        settings_class = next(
            value
            for name, value in vars(config).items()
            if name.endswith("Settings") and name != "ServiceSettings"
        )
        runtime = bootstrap.build(settings_class())
        bulk = {consumer._topic: consumer._config["group_id"] for consumer in runtime._bulk_consumers}
        for topic in runtime.consumed_topics:
            physical = "ns." + topic
            joined.add((service, bulk.get(physical, runtime.faust_app.conf.id), physical))
    assert {(w.service, w.group, w.topic) for w in watches("ns.")} == joined


class _Unreachable:
    async def describe_topics(self, topics: list[str]) -> list[dict[str, object]]:
        raise KafkaConnectionError("broker away")


async def test_a_failed_round_exports_no_stale_lag_and_says_it_failed() -> None:
    watch = Watch("session", "session", "matching.events.v1")
    collector = LagCollector("127.0.0.1:1", [watch])
    collector.snapshot = Snapshot(
        success=True, lag={watch: 5000}, committed={watch: 10}, members={("session", "session"): 1}
    )
    collector._admin = _Unreachable()  # type: ignore[assignment]
    collector._offsets = object()  # type: ignore[assignment]
    snapshot = await collector.collect_once()
    assert not snapshot.success
    text = generate_latest(exporter_registry(collector)).decode()
    assert "mentoring_lag_collector_success 0.0" in text
    assert "mentoring_consumer_group_lag{" not in text
    assert "mentoring_consumer_group_members{" not in text


def test_a_successful_round_exports_lag_members_and_offsets() -> None:
    watch = Watch("session", "ns.session", "ns.matching.events.v1")
    collector = LagCollector("127.0.0.1:1", [watch])
    collector.snapshot = Snapshot(
        success=True, lag={watch: 7}, committed={watch: 3}, members={("session", "ns.session"): 0}
    )
    text = generate_latest(exporter_registry(collector)).decode()
    labels = 'group="ns.session",service="session",topic="ns.matching.events.v1"'
    assert f"mentoring_consumer_group_lag{{{labels}}} 7.0" in text
    assert f"mentoring_consumer_group_committed_offset{{{labels}}} 3.0" in text
    assert 'mentoring_consumer_group_members{group="ns.session",service="session"} 0.0' in text
    assert "mentoring_lag_collector_success 1.0" in text


@pytest.mark.parametrize("namespace", ["", "ns."])
def test_every_registry_consumer_is_watched_once(namespace: str) -> None:
    found = watches(namespace)
    assert len(found) == len(set(found))
    assert (
        Watch(
            "enrollment", f"{namespace}enrollment.hris.worker.events.v1", f"{namespace}hris.worker.events.v1"
        )
        in found
    )
    assert Watch("notification", f"{namespace}notification", f"{namespace}session.events.v1") in found
