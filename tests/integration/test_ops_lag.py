"""The lag exporter as its own process on the real broker: lag stays visible while nothing consumes,
and a group without members says so."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client.parser import text_string_to_metric_families

from services.shared.kafka_admin import ensure_topics
from services.shared.topics import MATCHING_EVENTS, SESSION_EVENTS
from tests.support.kafka import REPO_ROOT, produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

RECORDS = 30
CONSUMED = 10


@contextlib.contextmanager
def lag_exporter(bootstrap: str, namespace: str, data_dir: Path, interval: float = 0.5) -> Iterator[int]:
    """`platform_cli lag-exporter` as its own process on a free port; yields the port."""
    ready = data_dir / "lag-exporter.port"
    log = data_dir / "lag-exporter.log"
    env = {
        **os.environ,
        "MENTORING_KAFKA_BOOTSTRAP": bootstrap,
        "MENTORING_TOPIC_NAMESPACE": namespace,
        "MENTORING_LAG_EXPORTER_METRICS_PORT": "0",
        "MENTORING_LAG_EXPORTER_READY_FILE": str(ready),
        "MENTORING_LAG_EXPORTER_INTERVAL_SECONDS": str(interval),
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.platform_cli", "lag-exporter"],
            cwd=REPO_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield int(ready.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def exporter(kafka_bootstrap: str, namespace: str, data_dir: Path) -> Iterator[int]:
    with lag_exporter(kafka_bootstrap, namespace, data_dir) as port:
        yield port


def _samples(port: int, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def _value(port: int, name: str, **labels: str) -> float | None:
    for key, value in _samples(port, name).items():
        if dict(key) == {**dict(key), **labels}:
            return value
    return None


async def test_lag_is_read_from_the_broker_whether_or_not_the_consumer_lives(
    kafka_bootstrap: str, namespace: str, exporter: int
) -> None:
    port = exporter
    await ensure_topics(kafka_bootstrap, 1, namespace)
    topic = namespace + MATCHING_EVENTS
    group = namespace + "session"  # the session service's group, as the registry names it
    await produce_raw(kafka_bootstrap, topic, [(b"k%d" % i, b"v", []) for i in range(RECORDS)])

    def lag() -> float | None:
        return _value(port, "mentoring_consumer_group_lag", group=group, topic=topic)

    def members() -> float | None:
        return _value(port, "mentoring_consumer_group_members", group=group)

    # Nothing ever consumed: everything is behind, and no one is in the group.
    await wait_for(lambda: lag() == RECORDS, timeout=30, what=f"lag {RECORDS} before any consumer")
    assert members() == 0

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        taken: dict[TopicPartition, int] = {}
        count = 0
        while count < CONSUMED:
            for tp, records in (await consumer.getmany(timeout_ms=500, max_records=CONSUMED)).items():
                for record in records[: CONSUMED - count]:
                    taken[tp] = record.offset + 1
                    count += 1
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in taken.items()})
        await wait_for(lambda: members() == 1, timeout=30, what="one member while it consumes")
        await wait_for(lambda: lag() == RECORDS - CONSUMED, timeout=30, what="lag after the commit")
    finally:
        await consumer.stop()

    # The consumer is gone: its lag does not vanish with it, and the group has no members.
    await wait_for(lambda: members() == 0, timeout=30, what="no member once it left")
    assert lag() == RECORDS - CONSUMED
    committed = _value(port, "mentoring_consumer_group_committed_offset", group=group, topic=topic)
    assert committed == CONSUMED
    # Another watched group, on a topic nobody wrote to: reported, at 0, without members.
    other = namespace + SESSION_EVENTS
    assert _value(port, "mentoring_consumer_group_lag", group=namespace + "notification", topic=other) == 0
    assert _value(port, "mentoring_lag_collector_success") == 1
    promtool = shutil.which("promtool")
    if promtool is not None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # Its probes: ready while rounds read the broker.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
        assert response.status == 200


async def test_a_service_that_consumed_everything_has_no_lag(
    kafka_bootstrap: str, namespace: str, data_dir: Path, exporter: int
) -> None:
    """The offsets a real service commits (Faust's agents) are the next record to read: a caught-up
    group reads 0 behind, not one per partition, so an idle platform raises no stalled-lag alert."""
    topic = namespace + MATCHING_EVENTS
    group = namespace + "session"
    with ServiceProcess("session", data_dir, namespace, kafka_bootstrap):
        await produce_raw(kafka_bootstrap, topic, [(b"k%d" % i, b"not an event", []) for i in range(RECORDS)])
        await wait_for(
            lambda: (
                _value(exporter, "mentoring_consumer_group_committed_offset", group=group, topic=topic)
                == RECORDS
            ),
            timeout=60,
            what="the session service committed every record",
        )
        assert _value(exporter, "mentoring_consumer_group_lag", group=group, topic=topic) == 0
        assert _value(exporter, "mentoring_consumer_group_members", group=group) == 1


async def test_without_a_broker_the_exporter_serves_but_is_not_ready(namespace: str, data_dir: Path) -> None:
    """No stale or invented lag: success 0, no lag series, /readyz 503 (MentoringLagCollectorFailing
    and MentoringConsumerLagUnknown can then fire)."""
    with lag_exporter("127.0.0.1:1", namespace, data_dir) as port:
        await wait_for(
            lambda: _value(port, "mentoring_lag_collector_success") == 0, timeout=30, what="scraped"
        )
        assert _samples(port, "mentoring_consumer_group_lag") == {}
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).close()
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 503
