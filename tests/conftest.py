"""Fixtures shared by every tier. Unit tests use none of the broker fixtures."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.identity import KeycloakTokens, SignedTokens
from tests.support.kafka import REPO_ROOT
from tests.support.keycloak import Keycloak
from tests.support.postgres import postgres_server  # noqa: F401  (a fixture)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker: `make test` starts it; a bare pytest run starts it here (idempotent)."""
    bootstrap = os.environ.get("MENTORING_TEST_KAFKA_BOOTSTRAP")
    if bootstrap:
        return bootstrap
    subprocess.run(["bash", str(REPO_ROOT / "deploy/kafka/kafka.sh"), "up"], check=True, capture_output=True)
    return f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"


@pytest.fixture(scope="session")
def keycloak() -> Keycloak:
    """The real identity provider with the repo's realm: `make test` starts it; a bare pytest run starts
    it here (idempotent). Tokens: keycloak.password_token(username), keycloak.service_token(client)."""
    return Keycloak.ensure_up()


@pytest.fixture(scope="session")
def tokens(keycloak: Keycloak) -> KeycloakTokens:
    """Real tokens of the real Keycloak for any person a test names (created in the realm on demand):
    tokens.person(tenant, employee_id, *roles), hr(tokens, tenant), tokens.service(client_id)."""
    return KeycloakTokens(keycloak)


@pytest.fixture
def signed_tokens() -> SignedTokens:
    """Tokens of a test issuer of this test's own, and its verifier (unit tests of servers)."""
    return SignedTokens()


@pytest.fixture
def namespace() -> str:
    """A topic and consumer-group prefix of this test's own, so tests never see each other's records."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir()
    yield path
