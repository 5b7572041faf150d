"""gRPC server factory: health, reflection, authentication of every other RPC (auth_interceptor.py),
one interceptor for metrics, logging and error mapping, message size limits, and a graceful shutdown
that reports NOT_SERVING before it stops.

Request bytes that do not decode as the method's request message are refused with INVALID_ARGUMENT
(field ``request``), never UNKNOWN naming the parser's exception; a status echoes at most a short prefix
of what the caller sent (see ``services.shared.errors.shown``).

A call whose caller went away before its handler ended (deadline, cancellation) is counted with
DEADLINE_EXCEEDED or CANCELLED, never OK; a call refused by admission control (:class:`Overloaded`) is
RESOURCE_EXHAUSTED with a ``google.rpc.RetryInfo`` when a retry may succeed.

With an :class:`AuditTrail`, every call of an audited RPC and every refused call is recorded once it
ended (``audit.py``; the caller is learnt by ``audit_rpc.CallerTap``, installed innermost)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from services.shared.access import PermissionDenied
from services.shared.admission import Overloaded
from services.shared.audit import AuditTrail, Call
from services.shared.audit_rpc import (
    CallerTap,
    CallSeen,
    error_info_reason,
    metadata_tenant,
    reason_of_trailers,
    unwatch,
    watch,
)
from services.shared.auth_interceptor import ERROR_DOMAIN, AuthenticationInterceptor
from services.shared.auth_tokens import TokenVerifier
from services.shared.cancellation import CallerGone
from services.shared.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    shown,
)
from services.shared.logging import get_logger
from services.shared.metrics import GRPC_HANDLED, GRPC_HANDLING_SECONDS, GRPC_STARTED

log = get_logger(__name__)

Registrar = Callable[[grpc.aio.Server], None]

# The longest status message or detail description sent; what is longer is cut with an ellipsis (a
# backstop: messages name fields and rules, and echo callers' values only through ``shown``).
MAX_STATUS_TEXT = 512


class _Malformed:
    """What request bytes that do not decode as the method's message become: the handler refuses it."""

    __slots__ = ()


MALFORMED = _Malformed()


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """``deserializer`` returning :data:`MALFORMED` instead of raising, so the call gets INVALID_ARGUMENT.

    grpc.aio calls the request deserializer before any handler runs and answers UNKNOWN with the
    exception's class and text when it raises; this keeps that from the caller.
    """
    if deserializer is None:
        return None

    def deserialize(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except (DecodeError, ValueError):  # not the message, bad UTF-8, nested too deep
            return MALFORMED

    return deserialize


def status_of(error: DomainError) -> status_pb2.Status:
    """The rich gRPC status of a domain error: the code, and the field or rule at fault as details."""
    detail = any_pb2.Any()
    if isinstance(error, InvalidArgument):
        code = code_pb2.INVALID_ARGUMENT
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.message)
        ]
        violations += [
            error_details_pb2.BadRequest.FieldViolation(field=field, description=f"{field}: {text}")
            for field, text in error.more
        ]
        for violation in violations:
            violation.field = shown(violation.field, MAX_STATUS_TEXT)
            violation.description = shown(violation.description, MAX_STATUS_TEXT)
        detail.Pack(error_details_pb2.BadRequest(field_violations=violations))
    elif isinstance(error, FailedPrecondition):
        code = code_pb2.FAILED_PRECONDITION
        detail.Pack(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type="rule", subject=error.rule, description=shown(error.message, MAX_STATUS_TEXT)
                    )
                ]
            )
        )
    elif isinstance(error, PermissionDenied):
        code = code_pb2.PERMISSION_DENIED
        detail.Pack(error_details_pb2.ErrorInfo(reason=error.reason.value, domain=ERROR_DOMAIN))
    elif isinstance(error, NotFound | AlreadyExists):
        code = code_pb2.NOT_FOUND if isinstance(error, NotFound) else code_pb2.ALREADY_EXISTS
        detail.Pack(
            error_details_pb2.ResourceInfo(
                resource_type=error.entity,
                resource_name=shown(error.entity_id),
                description=shown(error.message, MAX_STATUS_TEXT),
            )
        )
    else:
        code = code_pb2.FAILED_PRECONDITION
        detail.Pack(error_details_pb2.ErrorInfo(reason=type(error).__name__))
    return status_pb2.Status(code=code, message=shown(error.message, MAX_STATUS_TEXT), details=[detail])


def overloaded_status(error: Overloaded) -> status_pb2.Status:
    """RESOURCE_EXHAUSTED, with a RetryInfo when a retry may succeed."""
    details = []
    if error.retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(round(error.retry_after_seconds * 1e9))
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
        details.append(detail)
    return status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message=error.message, details=details)


