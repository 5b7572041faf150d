"""Wires the matching service: its store, consumers, gRPC servicer and the expiry sweep on the shared
runtime."""

from __future__ import annotations

from pathlib import Path

import grpc
from mentoring.v1 import matching_pb2_grpc

from services.matching.config import MatchingSettings
from services.matching.entrypoints.consumers import enrollment_handlers
from services.matching.entrypoints.grpc_servicer import MatchingServicer
from services.matching.service_layer.context import Policy
from services.shared.logging import get_logger
from services.shared.runtime import ServiceRuntime, run
from services.shared.topics import ENROLLMENT_EVENTS

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"

log = get_logger(__name__)


def build(settings: MatchingSettings | None = None) -> ServiceRuntime:
    settings = settings or MatchingSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    policy = Policy.from_settings(settings)
    servicer = MatchingServicer(runtime.database, policy, runtime.relay.wake)

    def register(server: grpc.aio.Server) -> None:
        matching_pb2_grpc.add_MatchingServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.MatchingService")
    runtime.consume(ENROLLMENT_EVENTS, enrollment_handlers(policy))

    async def expiry_sweep() -> None:
        # Proposals also expire when touched; the sweep covers the ones nobody looks at.
        try:
            expired = await servicer.expire_overdue()
        except Exception:  # the sweep must outlive a database hiccup: the next tick retries
            log.exception("expiry_sweep_failed")
            return
        if expired:
            log.info("proposals_expired", count=expired)

    runtime.faust_app.timer(interval=settings.expiry_sweep_seconds, name="matching.expiry_sweep")(
        expiry_sweep
    )

    return runtime


def main() -> None:
    run(build())
