"""Who may read and change an inbox, against the notification service as a real process on the real
broker, every call with a real token of the real Keycloak: per RPC, a request naming another person is
PERMISSION_DENIED (HR's too), another person's or another tenant's delivery is NOT_FOUND, the person
themselves is served. The same employee id lives in two tenants. The e-mail channel's contact look-up
goes to a real GrpcServer playing enrollment, which verifies the service's client-credentials token and
records who called, for which tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2, notification_pb2_grpc
from mentoring.v1 import notification_pb2 as pb

from services.notification.domain.model import Channel, notification_id
from services.notification.domain.templates import Template
from services.shared.auth import Principal, current_principal
from services.shared.auth_tokens import verifier_from_settings
from services.shared.config import ServiceSettings
from services.shared.envelope import CloudEvent, encode_binary, new_event
from services.shared.grpc_server import GrpcServer
from tests.support.identity import KeycloakTokens, Metadata, bearer, hr
from tests.support.kafka import produce_raw
from tests.support.keycloak import Keycloak
from tests.support.processes import ServiceProcess
from tests.support.waiting import rows, wait_for

pytestmark = pytest.mark.integration

MENTOR, MENTEE = "NA-MENTOR", "NA-MENTEE"  # of acme; globex has a MENTEE of its own (a namesake)
ENROLLMENT = enrollment_pb2.DESCRIPTOR.services_by_name["EnrollmentService"].full_name


@dataclass(frozen=True)
class LookUp:
    principal: Principal
    tenant: str
    employee_id: str


class RecordingDirectory(enrollment_pb2_grpc.EnrollmentServiceServicer):
    """Enrollment's contact look-up behind the real authenticating server: records each caller."""

    def __init__(self) -> None:
        self.look_ups: list[LookUp] = []

    async def GetEmployeeContact(  # noqa: N802 - the gRPC method name
        self, request: enrollment_pb2.GetEmployeeContactRequest, context: Any
    ) -> enrollment_pb2.EmployeeContact:
        tenant = dict(context.invocation_metadata()).get("tenant", "")
        self.look_ups.append(LookUp(current_principal(), tenant, request.employee_id))
        return enrollment_pb2.EmployeeContact(
            employee_id=request.employee_id,
            display_name="Someone",
            email=f"{request.employee_id.lower()}@{tenant}.example.com",
            status=common_pb2.EMPLOYEE_STATUS_ACTIVE,
        )


@dataclass
class Directory:
    target: str
    servicer: RecordingDirectory


@pytest.fixture
async def directory(keycloak: Keycloak) -> AsyncIterator[Directory]:
    servicer = RecordingDirectory()
    server = GrpcServer(
        "127.0.0.1",
        0,
        [lambda s: enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, s)],
        [ENROLLMENT],
        max_message_bytes=4 * 1024 * 1024,
        shutdown_grace_seconds=1,
        verifier=verifier_from_settings(ServiceSettings(MENTORING_AUTH_ISSUER=keycloak.issuer)),
    )
    await server.start()
    try:
        yield Directory(f"127.0.0.1:{server.port}", servicer)
    finally:
        await server.stop()


@dataclass(frozen=True)
class Callers:
    mentor: Metadata
    mentee: Metadata
    namesake: Metadata  # globex's MENTEE
    hr: Metadata  # acme's HR admin
    service: Metadata  # the notification service's own account


async def callers(tokens: KeycloakTokens) -> Callers:
    def fetch() -> Callers:
        return Callers(
            bearer(tokens.person("acme", MENTOR)),
            bearer(tokens.person("acme", MENTEE)),
            bearer(tokens.person("globex", MENTEE)),
            bearer(hr(tokens, "acme")),
            bearer(tokens.service("notification-service")),
        )

    return await asyncio.to_thread(fetch)


