"""Wires the session service: its store, consumers and gRPC servicer on the shared runtime."""

from __future__ import annotations

from pathlib import Path

import grpc
from mentoring.v1 import session_pb2_grpc

from services.session.config import SessionSettings
from services.session.entrypoints.consumers import MATCHING_HANDLERS
from services.session.entrypoints.grpc_servicer import SessionServicer
from services.shared.runtime import ServiceRuntime, run
from services.shared.topics import MATCHING_EVENTS

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def build(settings: SessionSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or SessionSettings(), MIGRATIONS)
    servicer = SessionServicer(runtime.database, runtime.relay.wake)

    def register(server: grpc.aio.Server) -> None:
        session_pb2_grpc.add_SessionServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.SessionService")
    runtime.consume(MATCHING_EVENTS, MATCHING_HANDLERS)
    return runtime


def main() -> None:
    run(build())
