"""Wires the session service on the shared runtime: one message bus over its handler map, the gRPC
servicer and the consumers of matching and enrollment events in front of it, the erasure follow-up and
the health job (every relationship's health assessed every ``health_every_seconds``)."""

from __future__ import annotations

from pathlib import Path

import grpc
from mentoring.v1 import session_pb2_grpc

from services.session.config import SessionSettings
from services.session.entrypoints.consumers import translators
from services.session.entrypoints.grpc_servicer import SessionServicer
from services.session.service_layer import commands
from services.session.service_layer.handlers import handler_map
from services.shared.erasure import ErasureFollowUp
from services.shared.messagebus import MessageBus
from services.shared.runtime import ServiceRuntime, run

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def build(settings: SessionSettings | None = None) -> ServiceRuntime:
    settings = settings or SessionSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    follow_up = ErasureFollowUp(runtime.name, runtime.database)
    bus = MessageBus(runtime.database, handler_map(on_erased=follow_up.erased), runtime.relay.wake)
    servicer = SessionServicer(bus)

    def register(server: grpc.aio.Server) -> None:
        session_pb2_grpc.add_SessionServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.SessionService")
    for topic, of_topic in translators().items():
        runtime.consume(topic, bus.event_handlers(of_topic))
    runtime.jobs.forever("erasure_follow_up", follow_up.run)

    async def assess_health() -> int:
        return await bus.execute(commands.AssessHealth())

    runtime.jobs.every("relationship_health", settings.health_every_seconds, assess_health)
    return runtime


def main() -> None:
    run(build())
