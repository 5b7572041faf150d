"""A real Prometheus (Debian's `prometheus` binary) scraping a real service and the lag exporter, with the
shipped alerts.yml on a compressed clock: kill the consumer, produce records, and the lag alerts go
pending, which the consumer's own lag gauge (gone with its process) could never do."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.shared.topics import MATCHING_EVENTS
from tests.integration.test_ops_lag import lag_exporter
from tests.support.kafka import REPO_ROOT, produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

ALERTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
RECORDS = 200
# Minutes become seconds: [5m] -> [5s] would hold too few 1 s scrapes, so ranges become 4 x their minutes
# in seconds, and every `for:` 30 s, long enough to see the alerts pending.
RANGE = re.compile(r"\[(\d+)m\]")
FOR = re.compile(r"for: \d+m")


def compressed_rules(text: str) -> str:
    return FOR.sub("for: 30s", RANGE.sub(lambda m: f"[{int(m.group(1)) * 4}s]", text))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (Debian: apt-get install prometheus)")
    return binary


def _prometheus(binary: str, directory: Path, service_port: int, exporter_port: int) -> Iterator[str]:
    (directory / "alerts.yml").write_text(compressed_rules(ALERTS.read_text()))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {
                "job_name": "mentoring",
                "honor_labels": True,
                "static_configs": [
                    {"targets": [f"127.0.0.1:{service_port}"], "labels": {"service": "session"}}
                ],
            },
            {
                "job_name": "mentoring-lag",
                "honor_labels": True,
                "static_configs": [
                    {"targets": [f"127.0.0.1:{exporter_port}"], "labels": {"service": "lag-exporter"}}
                ],
            },
        ],
    }
    (directory / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _api(base: str, path: str) -> object:
    try:
        with urllib.request.urlopen(base + path, timeout=5) as response:
            return json.loads(response.read())["data"]
    except OSError:
        return None


def _alerts(base: str) -> dict[tuple[str, str], str]:
    """(alertname, group or service) -> state, for every pending or firing alert."""
    data = _api(base, "/api/v1/alerts")
    if not isinstance(data, dict):
        return {}
    return {
        (
            alert["labels"]["alertname"],
            alert["labels"].get("group", alert["labels"].get("service", "")),
        ): alert["state"]
        for alert in data["alerts"]
    }


async def test_a_killed_consumer_with_records_waiting_sets_the_lag_alerts_pending(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tmp_path: Path, prometheus_binary: str
) -> None:
    group = namespace + "session"
    service = ServiceProcess(
        "session",
        data_dir,
        namespace,
        kafka_bootstrap,
        {"MENTORING_SESSION_CONSUMER_SESSION_TIMEOUT_SECONDS": "6"},
    ).start()
    try:
        with lag_exporter(kafka_bootstrap, namespace, data_dir, interval=1.0) as exporter_port:
            prometheus = _prometheus(prometheus_binary, tmp_path, service.metrics_port, exporter_port)
            base = next(prometheus)
            try:
                members = f"/api/v1/query?query=mentoring_consumer_group_members%7Bgroup%3D%22{group}%22%7D"

                def member_count() -> float | None:
                    data = _api(base, members)
                    if not isinstance(data, dict) or not data["result"]:
                        return None
                    return float(data["result"][0]["value"][1])

                await wait_for(lambda: member_count() == 1, timeout=60, what="Prometheus sees the consumer")
                # Healthy: no alert about session or its group once both scrapes have a sample (only
                # session is scraped here, so the other three targets are rightly missing).
                await wait_for(
                    lambda: not {key for key in _alerts(base) if key[1] in (group, "session")},
                    timeout=30,
                    what=f"no alert about session while it runs; saw {_alerts(base)}",
                )

                service.kill()  # the consumer dies; its own metrics go with it
                await produce_raw(
                    kafka_bootstrap,
                    namespace + MATCHING_EVENTS,
                    [(b"k%d" % i, b"not an event", []) for i in range(RECORDS)],
                )

                def pending() -> bool:
                    alerts = _alerts(base)
                    return all(
                        alerts.get(key) in ("pending", "firing")
                        for key in (
                            ("MentoringConsumerStalled", group),
                            ("MentoringConsumerGroupNoMembers", group),
                            ("MentoringServiceDown", "session"),
                        )
                    )

                await wait_for(pending, timeout=90, what=f"the lag alerts pending; saw {_alerts(base)}")
                lag = _api(
                    base, f"/api/v1/query?query=mentoring_consumer_group_lag%7Bgroup%3D%22{group}%22%7D"
                )
                assert isinstance(lag, dict)
                behind = {row["metric"]["topic"]: float(row["value"][1]) for row in lag["result"]}
                assert behind[namespace + MATCHING_EVENTS] == RECORDS
            finally:
                prometheus.close()
    finally:
        service.kill()


async def test_one_malformed_record_fires_the_dlq_alert(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tmp_path: Path, prometheus_binary: str
) -> None:
    """The counter exists at 0 before the first dead letter, so increase() sees the very first one."""
    service = ServiceProcess("session", data_dir, namespace, kafka_bootstrap).start()
    try:
        with lag_exporter(kafka_bootstrap, namespace, data_dir, interval=1.0) as exporter_port:
            prometheus = _prometheus(prometheus_binary, tmp_path, service.metrics_port, exporter_port)
            base = next(prometheus)
            try:
                zero = "/api/v1/query?query=mentoring_dlq_messages_total%7Breason%3D%22malformed%22%7D"

                def scraped_at_zero() -> bool:
                    data = _api(base, zero)
                    return isinstance(data, dict) and any(
                        float(row["value"][1]) == 0 for row in data["result"]
                    )

                await wait_for(scraped_at_zero, timeout=60, what="the DLQ counter scraped at 0")
                await asyncio.sleep(2)  # a few samples at 0 before the dead letter
                await produce_raw(kafka_bootstrap, namespace + MATCHING_EVENTS, [(b"k", b"not an event", [])])

                def firing() -> bool:
                    data = _api(base, "/api/v1/alerts")
                    return isinstance(data, dict) and any(
                        alert["labels"]["alertname"] == "MentoringDlqGrowing"
                        and alert["labels"]["service"] == "session"
                        and alert["state"] == "firing"
                        for alert in data["alerts"]
                    )

                await wait_for(firing, timeout=60, what=f"the DLQ alert firing; saw {_alerts(base)}")
            finally:
                prometheus.close()
    finally:
        service.stop()
