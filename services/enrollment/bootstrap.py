"""Wires the enrollment service on the shared runtime: one message bus over the handler map, the gRPC
servicer and the HRIS consumer in front of it, the gauges' refresh and the erasures' follow-up (the
write-ahead log emptied) as background jobs, and the HRIS dead letters sealed under per-person keys."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import grpc
from mentoring.v1 import enrollment_pb2_grpc

from services.enrollment.config import EnrollmentSettings
from services.enrollment.entrypoints.consumers import hris_batch_handler
from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.enrollment.service_layer import gauges
from services.enrollment.service_layer.erasure import DeadLetterKeys
from services.enrollment.service_layer.handlers import handler_map
from services.shared.erasure import ErasureFollowUp
from services.shared.messagebus import MessageBus
from services.shared.runtime import ServiceRuntime, run
from services.shared.topics import HRIS_WORKER_EVENTS

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def build(settings: EnrollmentSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or EnrollmentSettings(), MIGRATIONS)
    follow_up = ErasureFollowUp(runtime.name, runtime.database)
    bus = MessageBus(runtime.database, handler_map(on_erased=follow_up.erased), runtime.relay.wake)
    servicer = EnrollmentServicer(bus)

    def register(server: grpc.aio.Server) -> None:
        enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.EnrollmentService")
    runtime.consume(HRIS_WORKER_EVENTS, hris_batch_handler(bus), bulk=True)
    runtime.dlq.seal_topic(runtime.namespace + HRIS_WORKER_EVENTS, DeadLetterKeys(runtime.database))
    runtime.jobs.every("gauges", gauges.REFRESH_SECONDS, partial(gauges.refresh, runtime.database))
    runtime.jobs.forever("erasure_follow_up", follow_up.run)
    return runtime


def main() -> None:
    run(build())
