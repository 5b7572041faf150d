"""Every RPC of the four services against every kind of caller, on the running platform with the demo
organisation played through it, with real tokens of the real Keycloak.

The cases are generated from the services' descriptors and their access tables (``access_table`` of
each servicer, services/*/entrypoints/access.py): a new RPC is in this matrix without a line here, and
one without a policy does not even start (the table refuses it). Per RPC:

- no token, an expired one, one for another audience, ``alg: none``, a forged signature: UNAUTHENTICATED;
- a role the table does not admit: PERMISSION_DENIED;
- a person of the same tenant outside the relationship (for RPCs open to employees): refused, or an
  answer that carries none of the relationship's ids;
- the same role in the OTHER tenant, with the demo tenant's ids (same employee ids, too): NOT_FOUND or
  PERMISSION_DENIED, or an answer of their own tenant that carries none of the demo's ids;
- the role the table admits, on the demo's own objects: never UNAUTHENTICATED, PERMISSION_DENIED or
  NOT_FOUND (a business rule may still refuse, e.g. accepting a match that is already active).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from mentoring.v1 import (
    common_pb2,
    enrollment_pb2,
    matching_pb2,
    notification_pb2,
    session_pb2,
    session_pb2_grpc,
)

from services.demo import HR_ADMIN
from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.matching.entrypoints.grpc_servicer import MatchingServicer
from services.notification.entrypoints.grpc_servicer import NotificationServicer
from services.session.entrypoints.grpc_servicer import SessionServicer
from services.shared.rpc_access import RpcAccess
from tests.support.identity import KeycloakTokens, bearer
from tests.support.keycloak import OTHER_AUDIENCE_CLIENT, SHORT_LIVED_CLIENT, Keycloak
from tests.support.platform import Played
from tests.support.signing import header, payload, unsigned

pytestmark = pytest.mark.integration

SERVICES: dict[str, tuple[Any, Any, str]] = {
    "mentoring.v1.EnrollmentService": (enrollment_pb2, EnrollmentServicer, "enrollment"),
    "mentoring.v1.MatchingService": (matching_pb2, MatchingServicer, "matching"),
    "mentoring.v1.SessionService": (session_pb2, SessionServicer, "session"),
    "mentoring.v1.NotificationService": (notification_pb2, NotificationServicer, "notification"),
}
METHODS: list[MethodDescriptor] = [
    method
    for full_name, (module, _, _) in SERVICES.items()
    for method in module.DESCRIPTOR.services_by_name[full_name.rsplit(".", 1)[1]].methods
]
BAD_TOKENS = ("none", "expired", "other_audience", "alg_none", "forged_signature")
REFUSED = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}
OTHER_TENANT = "globex"
STRANGER = "E0001"  # a demo employee outside the played relationship (checked below)


def rule_of(method: MethodDescriptor) -> RpcAccess:
    servicer = SERVICES[method.containing_service.full_name][1]
    table = servicer.access_table  # set by @guarded: a servicer without one fails here
    rule: RpcAccess = table.rules[method.name]
    return rule


@dataclass(frozen=True)
class Demo:
    """The demo's objects in tenant "demo": one relationship and everything around it."""

    program_id: str
    match_id: str
    mentor: str
    mentee: str
    mentee_enrollment_id: str
    mentor_enrollment_id: str
    session_id: str
    notification_id: str
    goal_id: str

    def relationship_ids(self) -> set[str]:
        return {
            self.match_id,
            self.session_id,
            self.notification_id,
            self.mentee_enrollment_id,
            self.mentor_enrollment_id,
        } - {""}

    def all_ids(self) -> set[str]:
        return self.relationship_ids() | {self.program_id}


@pytest.fixture(scope="module")
def demo(played: Played, tokens: KeycloakTokens) -> Demo:
    outcome = played.outcome
    match, session = outcome.activated, outcome.session
    assert match is not None and session is not None and outcome.inbox, "the demo played through"
    mentee = match.mentee_employee_ids[0]
    assert STRANGER not in {match.mentor_employee_id, *match.mentee_employee_ids}
    with played.processes["session"].channel() as channel:
        goals = session_pb2_grpc.SessionServiceStub(channel).ListGoals(
            session_pb2.ListGoalsRequest(match_id=match.match_id),
            metadata=bearer(tokens.person("demo", mentee)),
            timeout=30,
        )
    return Demo(
        program_id=outcome.run.program_id,
        match_id=match.match_id,
        mentor=match.mentor_employee_id,
        mentee=mentee,
        mentee_enrollment_id=match.mentee_enrollment_ids[0],
        mentor_enrollment_id=match.mentor_enrollment_id,
        session_id=session.session_id,
        notification_id=outcome.inbox[0].notification_id,
        goal_id=goals.goals[0].goal_id if goals.goals else "",
    )


