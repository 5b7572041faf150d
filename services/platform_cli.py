"""`python -m services.platform_cli`: run the whole platform locally, and its demo organisation.

`run` starts the four services as child processes on their default ports (Kafka must be up: `make run`
starts it) and, beside them, the lag exporter (consumer lag read from the broker, `lag-exporter`);
prints where each listens, optionally plays the demo, starts again any process that dies (with back-off,
the others go on), and stops everything on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import typer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console
from rich.table import Table

from services.shared.config import REPO_ROOT, ServiceSettings
from services.shared.lag_collector import LagExporterSettings, serve
from services.shared.logging import configure_logging

SERVICES = ("enrollment", "matching", "session", "notification")
LAG_EXPORTER = "lag-exporter"
app = typer.Typer(add_completion=False, help=__doc__)
console = Console(stderr=True)


def _settings(service: str) -> ServiceSettings:
    module = __import__(f"services.{service}.config", fromlist=["*"])
    settings_class = next(
        value
        for name, value in vars(module).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    )
    settings: ServiceSettings = settings_class()
    return settings


def _wait_serving(target: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise typer.Exit(code=1)
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                    == health_pb2.HealthCheckResponse.SERVING
                ):
                    return
            except grpc.RpcError:
                time.sleep(0.2)
    raise typer.Exit(code=1)


# A service that dies is started again after 1, 2, 4 ... seconds, at most this long; one that stayed up
# this long starts its count again.
MAX_RESTART_DELAY_SECONDS = 30.0
STABLE_AFTER_SECONDS = 60.0


class Supervisor:
    """The four services as child processes: a service that dies is reported and started again with
    back-off; the others keep running."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self._log_dir = log_dir
        self._env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._started_at: dict[str, float] = {}
        self._restarts: dict[str, int] = {}
        self._due: dict[str, float] = {}

    def log_path(self, service: str) -> Path:
        return self._log_dir / f"{service}.log"

    def start(self, service: str) -> subprocess.Popen[bytes]:
        module = (
            ["services.platform_cli", LAG_EXPORTER] if service == LAG_EXPORTER else [f"services.{service}"]
        )
        process = subprocess.Popen(
            [sys.executable, "-m", *module],
            env=self._env,
            cwd=REPO_ROOT,
            stdout=self.log_path(service).open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.processes[service] = process
        self._started_at[service] = time.monotonic()
        return process

    def watch(self) -> None:
        """One round: report and schedule the restart of every service that died; restart those due."""
        now = time.monotonic()
        for service, process in self.processes.items():
            code = process.poll()
            if code is None or service in self._due:
                if code is None and now - self._started_at[service] > STABLE_AFTER_SECONDS:
                    self._restarts[service] = 0
                continue
            restarts = self._restarts.get(service, 0)
            delay = min(2.0**restarts, MAX_RESTART_DELAY_SECONDS)
            self._restarts[service] = restarts + 1
            self._due[service] = now + delay
            console.print(
                f"[red]{service} exited (code {code}); starting it again in {delay:.0f} s "
                f"(restart {restarts + 1}); see {self.log_path(service)}[/red]"
            )
        for service, due in list(self._due.items()):
            if now >= due:
                del self._due[service]
                self.start(service)
                console.print(f"{service} started again (pid {self.processes[service].pid})")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for service, process in self.processes.items():
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            console.print(f"{service} stopped (exit {code})")


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def run(demo: bool = typer.Option(False, help="Play the demo organisation once everything is up.")) -> None:
    """Start the four services and keep them running; Ctrl-C stops them all."""
    log_dir = Path(os.environ.get("MENTORING_DATA_DIR", REPO_ROOT / ".var" / "data")) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    enrollment = _settings("enrollment")
    # The notification service looks contacts up in the enrollment service for the e-mail channel.
    platform_env = {
        "MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": f"{enrollment.grpc_host}:{enrollment.grpc_port}",
        **os.environ,
    }
    supervisor = Supervisor(log_dir, platform_env)
    signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM stops the platform the way Ctrl-C does
    table = Table(title="Mentoring platform")
    for column in ("service", "gRPC", "metrics", "log"):
        table.add_column(column)
    try:
        for service in SERVICES:
            settings = _settings(service)
            supervisor.start(service)
            table.add_row(
                service,
                f"{settings.grpc_host}:{settings.grpc_port}",
                f"http://{settings.metrics_host}:{settings.metrics_port}/metrics",
                str(supervisor.log_path(service)),
            )
        for service, process in supervisor.processes.items():
            settings = _settings(service)
            try:
                _wait_serving(f"{settings.grpc_host}:{settings.grpc_port}", process)
            except typer.Exit:
                console.print(f"[red]{service} did not come up; see {supervisor.log_path(service)}[/red]")
                raise
        supervisor.start(LAG_EXPORTER)
        exporter = LagExporterSettings()
        table.add_row(
            LAG_EXPORTER,
            "",
            f"http://{exporter.metrics_host}:{exporter.metrics_port}/metrics",
            str(supervisor.log_path(LAG_EXPORTER)),
        )
        console.print(table)
        console.print("All four services are SERVING. Kafka: " + _settings("enrollment").kafka_bootstrap)
        if demo:
            from services.demo import play

            play()
        console.print("Press Ctrl-C to stop.")
        while True:
            supervisor.watch()
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("Stopping...")
    finally:
        supervisor.stop()


@app.command("lag-exporter")
def lag_exporter() -> None:
    """Export each consumer group's lag, read from the broker, on its own metrics port (9105)."""
    settings = LagExporterSettings()
    configure_logging(LAG_EXPORTER, settings.log_level, settings.log_json)
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))


@app.command()
def demo() -> None:
    """Play the demo organisation against a platform that is already running."""
    from services.demo import play

    play()


@app.command()
def status() -> None:
    """Health of each service on its configured port."""
    rows = {}
    for service in SERVICES:
        settings = _settings(service)
        target = f"{settings.grpc_host}:{settings.grpc_port}"
        try:
            with grpc.insecure_channel(target) as channel:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=2
                )
                rows[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        except grpc.RpcError as error:
            rows[service] = f"unreachable ({error.code().name})"
    typer.echo(json.dumps(rows, indent=2))


if __name__ == "__main__":
    app()
