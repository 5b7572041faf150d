"""Wires the enrollment service: its store, HRIS consumer and gRPC servicer on the shared runtime."""

from __future__ import annotations

from pathlib import Path

import grpc
from mentoring.v1 import enrollment_pb2_grpc

from services.enrollment.config import EnrollmentSettings
from services.enrollment.entrypoints.consumers import hris_batch_handler
from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.enrollment.service_layer.gauges import GaugeRefresher
from services.shared.config import ServiceSettings
from services.shared.runtime import ServiceRuntime, run
from services.shared.topics import HRIS_WORKER_EVENTS

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


class EnrollmentRuntime(ServiceRuntime):
    """The shared runtime plus the refresher of the directory and enrollment gauges."""

    def __init__(self, settings: ServiceSettings, migrations: Path) -> None:
        super().__init__(settings, migrations)
        self.gauges = GaugeRefresher(self.database)

    async def start(self) -> None:
        await super().start()
        self.gauges.start()

    async def stop(self) -> None:
        await self.gauges.stop()
        await super().stop()


def build(settings: EnrollmentSettings | None = None) -> ServiceRuntime:
    runtime = EnrollmentRuntime(settings or EnrollmentSettings(), MIGRATIONS)
    servicer = EnrollmentServicer(runtime.database, runtime.relay.wake)

    def register(server: grpc.aio.Server) -> None:
        enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.EnrollmentService")
    runtime.consume(HRIS_WORKER_EVENTS, hris_batch_handler(), bulk=True)
    return runtime


def main() -> None:
    run(build())
