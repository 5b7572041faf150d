"""The metrics port: /metrics only on /metrics, /livez and /readyz that follow what they are told."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from services.shared import probes
from services.shared.metrics import start_metrics_server


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_are_served_on_metrics_only() -> None:
    """Before: every path answered 200 with the metrics, so an HTTP probe on any path always passed."""
    port = start_metrics_server("127.0.0.1", 0)
    status, body = _get(port, "/metrics")
    assert status == 200 and "python_info" in body
    for path in ("/", "/health", "/metricsx", "/metrics/extra", "/favicon.ico"):
        assert _get(port, path)[0] == 404, path


def test_livez_and_readyz_answer_what_the_service_says() -> None:
    state = {"live": True, "ready": False}
    registry = CollectorRegistry()
    Counter("probe_test_total", "A counter of this test's own.", registry=registry).inc()
    port = start_metrics_server(
        "127.0.0.1", 0, registry, live=lambda: state["live"], ready=lambda: state["ready"]
    )
    assert _get(port, "/livez") == (200, "ok\n")
    assert _get(port, "/readyz") == (503, "not ready\n")
    state["ready"] = True
    assert _get(port, "/readyz") == (200, "ok\n")
    state["live"] = False
    assert _get(port, "/livez")[0] == 503
    status, body = _get(port, "/metrics")
    assert status == 200 and "probe_test_total 1.0" in body and "python_info" not in body


async def test_the_heartbeat_goes_stale_while_the_loop_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probes, "LIVENESS_STALE_SECONDS", 0.3)
    monkeypatch.setattr(probes, "HEARTBEAT_SECONDS", 0.05)
    heartbeat = probes.LoopHeartbeat().start()
    try:
        await asyncio.sleep(0.5)
        assert heartbeat.fresh(), "the loop turns: the heartbeat stays fresh"
        time.sleep(0.5)  # the loop blocked: nothing refreshes it
        assert not heartbeat.fresh()
        await asyncio.sleep(0.1)
        assert heartbeat.fresh(), "fresh again once the loop turns"
    finally:
        heartbeat.stop()
