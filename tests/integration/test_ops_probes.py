"""A real service's HTTP probes on its metrics port: /readyz follows its gRPC health (NOT_SERVING while
its database cannot be written, back when it can), /livez stays up meanwhile, other paths are 404."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


def _http(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


async def test_readyz_follows_the_database_probe_and_livez_stays_up(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> None:
    process = ServiceProcess("session", data_dir, namespace, kafka_bootstrap).start()
    port = process.metrics_port

    def grpc_status() -> str:
        with process.channel() as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

    async def until(ready: int, serving: str) -> None:
        deadline = time.monotonic() + 30
        while (seen := (_http(port, "/readyz"), grpc_status())) != (ready, serving):
            assert time.monotonic() < deadline, f"saw {seen}, expected {(ready, serving)}"
            await asyncio.sleep(0.2)

    try:
        assert (_http(port, "/readyz"), grpc_status()) == (200, "SERVING")
        assert _http(port, "/livez") == 200
        assert _http(port, "/metrics") == 200
        assert _http(port, "/") == 404
        assert _http(port, "/healthz") == 404

        holder = sqlite3.connect(data_dir / "session.db", isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            await until(503, "NOT_SERVING")
            assert _http(port, "/livez") == 200, "the process is alive, only not ready"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await until(200, "SERVING")
    finally:
        assert process.stop() == 0, process.log_tail()