def request_for(method: MethodDescriptor, demo: Demo, acting_for: str, tenant: str = "demo") -> Message:
    """A request of ``method`` naming the demo's objects, acting for ``acting_for``."""
    request = message_factory.GetMessageClass(method.input_type)()
    ids = {
        "program_id": demo.program_id,
        "match_id": demo.match_id,
        "session_id": demo.session_id,
        "goal_id": demo.goal_id,
        "notification_id": demo.notification_id,
        "enrollment_id": demo.mentee_enrollment_id,
        "mentee_enrollment_id": demo.mentee_enrollment_id,
        "mentor_enrollment_id": demo.mentor_enrollment_id,
        "mentor_employee_id": demo.mentor,
        "mentee_employee_id": demo.mentee,
        "employee_id": acting_for,
        "recipient_id": acting_for,
        "introducer_employee_id": acting_for,
        "hr_actor_id": "",
        "tenant": tenant,
        "request_id": f"matrix-{time.monotonic_ns()}",
    }
    for field in method.input_type.fields:
        if field.type != FieldDescriptor.TYPE_STRING:
            continue
        if field.is_repeated and field.name.endswith("_ids"):
            getattr(request, field.name).append(ids.get(field.name[:-1], ""))
        elif field.name in ids:
            setattr(request, field.name, ids[field.name])
    if method.name == "ScheduleSession":
        request.starts_at.FromSeconds(int(time.time()) + 30 * 86400)  # type: ignore[attr-defined]
        request.duration_minutes = 45  # type: ignore[attr-defined]
    if method.name == "CreateProgram":
        request.program.name = "Matrix program"  # type: ignore[attr-defined]
        request.program.format = common_pb2.PROGRAM_FORMAT_ONE_ON_ONE  # type: ignore[attr-defined]
    return request


@dataclass(frozen=True)
class Caller:
    name: str
    token: Callable[[], str]
    acting_for: str

    def metadata(self, tenant: str) -> tuple[tuple[str, str], ...]:
        """The token, and for a service (no tenant of its own) the tenant it acts in."""
        acts_in = (("tenant", tenant),) if self.name == "service" else ()
        return (*bearer(self.token()), *acts_in)


def admitted_caller(rule: RpcAccess, tokens: KeycloakTokens, demo: Demo, tenant: str = "demo") -> Caller:
    """Someone the rule admits: HR when HR may, else the relationship's mentee, else the service."""
    if "hr_admin" in rule.people:
        return Caller("hr", lambda: tokens.person(tenant, HR_ADMIN, "hr_admin"), demo.mentee)
    if rule.people:
        return Caller("member", lambda: tokens.person(tenant, demo.mentee), demo.mentee)
    return Caller("service", lambda: tokens.service(), demo.mentee)


def refused_caller(rule: RpcAccess, tokens: KeycloakTokens, demo: Demo) -> Caller | None:
    """Someone of the demo tenant in a role the rule does not admit (None when every caller may)."""
    if rule.people and "employee" not in rule.people:
        return Caller("plain employee", lambda: tokens.person("demo", demo.mentee), demo.mentee)
    if rule.people and not rule.services:
        return Caller("service account", lambda: tokens.service(), demo.mentee)
    if not rule.people:
        return Caller("hr admin", lambda: tokens.person("demo", HR_ADMIN, "hr_admin"), demo.mentee)
    return None


def call(played: Played, method: MethodDescriptor, request: Message, metadata: Any) -> Any:
    """Calls ``method``; returns the response, or the error."""
    service = SERVICES[method.containing_service.full_name][2]
    response_class = message_factory.GetMessageClass(method.output_type)
    with played.processes[service].channel() as channel:
        stub = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        try:
            return stub(request, metadata=metadata, timeout=60)
        except grpc.RpcError as error:
            return error


def code_of(outcome: Any) -> grpc.StatusCode:
    return outcome.code() if isinstance(outcome, grpc.RpcError) else grpc.StatusCode.OK  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="module")
