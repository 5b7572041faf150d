"""Bad input is refused, not trimmed, at the gRPC edge of all four services (issue 11, point 6).

The four servicers run in this process, each on its own SQLite file behind the real shared
``GrpcServer``, and the tests call them over real channels:
- every string field of every request of every RPC (nested and repeated ones included, enumerated from
  the ``mentoring.v1`` descriptors, so a field added to a contract is tested without a line here) with a
  value over every limit: INVALID_ARGUMENT naming that field's path and its limit, echoing none of it;
- request bytes that are not the method's message: INVALID_ARGUMENT, not UNKNOWN naming a parser class;
- ids of 1 MB and of 128 characters that name nothing: the status echoes at most a short prefix;
- required ids left empty: INVALID_ARGUMENT naming the id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from mentoring.v1 import enrollment_pb2, matching_pb2, notification_pb2, session_pb2

from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.matching.entrypoints.grpc_servicer import MatchingServicer
from services.notification.entrypoints.grpc_servicer import NotificationServicer
from services.session.entrypoints.grpc_servicer import SessionServicer
from services.shared.auth_client import BearerTokenInterceptor
from services.shared.auth_tokens import verifier_from_settings
from services.shared.config import ServiceSettings
from tests.support.identity import KeycloakTokens
from tests.support.inprocess import Running, four_services
from tests.support.keycloak import Keycloak

pytestmark = pytest.mark.integration

SERVICES = (
    enrollment_pb2.DESCRIPTOR.services_by_name["EnrollmentService"],
    matching_pb2.DESCRIPTOR.services_by_name["MatchingService"],
    session_pb2.DESCRIPTOR.services_by_name["SessionService"],
    notification_pb2.DESCRIPTOR.services_by_name["NotificationService"],
)
SERVICERS: dict[str, Any] = {
    "mentoring.v1.EnrollmentService": EnrollmentServicer,
    "mentoring.v1.MatchingService": MatchingServicer,
    "mentoring.v1.SessionService": SessionServicer,
    "mentoring.v1.NotificationService": NotificationServicer,
}
OVER_ANY_LIMIT = 20_000  # characters: more than the longest text any request field may carry
LONGEST_ECHO = 64 + 1  # a prefix of 64 characters and an ellipsis
MAX_STATUS_BYTES = 2048  # message plus serialized details: a status never carries the caller's value


@dataclass(frozen=True)
class StringField:
    method: MethodDescriptor
    steps: tuple[tuple[FieldDescriptor, bool], ...]  # (field, repeated) from the request down

    @property
    def path(self) -> str:
        return ".".join(f.name + ("[0]" if repeated else "") for f, repeated in self.steps)

    def __str__(self) -> str:
        return f"{self.method.full_name}:{self.path}"


def _string_fields(
    method: MethodDescriptor, message: Descriptor, above: tuple[tuple[FieldDescriptor, bool], ...] = ()
) -> list[StringField]:
    found: list[StringField] = []
    for field in message.fields:
        repeated = field.is_repeated
        steps = (*above, (field, repeated))
        if field.type == FieldDescriptor.TYPE_STRING:
            found.append(StringField(method, steps))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and len(steps) < 8:
            found.extend(_string_fields(method, field.message_type, steps))
    return found


STRING_FIELDS = [
    field
    for service in SERVICES
    for method in service.methods
    for field in _string_fields(method, method.input_type)
]


def _request_class(method: MethodDescriptor) -> type[Message]:
    return message_factory.GetMessageClass(method.input_type)


def _plausible(method: MethodDescriptor, *, leaving: str = "") -> Message:
    """A request whose top-level ids (and tenant) are filled in, except ``leaving``: they name nothing."""
    request = _request_class(method)()
    for field in method.input_type.fields:
        if field.name == leaving or field.type != FieldDescriptor.TYPE_STRING:
            continue
        if field.name == "tenant":
            request.tenant = "acme"  # type: ignore[attr-defined]
        elif field.name.endswith("_id"):
            setattr(request, field.name, f"unknown-{field.name}")
        elif field.name.endswith("_ids"):
            getattr(request, field.name).append(f"unknown-{field.name}")
    return request


def _with_value(field: StringField, value: str) -> Message:
    request = _plausible(field.method, leaving=field.steps[0][0].name)
    node: Any = request
    for index, (descriptor, repeated) in enumerate(field.steps):
        last = index == len(field.steps) - 1
        container = getattr(node, descriptor.name)
        if last:
            if repeated:
                container.append(value)
            else:
                setattr(node, descriptor.name, value)
        else:
            node = container.add() if repeated else container
    return request


def _call(target: str, method: MethodDescriptor) -> grpc.aio.UnaryUnaryMultiCallable[Any, Any]:
    """The method, called by someone its access table lets in (the limits are checked after that)."""
    token = _TOKENS[method.full_name]

    async def bearer() -> str:
        return token

    channel = grpc.aio.insecure_channel(target, interceptors=[BearerTokenInterceptor(bearer)])
    _CHANNELS.append(channel)
    return channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=lambda raw: raw,
    )


_CHANNELS: list[grpc.aio.Channel] = []
_TOKENS: dict[str, str] = {}


def _token_for(tokens: KeycloakTokens, method: MethodDescriptor) -> str:
    """A caller of tenant "acme" (the tenant of the plausible requests) in a role the RPC admits."""
    rule = SERVICERS[method.containing_service.full_name].access_table.rules[method.name]
    if not rule.people:
        return tokens.service()
    for role in ("hr_admin", "employee", "program_manager"):
        if role in rule.people:
            return tokens.person("acme", "A0001", *([] if role == "employee" else [role]))
    raise AssertionError(f"{method.full_name}: no test caller for roles {sorted(rule.people)}")


@pytest.fixture(scope="module")
async def running(
    tmp_path_factory: pytest.TempPathFactory, keycloak: Keycloak, tokens: KeycloakTokens
) -> AsyncIterator[Running]:
    data_dir: Path = tmp_path_factory.mktemp("limits")
    for service in SERVICES:
        for method in service.methods:
            _TOKENS[method.full_name] = _token_for(tokens, method)
    verifier = verifier_from_settings(ServiceSettings(MENTORING_AUTH_ISSUER=keycloak.issuer))
    async with four_services(data_dir, verifier) as services:
        yield services
        for channel in _CHANNELS:
            await channel.close()


async def _refusal(target: str, method: MethodDescriptor, request: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _call(target, method)(request, timeout=30)
    return raised.value


def _violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"{error.code()} {error.details()!r} carries no rich status"
    found: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found.update({v.field: v.description for v in bad_request.field_violations})
    return found


def _status_size(error: grpc.aio.AioRpcError) -> int:
    trailers = dict(error.trailing_metadata() or ())
    details = trailers.get("grpc-status-details-bin", b"")
    return len((error.details() or "").encode()) + len(
        details if isinstance(details, bytes) else details.encode()
    )


def test_every_string_field_of_every_rpc_is_enumerated() -> None:
    # The descriptors are the source of the cases: a sample of fields that must be among them.
    names = {str(field) for field in STRING_FIELDS}
    for expected in (
        "mentoring.v1.EnrollmentService.Enroll:profile.goals[0].skill_tags[0]",
        "mentoring.v1.EnrollmentService.UpdateProgram:update_mask.paths[0]",
        "mentoring.v1.MatchingService.EndMatch:reason",
        "mentoring.v1.MatchingService.IntroduceColleague:note",
        "mentoring.v1.SessionService.SetGoal:goal.what",
        "mentoring.v1.NotificationService.UpdatePreferences:muted_templates[0]",
    ):
        assert expected in names
    # Every RPC whose request has fields (an empty request, e.g. GetTenantDefaults, has no string).
    assert {field.method.full_name for field in STRING_FIELDS} == {
        method.full_name for service in SERVICES for method in service.methods if method.input_type.fields
    }


@pytest.mark.parametrize("field", STRING_FIELDS, ids=str)
async def test_an_over_limit_string_is_refused_naming_its_field(running: Running, field: StringField) -> None:
    target = running.targets[field.method.containing_service.full_name]
    error = await _refusal(target, field.method, _with_value(field, "x" * OVER_ANY_LIMIT))
    violations = _violations(error)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), (error.details() or "")[:200])
    assert field.path in violations, (field.path, list(violations)[:5])
    assert "at most" in violations[field.path], violations[field.path]
    assert "x" * LONGEST_ECHO not in (error.details() or ""), "the status echoes the value"
    assert _status_size(error) < MAX_STATUS_BYTES


BAD_UTF8 = b"\x0a\x02\xff\xfe"  # field 1, length 2, not UTF-8


@pytest.mark.parametrize(
    "raw",
    [b"\x0a\x05ab", BAD_UTF8, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"],
    ids=["truncated", "bad-utf8", "bad-varint"],
)
@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
async def test_malformed_request_bytes_are_invalid_argument(
    running: Running, service: Any, raw: bytes
) -> None:
    for method in service.methods:
        if raw == BAD_UTF8 and not method.input_type.fields:
            continue  # to an empty request, field 1 is an unknown field: well-formed bytes
        channel = grpc.aio.insecure_channel(running.targets[service.full_name])
        try:
            call = channel.unary_unary(
                f"/{service.full_name}/{method.name}",
                request_serializer=lambda payload: payload,
                response_deserializer=lambda payload: payload,
            )
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await call(raw, timeout=30)
        finally:
            await channel.close()
        error = raised.value
        text = error.details() or ""
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (method.full_name, error.code(), text)
        assert "request" in _violations(error), method.full_name
        for internal in ("DecodeError", "class", "Error parsing", "google.protobuf"):
            assert internal not in text, (method.full_name, text)


ONE_MEGABYTE = 1024 * 1024
LOOK_UPS = [
    ("mentoring.v1.EnrollmentService", "GetProgram", "program_id"),
    ("mentoring.v1.EnrollmentService", "GetEnrollment", "enrollment_id"),
    ("mentoring.v1.MatchingService", "GetMatch", "match_id"),
    ("mentoring.v1.SessionService", "CancelSession", "session_id"),
    ("mentoring.v1.NotificationService", "GetDeliveryStatus", "notification_id"),
]


def _method(full_service: str, name: str) -> MethodDescriptor:
    service = next(service for service in SERVICES if service.full_name == full_service)
    return service.methods_by_name[name]


@pytest.mark.parametrize(("service", "method_name", "field"), LOOK_UPS)
async def test_a_one_megabyte_id_is_not_echoed(
    running: Running, service: str, method_name: str, field: str
) -> None:
    method = _method(service, method_name)
    request = _request_class(method)(**{field: "z" * ONE_MEGABYTE})
    error = await _refusal(running.targets[service], method, request)
    assert error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), error.code()
    assert _status_size(error) < MAX_STATUS_BYTES, _status_size(error)
    assert "z" * LONGEST_ECHO not in (error.details() or "")


@pytest.mark.parametrize(("service", "method_name", "field"), LOOK_UPS)
async def test_not_found_echoes_a_short_prefix_of_the_id(
    running: Running, service: str, method_name: str, field: str
) -> None:
    method = _method(service, method_name)
    unknown = "u" * 128  # as long as an id may be
    error = await _refusal(running.targets[service], method, _request_class(method)(**{field: unknown}))
    assert error.code() == grpc.StatusCode.NOT_FOUND, (error.code(), (error.details() or "")[:200])
    text = error.details() or ""
    assert "u" * 64 + "\u2026" in text, text
    assert "u" * LONGEST_ECHO not in text, text
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
            info = error_details_pb2.ResourceInfo()
            detail.Unpack(info)
            assert len(info.resource_name) <= LONGEST_ECHO, info.resource_name


# Each RPC's ids without which it means nothing; the others are filled in (and name nothing).
REQUIRED = [
    ("mentoring.v1.EnrollmentService", "GetProgram", "program_id"),
    ("mentoring.v1.EnrollmentService", "UpdateProgram", "program_id"),
    ("mentoring.v1.EnrollmentService", "CloseProgram", "program_id"),
    ("mentoring.v1.EnrollmentService", "Enroll", "program_id"),
    ("mentoring.v1.EnrollmentService", "Enroll", "employee_id"),
    ("mentoring.v1.EnrollmentService", "UpdateEnrollment", "enrollment_id"),
    ("mentoring.v1.EnrollmentService", "WithdrawEnrollment", "enrollment_id"),
    ("mentoring.v1.EnrollmentService", "GetEnrollment", "enrollment_id"),
    ("mentoring.v1.EnrollmentService", "ListParticipants", "program_id"),
    ("mentoring.v1.EnrollmentService", "GetEmployeeContact", "employee_id"),
    ("mentoring.v1.MatchingService", "RunMatching", "program_id"),
    ("mentoring.v1.MatchingService", "PreviewMatching", "program_id"),
    ("mentoring.v1.MatchingService", "GetMatch", "match_id"),
    ("mentoring.v1.MatchingService", "AcceptMatch", "match_id"),
    ("mentoring.v1.MatchingService", "EndMatch", "match_id"),
    ("mentoring.v1.MatchingService", "CreateManualMatch", "program_id"),
    ("mentoring.v1.MatchingService", "CreateManualMatch", "mentor_enrollment_id"),
    ("mentoring.v1.MatchingService", "CreateManualMatch", "mentee_enrollment_ids"),
    ("mentoring.v1.MatchingService", "RequestNominatedMentor", "program_id"),
    ("mentoring.v1.MatchingService", "RequestNominatedMentor", "mentee_enrollment_id"),
    ("mentoring.v1.MatchingService", "RequestNominatedMentor", "mentor_employee_id"),
    ("mentoring.v1.SessionService", "ScheduleSession", "match_id"),
    ("mentoring.v1.SessionService", "CompleteSession", "session_id"),
    ("mentoring.v1.SessionService", "CancelSession", "session_id"),
    ("mentoring.v1.SessionService", "SetGoal", "match_id"),
    ("mentoring.v1.SessionService", "RecordGoalProgress", "goal_id"),
    ("mentoring.v1.SessionService", "SubmitFeedback", "session_id"),
    ("mentoring.v1.SessionService", "SubmitFeedback", "employee_id"),
    ("mentoring.v1.NotificationService", "MarkRead", "notification_id"),
    ("mentoring.v1.NotificationService", "GetDeliveryStatus", "notification_id"),
]


@pytest.mark.parametrize(("service", "method_name", "field"), REQUIRED)
async def test_an_empty_required_id_is_invalid_argument(
    running: Running, service: str, method_name: str, field: str
) -> None:
    method = _method(service, method_name)
    request = _plausible(method, leaving=field)
    error = await _refusal(running.targets[service], method, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    assert field in _violations(error), (field, error.details())


async def test_an_over_long_tenant_in_call_metadata_is_invalid_argument(running: Running) -> None:
    method = _method("mentoring.v1.EnrollmentService", "GetEmployeeContact")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _call(running.targets["mentoring.v1.EnrollmentService"], method)(
            enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"),
            metadata=(("tenant", "t" * 1000),),
            timeout=30,
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert "tenant" in _violations(raised.value)
