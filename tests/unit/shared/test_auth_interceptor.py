"""The authentication interceptor on an in-process grpc.aio server, with tokens of the test's own
issuer: the bearer header read strictly, streaming RPCs guarded like unary ones, and an unreachable
issuer answered as UNAVAILABLE. What a handler sees of the caller: tests/integration/test_auth_keycloak.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from services.shared.auth import AuthReason, Unauthenticated
from services.shared.auth_interceptor import AuthenticationInterceptor, bearer_token
from services.shared.auth_keys import JwksCache
from services.shared.auth_tokens import TokenPolicy, TokenVerifier
from tests.support.signing import AUDIENCE, TestIssuer

HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ((), AuthReason.MISSING_TOKEN),
        ((("x-other", "1"),), AuthReason.MISSING_TOKEN),
        ((("authorization", "Basic dXNlcjpwdw=="),), AuthReason.MALFORMED_TOKEN),
        ((("authorization", "Bearer "),), AuthReason.MALFORMED_TOKEN),
        ((("authorization", "Bearer a"), ("authorization", "Bearer b")), AuthReason.MALFORMED_TOKEN),
    ],
)
def test_the_bearer_header_is_read_strictly(
    metadata: tuple[tuple[str, str], ...], reason: AuthReason
) -> None:
    with pytest.raises(Unauthenticated) as raised:
        bearer_token(metadata)
    assert raised.value.reason == reason


def test_the_scheme_is_case_insensitive() -> None:
    assert bearer_token((("authorization", "bearer abc.def.ghi"),)) == "abc.def.ghi"


async def serve(
    issuer: TestIssuer, open_services: frozenset[str]
) -> tuple[grpc.aio.Server, grpc.aio.Channel]:
    """Health and reflection behind the interceptor alone (GrpcServer always leaves those two open)."""
    policy = TokenPolicy(issuer=issuer.issuer, audience=AUDIENCE)
    verifier = TokenVerifier(policy, JwksCache(issuer.issuer, issuer.fetch, min_refresh_seconds=0))
    server = grpc.aio.server(
        interceptors=[AuthenticationInterceptor(verifier, unauthenticated_services=open_services)]
    )
    health_pb2_grpc.add_HealthServicer_to_server(HealthServicer(), server)
    reflection.enable_server_reflection((HEALTH, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, grpc.aio.insecure_channel(f"127.0.0.1:{port}")


async def list_services(channel: grpc.aio.Channel, token: str | None) -> set[str]:
    """Reflection: a bidirectional stream, here guarded like any other RPC."""
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), metadata=metadata, timeout=30
    )
    return {service.name async for reply in replies for service in reply.list_services_response.service}


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[TestIssuer, grpc.aio.Channel]]:
    issuer = TestIssuer()
    server, channel = await serve(issuer, frozenset())  # nothing open: health and reflection need a token
    try:
        yield issuer, channel
    finally:
        await channel.close()
        await server.stop(0.5)


async def test_a_streaming_rpc_needs_a_token_like_a_unary_one(
    guarded: tuple[TestIssuer, grpc.aio.Channel],
) -> None:
    issuer, channel = guarded
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await list_services(channel, None)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert HEALTH in await list_services(channel, issuer.token())


async def test_an_issuer_that_cannot_be_reached_is_unavailable_not_the_callers_fault(
    guarded: tuple[TestIssuer, grpc.aio.Channel],
) -> None:
    issuer, channel = guarded
    issuer.down = True
    health = health_pb2_grpc.HealthStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await health.Check(
            health_pb2.HealthCheckRequest(service=""),
            metadata=(("authorization", f"Bearer {issuer.token()}"),),
            timeout=30,
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.reason == AuthReason.ISSUER_UNAVAILABLE
