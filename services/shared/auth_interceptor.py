"""The server interceptor that authenticates every RPC except health and reflection.

It reads ``authorization: Bearer <token>``, verifies the token (``auth_tokens.TokenVerifier``) and runs
the handler with the caller's Principal in a context variable (``auth.current_principal()``). A call
without a valid token never reaches the handler: UNAUTHENTICATED (UNAVAILABLE when the issuer's keys
cannot be read), with an ``ErrorInfo`` in the status details naming the reason, and no token contents
or personal data.

Installed after the observability interceptor, so refusals are counted and logged like other statuses:
``grpc.aio.server(interceptors=[ObservabilityInterceptor(), AuthenticationInterceptor(verifier)])``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.shared.auth import AuthReason, IssuerUnavailable, Principal, Unauthenticated, acting_as
from services.shared.auth_tokens import TokenVerifier
from services.shared.logging import get_logger

log = get_logger(__name__)

ERROR_DOMAIN = "auth.mentoring.platform"
# Services anyone may call: probes and tooling must work without a token and reveal nothing.
UNAUTHENTICATED_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]]


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The token of the one ``authorization: Bearer`` header; Unauthenticated when absent or malformed."""
    values = [value for key, value in metadata or () if key.lower() == "authorization"]
    if not values:
        raise Unauthenticated(AuthReason.MISSING_TOKEN, "the call carries no bearer token")
    if len(values) > 1:
        raise Unauthenticated(AuthReason.MALFORMED_TOKEN, "the call carries more than one authorization")
    value = values[0].decode("ascii", "replace") if isinstance(values[0], bytes) else values[0]
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(AuthReason.MALFORMED_TOKEN, "the authorization is not a bearer token")
    return token.strip()


def refusal_status(error: Unauthenticated) -> status_pb2.Status:
    """The rich status of a refused token: UNAUTHENTICATED (UNAVAILABLE when the issuer is) and why."""
    code = code_pb2.UNAVAILABLE if isinstance(error, IssuerUnavailable) else code_pb2.UNAUTHENTICATED
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=error.reason.value, domain=ERROR_DOMAIN))
    return status_pb2.Status(code=code, message=error.message, details=[detail])


class AuthenticationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(
        self, verifier: TokenVerifier, unauthenticated_services: frozenset[str] = UNAUTHENTICATED_SERVICES
    ) -> None:
        self._verifier = verifier
        self._open = unauthenticated_services

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        service_name, _, method_name = handler_call_details.method.lstrip("/").rpartition("/")
        handler = await continuation(handler_call_details)
        if handler is None or service_name in self._open:
            return handler  # type: ignore[return-value]  # None: grpc answers UNIMPLEMENTED
        try:
            token = bearer_token(handler_call_details.invocation_metadata)
            principal = await self._verifier.verify(token)
        except Unauthenticated as error:
            log.info(
                "rpc_unauthenticated", grpc_service=service_name, grpc_method=method_name, reason=error.reason
            )
            return _refusing(handler, refusal_status(error))
        return _as_principal(handler, principal)


def _as_principal(
    handler: grpc.RpcMethodHandler[Any, Any], principal: Principal
) -> grpc.RpcMethodHandler[Any, Any]:
    """The same handler, run with ``principal`` as the current caller."""
    if handler.unary_unary is not None:
        unary_unary = handler.unary_unary

        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            with acting_as(principal):
                return await unary_unary(request, context)  # type: ignore[arg-type]

        return _same_kind(handler, unary)
    if handler.stream_unary is not None:
        stream_unary = handler.stream_unary

        async def stream_in(requests: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            with acting_as(principal):
                return await stream_unary(requests, context)  # type: ignore[arg-type]

        return _same_kind(handler, stream_in)
    streaming = handler.unary_stream or handler.stream_stream

    async def stream_out(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        with acting_as(principal):
            async for response in streaming(request, context):  # type: ignore[arg-type, union-attr, misc]
                yield response

    return _same_kind(handler, stream_out)


def _refusing(
    handler: grpc.RpcMethodHandler[Any, Any], status: status_pb2.Status
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same kind that refuses the call with ``status``, without running the original."""
    refused = rpc_status.to_status(status)

    async def refuse(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(refused.code, refused.details, refused.trailing_metadata)

    if handler.unary_stream is not None or handler.stream_stream is not None:

        async def refuse_stream(
            _request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            await context.abort(refused.code, refused.details, refused.trailing_metadata)
            yield None  # pragma: no cover - abort raises

        return _same_kind(handler, refuse_stream)
    return _same_kind(handler, refuse)


def _same_kind(handler: grpc.RpcMethodHandler[Any, Any], behaviour: Any) -> grpc.RpcMethodHandler[Any, Any]:
    serialisation = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(behaviour, **serialisation)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(behaviour, **serialisation)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(behaviour, **serialisation)
    return grpc.stream_stream_rpc_method_handler(behaviour, **serialisation)
