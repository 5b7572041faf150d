"""The shared gRPC server, for real on a local port: a call whose caller went away before its handler
ended is counted DEADLINE_EXCEEDED or CANCELLED, never OK (before, the interceptor's ``finally`` counted
it OK), and a call refused by admission control is RESOURCE_EXHAUSTED with a RetryInfo."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from services.shared.admission import Overloaded
from services.shared.auth_client import BearerTokenInterceptor
from services.shared.grpc_server import GrpcServer
from tests.support.identity import SignedTokens

SERVICE = f"test.Statuses{uuid.uuid4().hex[:6]}"  # labels of this module's own


async def _slow(request: bytes, context: Any) -> bytes:
    await asyncio.sleep(1.0)
    return request


async def _busy(request: bytes, context: Any) -> bytes:
    raise Overloaded("busy; retry later", 2.5)


def _register(server: grpc.aio.Server) -> None:
    handlers = {
        "Slow": grpc.unary_unary_rpc_method_handler(_slow),
        "Busy": grpc.unary_unary_rpc_method_handler(_busy),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@pytest.fixture
async def channel(signed_tokens: SignedTokens) -> AsyncIterator[grpc.aio.Channel]:
    server = GrpcServer("127.0.0.1", 0, [_register], [SERVICE], 1 << 20, 0.5, signed_tokens.verifier())
    await server.start()
    token = signed_tokens.person("demo", "E0001")
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{server.port}", interceptors=[BearerTokenInterceptor(lambda: _now(token))]
    ) as opened:
        yield opened
    await server.stop()


async def _now(token: str) -> str:
    return token


def _handled(method: str, code: str) -> float:
    labels = {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0.0


async def _counted(method: str) -> None:
    for _ in range(100):
        if any(_handled(method, code) for code in ("OK", "DEADLINE_EXCEEDED", "CANCELLED")):
            return
        await asyncio.sleep(0.05)


async def test_a_call_past_its_deadline_is_counted_deadline_exceeded(
    channel: grpc.aio.Channel,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await channel.unary_unary(f"/{SERVICE}/Slow")(b"x", timeout=0.1)
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await _counted("Slow")
    assert _handled("Slow", "OK") == 0
    assert _handled("Slow", "DEADLINE_EXCEEDED") == 1


async def test_a_call_the_client_cancels_is_counted_cancelled(channel: grpc.aio.Channel) -> None:
    call = channel.unary_unary(f"/{SERVICE}/Slow")(b"x", timeout=30)
    await asyncio.sleep(0.2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    before = _handled("Slow", "CANCELLED")
    for _ in range(100):
        if _handled("Slow", "CANCELLED") > before or _handled("Slow", "OK"):
            break
        await asyncio.sleep(0.05)
    assert _handled("Slow", "OK") == 0
    assert _handled("Slow", "CANCELLED") >= 1


async def test_a_refused_call_is_resource_exhausted_with_a_retry_hint(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await channel.unary_unary(f"/{SERVICE}/Busy")(b"x", timeout=5)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info)
    assert info.retry_delay.ToTimedelta().total_seconds() == 2.5
    assert _handled("Busy", "RESOURCE_EXHAUSTED") == 1
