"""The shipped Alertmanager configuration delivers: a real Alertmanager (Debian's binary) given a
critical alert calls the on-call webhook with it, summary, runbook and dashboard included."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.kafka import REPO_ROOT

pytestmark = pytest.mark.integration

CONFIG = REPO_ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
SHIPPED_WEBHOOK = "http://127.0.0.1:9099"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Webhook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def test_a_critical_alert_reaches_the_on_call_webhook(tmp_path: Path) -> None:
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        pytest.skip(
            "prometheus-alertmanager is not installed (Debian: apt-get install prometheus-alertmanager)"
        )
    webhook = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.read_text().replace(SHIPPED_WEBHOOK, f"http://127.0.0.1:{webhook.server_port}"))
    port = _free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    alert = {
        "labels": {"alertname": "MentoringConsumerStalled", "severity": "critical", "service": "session"},
        "annotations": {
            "summary": "session consumes nothing",
            "runbook_url": "docs/runbooks/MentoringConsumerStalled.md",
            "dashboard": "http://127.0.0.1:3000/d/mentoring-overview?var-service=session",
        },
    }
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v2/alerts",
                    data=json.dumps([alert]).encode(),
                    headers={"Content-Type": "application/json"},
                )
                urllib.request.urlopen(request, timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "alertmanager.log").read_text()
                time.sleep(0.2)
        deadline = time.monotonic() + 40  # group_wait of the critical route: 10 s
        while not _Webhook.received:
            assert time.monotonic() < deadline, "no webhook call"
            time.sleep(0.2)
        path, payload = _Webhook.received[0]
        assert path == "/alerts/on-call"
        assert payload["receiver"] == "on-call" and payload["status"] == "firing"
        (delivered,) = payload["alerts"]
        assert delivered["labels"]["alertname"] == "MentoringConsumerStalled"
        assert delivered["annotations"]["runbook_url"] == "docs/runbooks/MentoringConsumerStalled.md"
        assert delivered["annotations"]["dashboard"].startswith("http://127.0.0.1:3000/d/mentoring-overview")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        webhook.shutdown()
