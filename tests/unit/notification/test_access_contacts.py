"""The contact look-up's own credentials: a delivery without a tenant is never looked up, and an identity
provider that grants no token is a look-up to try again later, not a contact that does not exist."""

from __future__ import annotations

import pytest

from services.notification.adapters.contacts import (
    ContactLookupUnavailable,
    GrpcContactDirectory,
    NoContactDirectory,
    contact_directory,
)
from services.notification.config import NotificationSettings
from services.shared.auth import IssuerUnavailable


async def test_a_delivery_without_a_tenant_is_not_looked_up() -> None:
    asked: list[str] = []

    async def token() -> str:
        asked.append("token")
        return "t"

    directory = GrpcContactDirectory("127.0.0.1:1", 0.5, token)
    with pytest.raises(ContactLookupUnavailable) as raised:
        await directory.contact_of(" ", "E-1")
    assert not raised.value.retryable
    assert asked == [], "nothing was asked: not even a token"
    await directory.close()


async def test_no_token_from_the_issuer_is_retried_later() -> None:
    async def token() -> str:
        raise IssuerUnavailable("the issuer did not grant a token: URLError")

    directory = GrpcContactDirectory("127.0.0.1:1", 0.5, token)
    try:
        with pytest.raises(ContactLookupUnavailable) as raised:
            await directory.contact_of("acme", "E-1")
        assert raised.value.retryable
    finally:
        await directory.close()


def test_the_settings_default_to_the_local_realms_client(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = NotificationSettings(enrollment_grpc_target="127.0.0.1:50051")
    assert settings.auth_client_id == "notification-service"
    assert settings.auth_client_secret.get_secret_value() == "notification-service-secret"
    assert isinstance(contact_directory(settings), GrpcContactDirectory)
    assert isinstance(contact_directory(NotificationSettings(enrollment_grpc_target=" ")), NoContactDirectory)
    monkeypatch.setenv("MENTORING_NOTIFICATION_AUTH_CLIENT_ID", "prod-notifier")
    monkeypatch.setenv("MENTORING_NOTIFICATION_AUTH_CLIENT_SECRET", "s3cret")
    configured = NotificationSettings()
    assert (configured.auth_client_id, configured.auth_client_secret.get_secret_value()) == (
        "prod-notifier",
        "s3cret",
    )