def record(event: CloudEvent, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers, value = encode_binary(event)
    return key.encode(), value, headers


async def refused(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str]:
    """The status code and ErrorInfo reason ("" without one) of a refused call."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    reason = ""
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            reason = info.reason
    return raised.value.code(), reason


DENIED = (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOURS")


def match_activated(tenant: str) -> CloudEvent:
    match = common_pb2.Match(
        match_id=f"na-m-{tenant}", program_id="", mentor_employee_id=MENTOR, mentee_employee_ids=[MENTEE]
    )
    return new_event(
        "mentoring.matching.match.activated.v1", "/t", events_pb2.MatchActivated(match=match), tenant=tenant
    )


def enrolled(tenant: str) -> CloudEvent:
    participant = common_pb2.Participant(
        enrollment_id=f"na-enr-{tenant}",
        program_id="na-prog",
        employee_id=MENTEE,
        role=common_pb2.ROLE_MENTEE,
    )
    return new_event(
        "mentoring.enrollment.participant.enrolled.v1",
        "/t",
        events_pb2.ParticipantEnrolled(participant=participant),
        tenant=tenant,
    )


async def produce(bootstrap: str, namespace: str) -> tuple[CloudEvent, CloudEvent]:
    """acme's match of MENTOR and MENTEE is activated; globex's MENTEE (a namesake) enrols."""
    activated, namesake_enrolled = match_activated("acme"), enrolled("globex")
    await produce_raw(bootstrap, namespace + "matching.events.v1", [record(activated, "na-m")])
    await produce_raw(bootstrap, namespace + "enrollment.events.v1", [record(namesake_enrolled, "na-p")])
    return activated, namesake_enrolled


def settled(database: Path, where: str, expected: int) -> Callable[[], bool]:
    query = f"SELECT count(*) FROM notifications WHERE state != 'pending' AND {where}"
    return lambda: database.exists() and int(rows(database, query)[0][0]) == expected


async def test_a_person_reads_and_changes_only_their_own_inbox_and_preferences(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    who = await callers(tokens)
    database = data_dir / "notification.db"
    with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap) as service:
        activated, namesake_enrolled = await produce(kafka_bootstrap, namespace)
        # Each of the three people: an in-app item and an e-mail (which fails: no directory here).
        await wait_for(settled(database, "1 = 1", 6), what="every delivery settled")
        ids = {
            (who_, channel): notification_id(event.id, employee, template, channel)
            for who_, event, employee, template in (
                ("mentor", activated, MENTOR, Template.MATCH_ACTIVATED),
                ("mentee", activated, MENTEE, Template.MATCH_ACTIVATED),
                ("namesake", namesake_enrolled, MENTEE, Template.ENROLLED),
            )
            for channel in (Channel.IN_APP, Channel.EMAIL)
        }
        mentor_item, mentor_email = ids["mentor", Channel.IN_APP], ids["mentor", Channel.EMAIL]
        mentee_item, mentee_email = ids["mentee", Channel.IN_APP], ids["mentee", Channel.EMAIL]

        async with grpc.aio.insecure_channel(service.grpc_target) as channel:
            stub = notification_pb2_grpc.NotificationServiceStub(channel)

            # ListInbox: the caller's own (recipient_id empty or theirs), in their tenant only.
            for someone in (who.mentee, who.hr):
                naming_mentor = pb.ListInboxRequest(recipient_id=MENTOR)
                assert await refused(stub.ListInbox(naming_mentor, metadata=someone)) == DENIED
            own = await stub.ListInbox(pb.ListInboxRequest(), metadata=who.mentee)
            assert [(item.notification_id, item.recipient_id) for item in own.items] == [
                (mentee_item, MENTEE)
            ]
            namesakes = await stub.ListInbox(pb.ListInboxRequest(recipient_id=MENTEE), metadata=who.namesake)
            assert [item.notification_id for item in namesakes.items] == [ids["namesake", Channel.IN_APP]]

            # MarkRead: naming another is refused; another person's or tenant's item is not found.
            naming = pb.MarkReadRequest(notification_id=mentor_item, recipient_id=MENTOR)
            for someone in (who.mentee, who.hr):
                assert await refused(stub.MarkRead(naming, metadata=someone)) == DENIED
            for someone, other in ((who.mentee, mentor_item), (who.namesake, mentee_item)):
                wanted = pb.MarkReadRequest(notification_id=other)
                assert (await refused(stub.MarkRead(wanted, metadata=someone)))[
                    0
                ] == grpc.StatusCode.NOT_FOUND
            read = await stub.MarkRead(pb.MarkReadRequest(notification_id=mentee_item), metadata=who.mentee)
            assert read.read
            unread = pb.ListInboxRequest(unread_only=True)
            still = await stub.ListInbox(unread, metadata=who.mentor)
            assert [item.notification_id for item in still.items] == [mentor_item], "refusals change nothing"
            assert (await stub.ListInbox(unread, metadata=who.namesake)).page.total_size == 1

            # GetPreferences / UpdatePreferences: the caller's own; a namesake's are their own.
            for someone in (who.mentee, who.hr):
                get = pb.GetPreferencesRequest(recipient_id=MENTOR)
                assert await refused(stub.GetPreferences(get, metadata=someone)) == DENIED
                update = pb.NotificationPreferences(recipient_id=MENTOR, email=False, in_app=False)
                assert await refused(stub.UpdatePreferences(update, metadata=someone)) == DENIED
            mentors = await stub.GetPreferences(pb.GetPreferencesRequest(), metadata=who.mentor)
            assert (mentors.recipient_id, mentors.email, mentors.in_app) == (MENTOR, True, True), "unchanged"
            wanted_preferences = pb.NotificationPreferences(
                email=False, in_app=True, muted_templates=["enrolled"]
            )
            changed = await stub.UpdatePreferences(wanted_preferences, metadata=who.mentee)
            assert (changed.recipient_id, changed.email) == (MENTEE, False)
            mine = await stub.GetPreferences(
                pb.GetPreferencesRequest(recipient_id=MENTEE), metadata=who.mentee
            )
            assert (mine.email, list(mine.muted_templates)) == (False, ["enrolled"])
            namesake = await stub.GetPreferences(pb.GetPreferencesRequest(), metadata=who.namesake)
            assert (namesake.recipient_id, namesake.email, list(namesake.muted_templates)) == (
                MENTEE,
                True,
                [],
            )

            # GetDeliveryStatus: a delivery to the caller only; anyone else's is not found, like a
            # missing one (ids derive from event and employee ids: a refusal would confirm one exists).
            for someone, other in (
                (who.mentee, mentor_email),
                (who.hr, mentor_email),
                (who.namesake, mentee_email),
            ):
                status_of_other = stub.GetDeliveryStatus(
                    pb.GetDeliveryStatusRequest(notification_id=other), metadata=someone
                )
                assert (await refused(status_of_other))[0] == grpc.StatusCode.NOT_FOUND
            status = await stub.GetDeliveryStatus(
                pb.GetDeliveryStatusRequest(notification_id=mentee_email), metadata=who.mentee
            )
            assert (status.notification_id, status.channel) == (mentee_email, "email")

            # No service account may call any of them.
            service_calls: list[Awaitable[Any]] = [
                stub.ListInbox(pb.ListInboxRequest(recipient_id=MENTEE), metadata=who.service),
                stub.GetPreferences(pb.GetPreferencesRequest(recipient_id=MENTEE), metadata=who.service),
                stub.GetDeliveryStatus(
                    pb.GetDeliveryStatusRequest(notification_id=mentee_email), metadata=who.service
                ),
            ]
            for call in service_calls:
                assert await refused(call) == (grpc.StatusCode.PERMISSION_DENIED, "SERVICE_NOT_ALLOWED")
        assert service.stop() == 0, service.log_tail()


async def test_the_contact_look_up_carries_the_services_own_token_and_the_tenant(
    kafka_bootstrap: str, namespace: str, data_dir: Path, directory: Directory
) -> None:
    database = data_dir / "notification.db"
    extra_env = {"MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": directory.target}
    with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, extra_env) as service:
        await produce(kafka_bootstrap, namespace)
        await wait_for(settled(database, "channel = 'email'", 3), what="every e-mail settled")
        emails = rows(
            database, "SELECT tenant, recipient_id, state FROM notifications WHERE channel = 'email'"
        )
        assert service.stop() == 0, service.log_tail()

    assert sorted(emails) == [
        ("acme", MENTEE, "delivered"),
        ("acme", MENTOR, "delivered"),
        ("globex", MENTEE, "delivered"),
    ]
    # The look-ups carried the notification service's own client-credentials token (verified by the
    # directory's server: a service account, no person) and named each recipient's tenant. An e-mail
    # about a match also looks its other people up (to name them), in the same tenant.
    look_ups = directory.servicer.look_ups
    assert sorted({(look_up.tenant, look_up.employee_id) for look_up in look_ups}) == [
        ("acme", MENTEE),
        ("acme", MENTOR),
        ("globex", MENTEE),
    ]
    for look_up in look_ups:
        caller = look_up.principal
        assert (caller.service, caller.tenant, caller.employee_id) == ("notification", None, None)
        assert "contact_lookup" in caller.roles and "employee" not in caller.roles
