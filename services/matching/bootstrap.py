"""Wires the matching service: its store, consumers and gRPC servicer on the shared runtime."""

from pathlib import Path

from mentoring.v1 import matching_pb2_grpc

from services.matching.config import MatchingSettings
from services.matching.entrypoints.consumers import ENROLLMENT_HANDLERS
from services.shared.runtime import ServiceRuntime, run
from services.shared.topics import ENROLLMENT_EVENTS

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def build(settings: MatchingSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or MatchingSettings(), MIGRATIONS)
    runtime.add_grpc_service(
        lambda server: matching_pb2_grpc.add_MatchingServiceServicer_to_server(
            matching_pb2_grpc.MatchingServiceServicer(), server
        ),
        "mentoring.v1.MatchingService",
    )
    runtime.consume(ENROLLMENT_EVENTS, ENROLLMENT_HANDLERS)
    return runtime


def main() -> None:
    run(build())
