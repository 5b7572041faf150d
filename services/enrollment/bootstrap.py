"""Wires the enrollment service: its store, consumers and gRPC servicer on the shared runtime."""

from pathlib import Path

from services.enrollment.config import EnrollmentSettings
from services.shared.runtime import ServiceRuntime, run

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def build(settings: EnrollmentSettings | None = None) -> ServiceRuntime:
    return ServiceRuntime(settings or EnrollmentSettings(), MIGRATIONS)


def main() -> None:
    run(build())