def bad_tokens(keycloak: Keycloak, tokens: KeycloakTokens) -> Iterator[dict[str, str]]:
    real = tokens.person("demo", "E0002")
    expired = keycloak.password_token("demo-e0002", SHORT_LIVED_CLIENT)
    other_audience = keycloak.password_token("demo-e0002", OTHER_AUDIENCE_CLIENT)
    head, _, signature = real.split(".")
    tampered_body = unsigned({**payload(real), "tenant": OTHER_TENANT}).split(".")[1]
    time.sleep(max(0.0, payload(expired)["exp"] + 3 - time.time()))  # past exp and the 1 s leeway
    yield {
        "none": "",
        "expired": expired,
        "other_audience": other_audience,
        "alg_none": unsigned(payload(real), kid=header(real)["kid"]),
        "forged_signature": f"{head}.{tampered_body}.{signature}",
    }


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("method", METHODS, ids=lambda method: method.full_name)
def test_a_call_without_a_valid_token_is_unauthenticated(
    played: Played, demo: Demo, bad_tokens: dict[str, str], method: MethodDescriptor, kind: str
) -> None:
    token = bad_tokens[kind]
    metadata = bearer(token) if token else None
    outcome = call(played, method, request_for(method, demo, demo.mentee), metadata)
    assert code_of(outcome) == grpc.StatusCode.UNAUTHENTICATED, f"{kind}: {outcome}"


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method.full_name)
def test_a_role_the_table_does_not_admit_is_permission_denied(
    played: Played, demo: Demo, tokens: KeycloakTokens, method: MethodDescriptor
) -> None:
    caller = refused_caller(rule_of(method), tokens, demo)
    if caller is None:
        pytest.skip("every person and service may call it")
    outcome = call(played, method, request_for(method, demo, caller.acting_for), bearer(caller.token()))
    assert code_of(outcome) == grpc.StatusCode.PERMISSION_DENIED, f"{caller.name}: {outcome}"


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method.full_name)
def test_someone_outside_the_relationship_gets_none_of_it(
    played: Played, demo: Demo, tokens: KeycloakTokens, method: MethodDescriptor
) -> None:
    rule = rule_of(method)
    if "employee" not in rule.people:
        pytest.skip("not open to employees")
    request = request_for(method, demo, STRANGER)
    outcome = call(played, method, request, bearer(tokens.person("demo", STRANGER)))
    if code_of(outcome) not in REFUSED:
        leaked = {value for value in demo.relationship_ids() if value in str(outcome)}
        assert not leaked, f"a stranger was answered {code_of(outcome).name} with {leaked}"


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method.full_name)
def test_the_other_tenant_with_the_same_role_and_ids_gets_none_of_it(
    played: Played, demo: Demo, tokens: KeycloakTokens, method: MethodDescriptor
) -> None:
    rule = rule_of(method)
    caller = admitted_caller(rule, tokens, demo, OTHER_TENANT)
    tenant = OTHER_TENANT if caller.name == "service" else "demo"  # a service names the tenant it acts in
    request = request_for(method, demo, caller.acting_for, tenant)
    outcome = call(played, method, request, caller.metadata(tenant))
    code = code_of(outcome)
    if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
        return
    assert code != grpc.StatusCode.UNAUTHENTICATED, str(outcome)
    leaked = {value for value in demo.all_ids() if value in str(outcome)}
    assert not leaked, f"{OTHER_TENANT} was answered {code.name} with the demo's {leaked}"


@pytest.mark.parametrize("method", METHODS, ids=lambda method: method.full_name)
def test_the_admitted_role_reaches_its_own_objects(
    played: Played, demo: Demo, tokens: KeycloakTokens, method: MethodDescriptor
) -> None:
    caller = admitted_caller(rule_of(method), tokens, demo)
    outcome = call(played, method, request_for(method, demo, caller.acting_for), caller.metadata("demo"))
    assert code_of(outcome) not in REFUSED, f"{caller.name}: {outcome}"


def test_health_answers_without_a_token(played: Played) -> None:
    for process in played.processes.values():
        with process.channel() as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_every_rpc_of_every_service_is_in_the_matrix() -> None:
    assert len(METHODS) == sum(
        len(module.DESCRIPTOR.services_by_name[name.rsplit(".", 1)[1]].methods)
        for name, (module, _, _) in SERVICES.items()
    )
    for method in METHODS:
        assert rule_of(method).objects, f"{method.full_name}: the table says what the handler checks"
