"""`python -m services.platform_cli`: run the whole platform locally, and its demo organisation.

`run` starts the four services as child processes on their default ports (Kafka must be up: `make run`
starts it), prints where each listens, optionally plays the demo, and stops everything on Ctrl-C.
"""

from __future__ import annotations

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

SERVICES = ("enrollment", "matching", "session", "notification")
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


@app.command()
def run(demo: bool = typer.Option(False, help="Play the demo organisation once everything is up.")) -> None:
    """Start the four services; Ctrl-C stops them all."""
    log_dir = Path(os.environ.get("MENTORING_DATA_DIR", REPO_ROOT / ".var" / "data")) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    enrollment = _settings("enrollment")
    # The notification service looks contacts up in the enrollment service for the e-mail channel.
    platform_env = {
        "MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": f"{enrollment.grpc_host}:{enrollment.grpc_port}",
        **os.environ,
    }
    table = Table(title="Mentoring platform")
    for column in ("service", "gRPC", "metrics", "log"):
        table.add_column(column)
    try:
        for service in SERVICES:
            settings = _settings(service)
            log_path = log_dir / f"{service}.log"
            processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                env=platform_env,
                cwd=REPO_ROOT,
                stdout=log_path.open("ab"),
                stderr=subprocess.STDOUT,
            )
            table.add_row(
                service,
                f"{settings.grpc_host}:{settings.grpc_port}",
                f"http://{settings.metrics_host}:{settings.metrics_port}/metrics",
                str(log_path),
            )
        for service, process in processes.items():
            settings = _settings(service)
            try:
                _wait_serving(f"{settings.grpc_host}:{settings.grpc_port}", process)
            except typer.Exit:
                console.print(f"[red]{service} did not come up; see {log_dir / (service + '.log')}[/red]")
                raise
        console.print(table)
        console.print("All four services are SERVING. Kafka: " + _settings("enrollment").kafka_bootstrap)
        if demo:
            from services.demo import play

            play()
        console.print("Press Ctrl-C to stop.")
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
        stopped = [name for name, process in processes.items() if process.poll() is not None]
        console.print(f"[red]{', '.join(stopped)} stopped unexpectedly; stopping the rest[/red]")
    except KeyboardInterrupt:
        console.print("Stopping...")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for service, process in processes.items():
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            console.print(f"{service} stopped (exit {code})")


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
