"""A service as a real child process on free ports, its own data directory and a test namespace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from tests.support.identity import authenticated
from tests.support.kafka import REPO_ROOT
from tests.support.keycloak import issuer


class ServiceProcess:
    def __init__(
        self,
        service: str,
        data_dir: Path,
        namespace: str,
        bootstrap: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.service = service
        self.data_dir = data_dir
        self.log_path = data_dir / f"{service}.log"
        prefix = f"MENTORING_{service.upper()}_"
        self.env = {
            **os.environ,
            "MENTORING_DATA_DIR": str(data_dir),
            "MENTORING_TOPIC_NAMESPACE": namespace,
            "MENTORING_KAFKA_BOOTSTRAP": bootstrap,
            "MENTORING_AUTH_ISSUER": issuer(),
            f"{prefix}GRPC_PORT": "0",
            f"{prefix}METRICS_PORT": "0",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.grpc_port = 0
        self.metrics_port = 0

    @property
    def ready_file(self) -> Path:
        return self.data_dir / f"{self.service}.ready.json"

    def start(self, timeout: float = 90.0) -> ServiceProcess:
        self.ready_file.unlink(missing_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service}"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited with {self.process.returncode}: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.service} not ready in {timeout} s: {self.log_tail()}")
            time.sleep(0.1)
        ports = json.loads(self.ready_file.read_text())
        self.grpc_port, self.metrics_port = ports["grpc_port"], ports["metrics_port"]
        self.wait_serving(deadline - time.monotonic())
        return self

    def wait_serving(self, timeout: float) -> None:
        with grpc.insecure_channel(self.grpc_target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.service} never reported SERVING")
                time.sleep(0.1)

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def channel(self, token: Callable[[], str] | None = None) -> grpc.Channel:
        """A channel to the service; with ``token``, every call carries it (tests/support/identity.py)."""
        channel = grpc.insecure_channel(self.grpc_target)
        return channel if token is None else authenticated(channel, token)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: the graceful path. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def metric_samples(metrics_port: int, name: str, **labels: str) -> list[float]:
    """The values of the samples of ``name`` whose labels include ``labels``, scraped from /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items())
    ]


def metric_value(metrics_port: int, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, scraped from /metrics."""
    return sum(metric_samples(metrics_port, name, **labels))
