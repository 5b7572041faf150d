"""`platform_cli run` keeps the platform up: a service killed with SIGKILL is reported and started
again while the other three keep running; SIGINT (Ctrl-C) then stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.kafka import REPO_ROOT

pytestmark = pytest.mark.integration

SERVICES = ("enrollment", "matching", "session", "notification")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(parent: int) -> dict[str, int]:
    """The service processes ``parent`` started, by service name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) != parent:
            continue
        for service in SERVICES:
            if f"services.{service}".encode() in cmdline:
                found[service] = int(entry.name)
    return found


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            status = (
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2).status
            )
        except grpc.RpcError:
            return False
    return bool(status == health_pb2.HealthCheckResponse.SERVING)


def _until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.3)
    raise AssertionError(f"not reached within {timeout} s: {what}")


def test_a_killed_service_is_started_again_and_the_others_keep_running(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> None:
    ports = {service: (_free_port(), _free_port()) for service in SERVICES}
    env = {
        **os.environ,
        "MENTORING_DATA_DIR": str(data_dir),
        "MENTORING_TOPIC_NAMESPACE": namespace,
        "MENTORING_KAFKA_BOOTSTRAP": kafka_bootstrap,
    }
    for service, (grpc_port, metrics_port) in ports.items():
        env[f"MENTORING_{service.upper()}_GRPC_PORT"] = str(grpc_port)
        env[f"MENTORING_{service.upper()}_METRICS_PORT"] = str(metrics_port)
    output = data_dir / "platform.out"
    with output.open("wb") as sink:
        cli = subprocess.Popen(
            [sys.executable, "-m", "services.platform_cli", "run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _until(lambda: b"All four services are SERVING" in output.read_bytes(), 120, "the platform up")
        before = _children(cli.pid)
        assert set(before) == set(SERVICES)

        os.kill(before["session"], signal.SIGKILL)

        _until(lambda: b"session started again" in output.read_bytes(), 30, "session restarted")
        _until(lambda: _serving(ports["session"][0]), 90, "session SERVING again")
        after = _children(cli.pid)
        assert after["session"] != before["session"]
        assert {s: after[s] for s in SERVICES if s != "session"} == {
            s: before[s] for s in SERVICES if s != "session"
        }, "the other three kept running"
        assert all(_serving(ports[service][0]) for service in SERVICES)
    finally:
        cli.send_signal(signal.SIGINT)
        code = cli.wait(timeout=90)
    text = output.read_text()
    assert code == 0, text[-2000:]
    assert "session exited (code -9)" in text
    for service in SERVICES:
        assert f"{service} stopped (exit" in text
    assert _children(cli.pid) == {}
