"""Wires the matching service on the shared runtime: one message bus over the handler map, the gRPC
servicer with admission control of its solves, the enrollment consumer and the expiry sweep."""

from __future__ import annotations

from pathlib import Path

import grpc
from mentoring.v1 import matching_pb2_grpc

from services.matching.config import MatchingSettings
from services.matching.entrypoints.consumers import translators
from services.matching.entrypoints.grpc_servicer import MatchingServicer
from services.matching.service_layer import commands
from services.matching.service_layer.handlers import handlers
from services.matching.service_layer.policy import Policy
from services.shared import worker_process
from services.shared.admission import Admission
from services.shared.logging import get_logger
from services.shared.messagebus import MessageBus
from services.shared.runtime import ServiceRuntime, run

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"

log = get_logger(__name__)


def build(settings: MatchingSettings | None = None) -> ServiceRuntime:
    settings = settings or MatchingSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    bus = MessageBus(runtime.database, handlers(Policy.from_settings(settings)), runtime.relay.wake)
    solves = Admission(
        settings.service_name,
        "matching_run",
        limit=settings.run_concurrency,
        queue=settings.run_queue,
        retry_after_seconds=settings.run_retry_after_seconds,
    )
    servicer = MatchingServicer(bus, solves)

    def register(server: grpc.aio.Server) -> None:
        matching_pb2_grpc.add_MatchingServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.MatchingService")
    for topic, topic_translators in translators().items():
        runtime.consume(topic, bus.event_handlers(topic_translators))

    async def expiry_sweep() -> None:
        # Proposals also expire when touched; the sweep covers the ones nobody looks at.
        expired = await bus.execute(commands.ExpireOverdue())
        if expired:
            log.info("proposals_expired", count=expired)

    runtime.jobs.every("expiry_sweep", settings.expiry_sweep_seconds, expiry_sweep)
    return runtime


def main() -> None:
    # Solves run in child processes forked from a server that has the solver imported (see
    # services.shared.worker_process); started before any thread of the service exists.
    worker_process.start(["services.matching.domain"])
    run(build())
