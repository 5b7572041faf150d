"""What the audit trail needs to learn of a call at the gRPC edge, and the interceptor that learns it.

The observability interceptor (outermost) knows how every call ended, including one the authentication
interceptor refused; only inside the authentication interceptor is the caller known. So the outer one
opens a :class:`CallSeen` for the call (:func:`watch`) and :class:`CallerTap`, installed innermost,
fills in the caller and whether the RPC is audited before the handler runs. A refused token never reaches
the tap: such a call is recorded without a caller.

Whether an RPC is audited comes from its servicer's access table (``@guarded(ACCESS)`` puts it on the
class as ``access_table``): the generated ``add_...Servicer_to_server`` registers the servicer's bound
methods, whose ``__self__`` is the servicer. A handler that is no servicer's method (a generic handler)
or a servicer without a table is not audited; its refusals are still recorded.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

from services.shared.auth import Principal, principal_or_none
from services.shared.rpc_access import AccessTable

STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass
class CallSeen:
    caller: Principal | None = None
    audited: bool = False


_seen: contextvars.ContextVar[CallSeen | None] = contextvars.ContextVar("audit_call_seen", default=None)


def watch() -> tuple[CallSeen, contextvars.Token[CallSeen | None]]:
    """What :class:`CallerTap` will learn of the call about to run; :func:`unwatch` once it ended."""
    seen = CallSeen()
    return seen, _seen.set(seen)


def unwatch(token: contextvars.Token[CallSeen | None]) -> None:
    _seen.reset(token)


def is_audited(handler: grpc.RpcMethodHandler[Any, Any], grpc_service: str, method: str) -> bool:
    """The ``audited`` flag of the RPC's rule in the access table of the servicer behind ``handler``."""
    behaviour = handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    servicer = getattr(behaviour, "__self__", None)
    table = getattr(type(servicer), "access_table", None)
    if not isinstance(table, AccessTable) or table.service.full_name != grpc_service:
        return False
    rule = table.rules.get(method)
    return rule is not None and rule.audited


Continuation = Callable[[grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]]


class CallerTap(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Innermost interceptor: tells the call's :class:`CallSeen` who calls and whether it is audited."""

    def __init__(self) -> None:
        self._audited: dict[str, bool] = {}

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # type: ignore[return-value]  # streams are not audited (health, reflection)
        full_method = handler_call_details.method
        audited = self._audited.get(full_method)
        if audited is None:
            grpc_service, _, method = full_method.lstrip("/").rpartition("/")
            audited = self._audited[full_method] = is_audited(handler, grpc_service, method)
        inner = handler.unary_unary

        async def tapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            seen = _seen.get()
            if seen is not None:
                seen.caller = principal_or_none()
                seen.audited = audited
            return await inner(request, context)  # type: ignore[arg-type]

        return grpc.unary_unary_rpc_method_handler(
            tapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


TENANT_METADATA_KEYS = ("tenant", "x-tenant")


def metadata_tenant(metadata: Iterable[tuple[str, Any]] | None) -> str:
    """The tenant a call's metadata names (a service account names the tenant of its look-up there)."""
    for key, value in metadata or ():
        if key.lower() in TENANT_METADATA_KEYS and isinstance(value, str):
            return value[:100]
    return ""


def error_info_reason(status: status_pb2.Status) -> str:
    """The reason of the first ErrorInfo in a rich status's details; empty when it has none."""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


def reason_of_trailers(trailers: Iterable[tuple[str, Any]] | None) -> str:
    """The ErrorInfo reason of the rich status a handler aborted with (its trailing metadata)."""
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            return error_info_reason(status_pb2.Status.FromString(value))
    return ""
