"""The authentication interceptor end to end: real tokens from the real Keycloak (password grant for
people, client credentials for a service) against a real grpc.aio server (GrpcServer with health,
reflection and the NotificationService contract), so every refusal is the status a client sees."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from mentoring.v1 import notification_pb2, notification_pb2_grpc
from typing_extensions import override

from services.shared.auth import AuthReason, Principal, current_principal
from services.shared.auth_client import BearerTokenInterceptor, ClientCredentials
from services.shared.auth_interceptor import ERROR_DOMAIN
from services.shared.auth_tokens import TokenVerifier, verifier_from_settings
from services.shared.config import ServiceSettings
from services.shared.grpc_server import GrpcServer
from tests.support.keycloak import OTHER_AUDIENCE_CLIENT, SHORT_LIVED_CLIENT, Keycloak, person
from tests.support.signing import SigningKey, header, payload, unsigned

pytestmark = pytest.mark.integration
SERVICE = notification_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name
LEEWAY_SECONDS = 1.0
MIN_REFRESH_SECONDS = 2.0


class RecordingNotifications(notification_pb2_grpc.NotificationServiceServicer):
    """The NotificationService contract, answering with nothing and recording who called."""

    def __init__(self) -> None:
        self.callers: list[Principal] = []

    @override
    async def GetPreferences(
        self, request: notification_pb2.GetPreferencesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> notification_pb2.NotificationPreferences:
        self.callers.append(current_principal())
        return notification_pb2.NotificationPreferences(recipient_id=request.recipient_id)


@dataclass
class Served:
    target: str
    servicer: RecordingNotifications
    verifier: TokenVerifier
    channel: grpc.aio.Channel
    stubs: list[Any] = field(default_factory=list)

    async def call(self, token: str | None) -> Principal:
        metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
        stub = notification_pb2_grpc.NotificationServiceStub(self.channel)
        await stub.GetPreferences(
            notification_pb2.GetPreferencesRequest(recipient_id="E0001"), metadata=metadata, timeout=30
        )
        return self.servicer.callers[-1]

    async def refusal(self, token: str | None) -> tuple[grpc.StatusCode, str, str]:
        """The status, ErrorInfo reason and message of a refused call; the handler never ran."""
        before = len(self.servicer.callers)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await self.call(token)
        assert len(self.servicer.callers) == before, "a refused call must not reach the handler"
        status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
        assert status is not None, "a refusal carries rich status details"
        info = error_details_pb2.ErrorInfo()
        assert status.details[0].Unpack(info) and info.domain == ERROR_DOMAIN
        return raised.value.code(), info.reason, status.message


@pytest.fixture(scope="module")
async def served(keycloak: Keycloak) -> AsyncIterator[Served]:
    settings = ServiceSettings(  # the settings are read by their variable names, as from the environment
        MENTORING_AUTH_ISSUER=keycloak.issuer,
        MENTORING_AUTH_LEEWAY_SECONDS=LEEWAY_SECONDS,
        MENTORING_AUTH_JWKS_MIN_REFRESH_SECONDS=MIN_REFRESH_SECONDS,
    )
    assert settings.auth_issuer == keycloak.issuer
    verifier = verifier_from_settings(settings)
    servicer = RecordingNotifications()
    server = GrpcServer(
        "127.0.0.1",
        0,
        [lambda s: notification_pb2_grpc.add_NotificationServiceServicer_to_server(servicer, s)],
        [SERVICE],
        max_message_bytes=4 * 1024 * 1024,
        shutdown_grace_seconds=1,
        verifier=verifier,
    )
    await server.start()
    target = f"127.0.0.1:{server.port}"
    channel = grpc.aio.insecure_channel(target)
    try:
        yield Served(target, servicer, verifier, channel)
    finally:
        await channel.close()
        await server.stop()


@pytest.mark.parametrize(
    ("tenant", "role"), [("demo", "hr_admin"), ("globex", "program_manager"), ("demo", "employee")]
)
async def test_a_person_is_the_principal_the_realm_says(
    served: Served, keycloak: Keycloak, tenant: str, role: str
) -> None:
    someone = person(tenant, role)
    principal = await served.call(await asyncio.to_thread(keycloak.password_token, someone.username))
    assert (principal.tenant, principal.employee_id, principal.service) == (tenant, someone.employee_id, None)
    assert {"hr_admin", "program_manager", "employee"} & principal.roles == someone.roles


async def test_a_service_calls_with_its_client_credentials(served: Served, keycloak: Keycloak) -> None:
    tokens = ClientCredentials(keycloak.issuer, "notification-service", "notification-service-secret")
    async with grpc.aio.insecure_channel(
        served.target, interceptors=[BearerTokenInterceptor(tokens)]
    ) as channel:
        stub = notification_pb2_grpc.NotificationServiceStub(channel)
        await stub.GetPreferences(notification_pb2.GetPreferencesRequest(recipient_id="E0002"), timeout=30)
        await stub.GetPreferences(notification_pb2.GetPreferencesRequest(recipient_id="E0003"), timeout=30)
    first, second = served.servicer.callers[-2:]
    assert first == second, "the second call reuses the token of the first"
    assert (first.service, first.tenant, first.employee_id) == ("notification", None, None)
    assert "contact_lookup" in first.roles and "employee" not in first.roles


async def test_health_and_reflection_need_no_token(served: Served) -> None:
    health = health_pb2_grpc.HealthStub(served.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(served.channel)
    replies = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {service.name async for reply in replies for service in reply.list_services_response.service}
    assert SERVICE in names


async def test_no_token_is_unauthenticated(served: Served) -> None:
    assert (await served.refusal(None))[:2] == (grpc.StatusCode.UNAUTHENTICATED, AuthReason.MISSING_TOKEN)


async def test_an_expired_token_is_unauthenticated(served: Served, keycloak: Keycloak) -> None:
    token = await asyncio.to_thread(keycloak.password_token, person("demo").username, SHORT_LIVED_CLIENT)
    assert (await served.call(token)).employee_id == person("demo").employee_id
    await asyncio.sleep(max(0.0, payload(token)["exp"] + LEEWAY_SECONDS + 1 - time.time()))
    assert (await served.refusal(token))[:2] == (grpc.StatusCode.UNAUTHENTICATED, AuthReason.EXPIRED)


async def test_a_token_for_another_audience_is_unauthenticated(served: Served, keycloak: Keycloak) -> None:
    token = await asyncio.to_thread(keycloak.password_token, person("demo").username, OTHER_AUDIENCE_CLIENT)
    assert payload(token)["aud"] == "other-api"
    assert (await served.refusal(token))[:2] == (grpc.StatusCode.UNAUTHENTICATED, AuthReason.WRONG_AUDIENCE)


async def test_alg_none_is_unauthenticated(served: Served, keycloak: Keycloak) -> None:
    real = await asyncio.to_thread(keycloak.password_token, person("demo", "hr_admin").username)
    forged = unsigned(payload(real), kid=header(real)["kid"])
    code, reason, message = await served.refusal(forged)
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, AuthReason.ALGORITHM_NOT_ALLOWED)
    assert person("demo", "hr_admin").employee_id not in message, "no personal data in the status"


async def test_a_token_signed_by_another_key_is_unauthenticated(served: Served, keycloak: Keycloak) -> None:
    real = await asyncio.to_thread(keycloak.password_token, person("globex").username)
    claims = {**payload(real), "tenant": "demo"}  # the forger would move themselves to another tenant
    same_kid = SigningKey(kid=header(real)["kid"]).sign(claims)
    assert (await served.refusal(same_kid))[:2] == (grpc.StatusCode.UNAUTHENTICATED, AuthReason.BAD_SIGNATURE)
    own_kid = SigningKey().sign(claims)
    assert (await served.refusal(own_kid))[:2] == (grpc.StatusCode.UNAUTHENTICATED, AuthReason.UNKNOWN_KEY)


async def test_a_token_of_another_realm_is_unauthenticated(served: Served, keycloak: Keycloak) -> None:
    admin = await asyncio.to_thread(keycloak.admin_token)  # the master realm: another issuer, other keys
    code, reason, _ = await served.refusal(admin)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert reason in {AuthReason.UNKNOWN_KEY, AuthReason.WRONG_ISSUER}


async def test_a_rotated_signing_key_is_fetched_once(served: Served, keycloak: Keycloak) -> None:
    someone = person("demo", "program_manager")
    before = await asyncio.to_thread(keycloak.password_token, someone.username)
    await served.call(before)  # the keys are cached now
    provider = await asyncio.to_thread(keycloak.add_signing_key)
    try:
        after = await asyncio.to_thread(keycloak.password_token, someone.username)
        assert header(after)["kid"] != header(before)["kid"], "Keycloak signs with the new key"
        await asyncio.sleep(MIN_REFRESH_SECONDS)  # past the rate limit of unknown-kid refreshes
        fetches = served.verifier.keys.fetches
        for _ in range(3):
            assert (await served.call(after)).employee_id == someone.employee_id
        assert served.verifier.keys.fetches == fetches + 1, "the unknown kid triggers one JWKS refresh"
        assert (await served.call(before)).employee_id == someone.employee_id, "the old key still verifies"
    finally:
        await asyncio.to_thread(keycloak.remove_signing_key, provider)
