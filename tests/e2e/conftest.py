"""The platform of the end-to-end tests: the four services as real processes on the real broker, trusting
the real Keycloak, with the demo organisation played through them once per test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.demo import Platform, play
from tests.support.keycloak import Keycloak
from tests.support.platform import Played
from tests.support.processes import ServiceProcess

# Expired tokens are tried against these services: a leeway of a second instead of the default 30.
LEEWAY_SECONDS = 1


@pytest.fixture(scope="session")
def played(
    kafka_bootstrap: str, keycloak: Keycloak, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Played]:
    data_dir = tmp_path_factory.mktemp("platform")
    namespace = f"t{uuid.uuid4().hex[:10]}."
    leeway = {"MENTORING_AUTH_LEEWAY_SECONDS": str(LEEWAY_SECONDS)}
    enrollment = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap, leeway).start()
    notification_env = {**leeway, "MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": enrollment.grpc_target}
    others = [
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap, leeway),
        ServiceProcess("session", data_dir, namespace, kafka_bootstrap, leeway),
        ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, notification_env),
    ]
    try:
        matching, session, notification = (process.start() for process in others)
        outcome = play(
            Platform(
                enrollment.grpc_target,
                matching.grpc_target,
                session.grpc_target,
                notification.grpc_target,
                kafka_bootstrap,
                keycloak.issuer,
                namespace,
            )
        )
        yield Played({process.service: process for process in [enrollment, *others]}, outcome)
    finally:
        for process in [*others, enrollment]:
            process.stop()
