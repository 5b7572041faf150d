"""What each real process serves on /metrics passes `promtool check metrics` (base units, suffixes), and
every domain metric of a service carries that service's one prefix (mentoring_<service>_)."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

SERVICES = ("enrollment", "matching", "session", "notification")
# Families the shared runtime (services/shared/metrics.py) and the client library give every service.
SHARED_PREFIXES = (
    "grpc_server_",
    "process_",
    "python_",
    "mentoring_consumer_",
    "mentoring_event_processing_",
    "mentoring_dlq_",
    "mentoring_outbox_",
    "mentoring_messaging_",
    "mentoring_erasure_",
    "mentoring_job_",
    "mentoring_admission_",
    "mentoring_audit_",
)


@pytest.fixture(scope="module")
def scraped(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Each service's /metrics text, all four started side by side."""
    namespace = f"t{uuid.uuid4().hex[:10]}."
    processes = [
        ServiceProcess(service, Path(tmp_path_factory.mktemp(service)), namespace, kafka_bootstrap)
        for service in SERVICES
    ]
    try:
        texts = {}
        for process in processes:
            process.start()
            url = f"http://127.0.0.1:{process.metrics_port}/metrics"
            with urllib.request.urlopen(url, timeout=10) as response:
                texts[process.service] = response.read().decode()
        yield texts
    finally:
        for process in processes:
            if process.process is not None and process.process.poll() is None:
                process.stop()


@pytest.mark.parametrize("service", SERVICES)
def test_promtool_check_metrics_passes(scraped: dict[str, str], service: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    done = subprocess.run(
        [promtool, "check", "metrics"], input=scraped[service], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_domain_metrics_carry_the_service_prefix(scraped: dict[str, str], service: str) -> None:
    names = {family.name for family in text_string_to_metric_families(scraped[service])}
    domain = {name for name in names if not name.startswith(SHARED_PREFIXES)}
    assert domain, "the service's own metrics are exported"
    assert {name for name in domain if not name.startswith(f"mentoring_{service}_")} == set()