def _deadline_passed(context: grpc.aio.ServicerContext[Any, Any]) -> bool:
    remaining = context.time_remaining()
    return remaining is not None and remaining <= 0


def _unfinished_code(context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    """The status of a call that ended before its handler did: its deadline passed, or it was cancelled."""
    return grpc.StatusCode.DEADLINE_EXCEEDED if _deadline_passed(context) else grpc.StatusCode.CANCELLED


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts and times every unary RPC, maps domain errors to statuses with details, and hands how each
    call ended to the audit trail, if there is one."""

    def __init__(self, audit: AuditTrail | None = None) -> None:
        self._audit = audit

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        service_name, method_name = _split_method(handler_call_details.method)
        inner = handler.unary_unary

        async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            GRPC_STARTED.labels("unary", service_name, method_name).inc()
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            reason = ""
            seen, watched = watch()
            try:
                if request is MALFORMED:
                    raise InvalidArgument("request", f"is not a valid {method_name} request message")
                response = await inner(request, context)  # type: ignore[arg-type]
                if context.cancelled() or _deadline_passed(context):  # an answer nobody receives
                    code = _unfinished_code(context)
                return response
            except DomainError as error:
                rich = status_of(error)
                reason = error_info_reason(rich)
                status = rpc_status.to_status(rich)
                code = status.code
                await context.abort(status.code, status.details, status.trailing_metadata)
            except Overloaded as error:
                status = rpc_status.to_status(overloaded_status(error))
                code = status.code
                await context.abort(status.code, status.details, status.trailing_metadata)
            except (asyncio.CancelledError, CallerGone):
                # The caller went away (deadline, cancellation) before the work ended: never counted OK.
                code = _unfinished_code(context)
                raise
            except NotImplementedError:
                code = grpc.StatusCode.UNIMPLEMENTED
                await context.abort(code, f"{method_name} is not implemented yet")
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                reason = reason_of_trailers(context.trailing_metadata())  # e.g. a refused token's
                raise
            except Exception:
                code = grpc.StatusCode.INTERNAL
                log.exception("rpc_failed", grpc_method=method_name)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                GRPC_HANDLING_SECONDS.labels("unary", service_name, method_name).observe(
                    time.perf_counter() - started
                )
                GRPC_HANDLED.labels("unary", service_name, method_name, code.name).inc()
                unwatch(watched)
                self._record(service_name, method_name, request, code, reason, seen, context)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )

    def _record(
        self,
        service_name: str,
        method_name: str,
        request: Any,
        code: grpc.StatusCode,
        reason: str,
        seen: CallSeen,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        if self._audit is None:
            return
        try:
            call = Call(
                grpc_service=service_name,
                grpc_method=method_name,
                outcome=code.name,
                reason=reason,
                caller=seen.caller,
                request=None if request is MALFORMED else request,
                audited=seen.audited,
                metadata_tenant=metadata_tenant(context.invocation_metadata()),
            )
        except Exception as error:  # noqa: BLE001 -- the call's answer never depends on its record
            self._audit.lost("build_error", 1, error)
            return
        self._audit.record(call)


def _split_method(full_method: str) -> tuple[str, str]:
    service_name, _, method_name = full_method.lstrip("/").rpartition("/")
    return service_name, method_name


class GrpcServer:
    """A grpc.aio server with health and reflection for the given services. Every other RPC is
    authenticated by ``verifier`` (there is no server without it). With ``audit``, audited RPCs and
    refused calls are recorded in that trail."""

    def __init__(
        self,
        host: str,
        port: int,
        registrars: Iterable[Registrar],
        service_names: Iterable[str],
        max_message_bytes: int,
        shutdown_grace_seconds: float,
        verifier: TokenVerifier,
        audit: AuditTrail | None = None,
    ) -> None:
        options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        interceptors: list[grpc.aio.ServerInterceptor] = [  # type: ignore[type-arg]
            ObservabilityInterceptor(audit),
            AuthenticationInterceptor(verifier),
        ]
        if audit is not None:
            interceptors.append(CallerTap())  # innermost: the caller is known only past authentication
        self.server = grpc.aio.server(interceptors=interceptors, options=options)
        self.health = HealthServicer()
        self._service_names = tuple(service_names)
        self._grace = shutdown_grace_seconds
        for register in registrars:
            register(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (
                *self._service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self.server,
        )
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        self.host = host

    async def start(self) -> None:
        await self.server.start()
        await self.set_serving(True)

    async def set_serving(self, serving: bool) -> None:
        """Report whether the service can do its work (ignored once shutting down)."""
        response = health_pb2.HealthCheckResponse
        status = response.SERVING if serving else response.NOT_SERVING
        for name in ("", *self._service_names):
            await self.health.set(name, status)

    async def stop(self) -> None:
        """Report NOT_SERVING first, so balancers drain us, then finish in-flight calls within the grace."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self._grace)
