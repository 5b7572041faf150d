"""Who may do what in the enrollment service, checked on the real process with real Keycloak tokens: for
every RPC a caller without the right role is PERMISSION_DENIED (with the reason), another tenant's object
is NOT_FOUND exactly like a missing one, the right caller succeeds; and two tenants whose people share
employee ids, swapping program and enrolment ids, see nothing of each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2

from services.shared.envelope import encode_binary, new_event
from services.shared.timestamps import timestamp
from tests.support.identity import KeycloakTokens, bearer, hr
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import scalar, wait_for

pytestmark = pytest.mark.integration

ACME, GLOBEX = "acme", "globex"
NOW = datetime.now(UTC)
DENIED, NOT_FOUND, OK = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OK
Metadata = tuple[tuple[str, str], ...]
Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


def hired(tenant: str, employee: str) -> Record:
    worker = events_pb2.WorkerRecord(
        employee_number=employee,
        name=f"{employee} of {tenant}",
        email=f"{employee.lower()}@{tenant}.example.com",
        grade=5,
        department="Engineering",
        hire_date=timestamp(NOW - timedelta(days=900)),
    )
    message = events_pb2.WorkerHired(
        change=events_pb2.WorkerChange(worker=worker, effective_time=timestamp(NOW))
    )
    event = new_event("mentoring.hris.worker.hired.v1", "test-hris", message, tenant=tenant)
    headers, value = encode_binary(event)
    return f"{tenant}:{employee}".encode(), value, headers


def program(name: str, managers: tuple[str, ...] = ()) -> common_pb2.Program:
    return common_pb2.Program(
        name=name,
        format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
        delivery=common_pb2.DELIVERY_REMOTE,
        enrollment_window=common_pb2.DateRange(
            start=timestamp(NOW - timedelta(days=1)), end=timestamp(NOW + timedelta(days=30))
        ),
        cohort=common_pb2.DateRange(
            start=timestamp(NOW + timedelta(days=40)), end=timestamp(NOW + timedelta(days=200))
        ),
        manager_ids=list(managers),
    )


@dataclass(frozen=True)
class Outcome:
    code: grpc.StatusCode
    reason: str = ""  # ErrorInfo.reason of a PERMISSION_DENIED
    shape: str = ""  # a NOT_FOUND's message and resource with the id asked for taken out


def outcome(call: Callable[[], object], asked_id: str = "") -> Outcome:
    try:
        call()
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        assert status is not None, "refusals carry rich details"
        reason, shape = "", ""
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
            elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
                resource = error_details_pb2.ResourceInfo()
                detail.Unpack(resource)
                shape = f"{status.message}|{resource.resource_type}|{resource.resource_name}"
        assert "example.com" not in status.message, "a refusal names no person"
        return Outcome(error.code(), reason, shape.replace(asked_id, "<id>") if asked_id else shape)  # type: ignore[attr-defined]
    return Outcome(OK)


def attempt(call: Callable[[str], object], object_id: str) -> Outcome:
    return outcome(partial(call, object_id), object_id)


class Callers:
    """Metadata for the people and services of the test, tokens from the real Keycloak."""

    def __init__(self, tokens: KeycloakTokens) -> None:
        self.tokens = tokens

    def person(self, tenant: str, employee_id: str, *roles: str) -> Metadata:
        return bearer(self.tokens.person(tenant, employee_id, *roles))

    def hr(self, tenant: str) -> Metadata:
        return bearer(hr(self.tokens, tenant))

    def notification(self, tenant: str = "") -> Metadata:
        named = (("tenant", tenant),) if tenant else ()
        return (*bearer(self.tokens.service("notification-service")), *named)


@pytest.fixture
def enrollment_service(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> Iterator[enrollment_pb2_grpc.EnrollmentServiceStub]:
    service = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap)
    with service, service.channel() as channel:
        yield enrollment_pb2_grpc.EnrollmentServiceStub(channel)


async def _directory(kafka_bootstrap: str, namespace: str, data_dir: Path) -> None:
    people = [hired(ACME, who) for who in ("E1", "E2", "PM1", "PM2")] + [hired(GLOBEX, "E1")]
    await produce_raw(kafka_bootstrap, namespace + "hris.worker.events.v1", people)
    database = data_dir / "enrollment.db"
    await wait_for(lambda: scalar(database, "SELECT count(*) FROM employees") == len(people), timeout=60)


async def test_every_rpc_refuses_the_wrong_role_hides_other_tenants_and_serves_the_right_caller(
    enrollment_service: enrollment_pb2_grpc.EnrollmentServiceStub,
    tokens: KeycloakTokens,
    kafka_bootstrap: str,
    namespace: str,
    data_dir: Path,
) -> None:
    await _directory(kafka_bootstrap, namespace, data_dir)
    stub, who = enrollment_service, Callers(tokens)
    e1, e2 = who.person(ACME, "E1"), who.person(ACME, "E2")
    pm1, pm2 = who.person(ACME, "PM1", "program_manager"), who.person(ACME, "PM2", "program_manager")
    acme_hr, globex_hr, globex_e1 = who.hr(ACME), who.hr(GLOBEX), who.person(GLOBEX, "E1")
    req = enrollment_pb2

    def create(metadata: Metadata, tenant: str = "", managers: tuple[str, ...] = ()) -> common_pb2.Program:
        request = req.CreateProgramRequest(tenant=tenant, program=program("Access", managers))
        return stub.CreateProgram(request, metadata=metadata)

    # CreateProgram: HR of the token's tenant only.
    assert outcome(lambda: create(e1, ACME)) == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    assert outcome(lambda: create(pm1, ACME)) == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    assert outcome(lambda: create(acme_hr, GLOBEX)) == Outcome(DENIED, "OTHER_TENANT")
    managed = create(acme_hr, "", ("PM1",))
    assert (managed.tenant, list(managed.manager_ids)) == (ACME, ["PM1"])
    pid = managed.program_id

    def on_program(metadata: Metadata, program_id: str, call: str) -> Outcome:
        requests = {
            "GetProgram": lambda: stub.GetProgram(
                req.GetProgramRequest(program_id=program_id), metadata=metadata
            ),
            "UpdateProgram": lambda: stub.UpdateProgram(
                req.UpdateProgramRequest(
                    program_id=program_id,
                    program=common_pb2.Program(description="Run by PM1"),
                    update_mask=field_mask_pb2.FieldMask(paths=["description"]),
                ),
                metadata=metadata,
            ),
            "ListParticipants": lambda: stub.ListParticipants(
                req.ListParticipantsRequest(program_id=program_id), metadata=metadata
            ),
            "CloseProgram": lambda: stub.CloseProgram(
                req.CloseProgramRequest(program_id=program_id), metadata=metadata
            ),
        }
        return outcome(requests[call], program_id)

    # Another tenant's program is NOT_FOUND exactly like a missing one; wrong roles are refused.
    for call in ("GetProgram", "UpdateProgram", "ListParticipants", "CloseProgram"):
        caller = globex_e1 if call == "GetProgram" else globex_hr
        assert on_program(caller, pid, call) == on_program(caller, "nope", call), call
        assert on_program(caller, pid, call).code is NOT_FOUND
    assert on_program(who.notification(ACME), pid, "GetProgram") == Outcome(DENIED, "SERVICE_NOT_ALLOWED")
    assert on_program(e1, pid, "UpdateProgram") == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    assert on_program(pm2, pid, "UpdateProgram") == Outcome(DENIED, "NOT_MANAGED")
    assert on_program(e1, pid, "ListParticipants") == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    assert on_program(pm2, pid, "ListParticipants") == Outcome(DENIED, "NOT_MANAGED")
    assert on_program(pm1, pid, "CloseProgram") == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    for caller in (e1, pm2, acme_hr):
        assert on_program(caller, pid, "GetProgram") == Outcome(OK)
    assert on_program(pm1, pid, "UpdateProgram") == Outcome(OK)
    assert stub.GetProgram(req.GetProgramRequest(program_id=pid), metadata=e1).description == "Run by PM1"
    handover = req.UpdateProgramRequest(
        program_id=pid,
        program=common_pb2.Program(manager_ids=["PM1", "PM2"]),
        update_mask=field_mask_pb2.FieldMask(paths=["manager_ids"]),
    )
    assert outcome(lambda: stub.UpdateProgram(handover, metadata=pm1)) == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    assert list(stub.UpdateProgram(handover, metadata=acme_hr).manager_ids) == ["PM1", "PM2"]
    handback = req.UpdateProgramRequest(
        program_id=pid,
        program=common_pb2.Program(manager_ids=["PM1"]),
        update_mask=field_mask_pb2.FieldMask(paths=["manager_ids"]),
    )
    stub.UpdateProgram(handback, metadata=acme_hr)

    # ListPrograms: any person, their tenant's programs only.
    listing = req.ListProgramsRequest
    assert outcome(lambda: stub.ListPrograms(listing(tenant=GLOBEX), metadata=e1)) == Outcome(
        DENIED, "OTHER_TENANT"
    )
    assert outcome(lambda: stub.ListPrograms(listing(), metadata=who.notification(ACME))) == Outcome(
        DENIED, "SERVICE_NOT_ALLOWED"
    )
    draft_program = program("Draft")
    draft_program.status = common_pb2.PROGRAM_STATUS_DRAFT
    draft = stub.CreateProgram(req.CreateProgramRequest(program=draft_program), metadata=acme_hr).program_id
    assert [p.program_id for p in stub.ListPrograms(listing(), metadata=e1).programs] == [pid]
    assert [p.program_id for p in stub.ListPrograms(listing(), metadata=pm2).programs] == [pid, draft]
    assert on_program(e1, draft, "GetProgram") == on_program(e1, "nope", "GetProgram")  # a draft: not yet
    assert on_program(e1, draft, "GetProgram").code is NOT_FOUND
    assert list(stub.ListPrograms(listing(tenant=GLOBEX), metadata=globex_e1).programs) == []

    # Enroll: an employee for themselves, HR for anyone of the tenant.
    def enrol(metadata: Metadata, employee_id: str, program_id: str = pid) -> enrollment_pb2.Enrollment:
        request = req.EnrollRequest(
            program_id=program_id, employee_id=employee_id, role=common_pb2.ROLE_MENTOR
        )
        return stub.Enroll(request, metadata=metadata)

    assert outcome(lambda: enrol(e1, "E2")) == Outcome(DENIED, "NOT_YOURS")
    assert outcome(lambda: enrol(pm1, "E2")) == Outcome(DENIED, "NOT_YOURS")
    assert outcome(lambda: enrol(globex_e1, "E1"), pid) == outcome(
        lambda: enrol(globex_e1, "E1", "nope"), "nope"
    )
    assert outcome(lambda: enrol(globex_e1, "E1")).code is NOT_FOUND
    mine = enrol(e1, "E1")
    theirs = enrol(acme_hr, "E2")
    assert (mine.employee_id, theirs.employee_id) == ("E1", "E2")
    eid = mine.enrollment_id

    def on_enrolment(metadata: Metadata, enrollment_id: str, call: str) -> Outcome:
        requests = {
            "GetEnrollment": lambda: stub.GetEnrollment(
                req.GetEnrollmentRequest(enrollment_id=enrollment_id), metadata=metadata
            ),
            "UpdateEnrollment": lambda: stub.UpdateEnrollment(
                req.UpdateEnrollmentRequest(
                    enrollment_id=enrollment_id, profile=common_pb2.Profile(capacity=2)
                ),
                metadata=metadata,
            ),
            "WithdrawEnrollment": lambda: stub.WithdrawEnrollment(
                req.WithdrawEnrollmentRequest(enrollment_id=enrollment_id), metadata=metadata
            ),
        }
        return outcome(requests[call], enrollment_id)

    for call in ("GetEnrollment", "UpdateEnrollment", "WithdrawEnrollment"):
        for caller in (globex_e1, globex_hr):  # globex's E1 is another person than acme's
            assert on_enrolment(caller, eid, call) == on_enrolment(caller, "nope", call), call
            assert on_enrolment(caller, eid, call).code is NOT_FOUND
        assert on_enrolment(e2, eid, call) == Outcome(DENIED, "NOT_YOURS"), call
        assert on_enrolment(who.notification(ACME), eid, call) == Outcome(DENIED, "SERVICE_NOT_ALLOWED")
    assert on_enrolment(pm2, eid, "GetEnrollment") == Outcome(DENIED, "NOT_MANAGED")
    assert on_enrolment(pm1, eid, "UpdateEnrollment") == Outcome(DENIED, "NOT_YOURS")
    for caller in (e1, acme_hr, pm1):
        assert on_enrolment(caller, eid, "GetEnrollment") == Outcome(OK)
    assert on_enrolment(e1, eid, "UpdateEnrollment") == Outcome(OK)
    assert on_enrolment(acme_hr, theirs.enrollment_id, "UpdateEnrollment") == Outcome(OK)
    participants = stub.ListParticipants(req.ListParticipantsRequest(program_id=pid), metadata=pm1)
    assert sorted(p.employee_id for p in participants.participants) == ["E1", "E2"]
    assert on_enrolment(acme_hr, theirs.enrollment_id, "WithdrawEnrollment") == Outcome(OK)
    assert on_enrolment(e1, eid, "WithdrawEnrollment") == Outcome(OK)

    # GetEmployeeContact: the notification service, in the tenant it names; no person, not even HR.
    contact = req.GetEmployeeContactRequest(employee_id="E2")
    for caller in (e1, acme_hr, (*acme_hr, ("tenant", ACME))):
        looked_up = partial(stub.GetEmployeeContact, contact, metadata=caller)
        assert outcome(looked_up) == Outcome(DENIED, "ROLE_NOT_ALLOWED")
    assert outcome(lambda: stub.GetEmployeeContact(contact, metadata=who.notification())) == Outcome(
        DENIED, "OTHER_TENANT"
    )
    assert (
        outcome(lambda: stub.GetEmployeeContact(contact, metadata=who.notification(GLOBEX))).code is NOT_FOUND
    )
    found = stub.GetEmployeeContact(contact, metadata=who.notification(ACME))
    assert found.email == "e2@acme.example.com"

    # CloseProgram, last: HR of the tenant.
    assert on_program(acme_hr, pid, "CloseProgram") == Outcome(OK)


ByIdCalls = list[Callable[[str], object]]


def by_id(
    stub: enrollment_pb2_grpc.EnrollmentServiceStub, person: Metadata, admin: Metadata
) -> tuple[ByIdCalls, ByIdCalls]:
    """Every RPC that names a program, then every one that names an enrolment, by a person and HR."""
    req = enrollment_pb2
    mentor = common_pb2.ROLE_MENTOR
    programs: ByIdCalls = [
        lambda i: stub.GetProgram(req.GetProgramRequest(program_id=i), metadata=person),
        lambda i: stub.GetProgram(req.GetProgramRequest(program_id=i), metadata=admin),
        lambda i: stub.ListParticipants(req.ListParticipantsRequest(program_id=i), metadata=admin),
        lambda i: stub.CloseProgram(req.CloseProgramRequest(program_id=i), metadata=admin),
        lambda i: stub.UpdateProgram(
            req.UpdateProgramRequest(program_id=i, program=common_pb2.Program(name="Taken over")),
            metadata=admin,
        ),
        lambda i: stub.Enroll(
            req.EnrollRequest(program_id=i, employee_id="E1", role=mentor), metadata=person
        ),
        lambda i: stub.Enroll(req.EnrollRequest(program_id=i, employee_id="E1", role=mentor), metadata=admin),
    ]
    enrolments: ByIdCalls = [
        lambda i: stub.GetEnrollment(req.GetEnrollmentRequest(enrollment_id=i), metadata=person),
        lambda i: stub.GetEnrollment(req.GetEnrollmentRequest(enrollment_id=i), metadata=admin),
        lambda i: stub.UpdateEnrollment(
            req.UpdateEnrollmentRequest(enrollment_id=i, profile=common_pb2.Profile(capacity=3)),
            metadata=person,
        ),
        lambda i: stub.WithdrawEnrollment(req.WithdrawEnrollmentRequest(enrollment_id=i), metadata=person),
        lambda i: stub.WithdrawEnrollment(req.WithdrawEnrollmentRequest(enrollment_id=i), metadata=admin),
    ]
    return programs, enrolments


async def test_two_tenants_swapping_ids_see_nothing_of_each_other(
    enrollment_service: enrollment_pb2_grpc.EnrollmentServiceStub,
    tokens: KeycloakTokens,
    kafka_bootstrap: str,
    namespace: str,
    data_dir: Path,
) -> None:
    await _directory(kafka_bootstrap, namespace, data_dir)
    stub, who, req = enrollment_service, Callers(tokens), enrollment_pb2
    sides = {}
    for tenant in (ACME, GLOBEX):
        person, admin = who.person(tenant, "E1"), who.hr(tenant)
        created = stub.CreateProgram(
            req.CreateProgramRequest(tenant=tenant, program=program(f"{tenant} program")), metadata=admin
        )
        enrolled = stub.Enroll(
            req.EnrollRequest(program_id=created.program_id, employee_id="E1", role=common_pb2.ROLE_MENTOR),
            metadata=person,
        )
        sides[tenant] = (person, admin, created.program_id, enrolled.enrollment_id)

    for mine, other in ((ACME, GLOBEX), (GLOBEX, ACME)):
        person, admin, _, _ = sides[mine]
        _, _, program_id, enrollment_id = sides[other]
        program_calls, enrolment_calls = by_id(stub, person, admin)
        for calls, asked in ((program_calls, program_id), (enrolment_calls, enrollment_id)):
            for call in calls:
                swapped = attempt(call, asked)
                assert swapped.code is NOT_FOUND and swapped == attempt(call, "nope"), (mine, swapped)
        listed = stub.ListPrograms(req.ListProgramsRequest(), metadata=person)
        assert [p.program_id for p in listed.programs] == [sides[mine][2]]

    # Nothing of the other side changed: each tenant's own program and enrolment are as they were.
    for person, _, program_id, enrollment_id in sides.values():
        kept = stub.GetProgram(req.GetProgramRequest(program_id=program_id), metadata=person)
        assert kept.status == common_pb2.PROGRAM_STATUS_OPEN and kept.name.endswith("program")
        enrolment = stub.GetEnrollment(req.GetEnrollmentRequest(enrollment_id=enrollment_id), metadata=person)
        assert enrolment.status == common_pb2.ENROLLMENT_STATUS_ACTIVE and enrolment.profile.capacity != 3
    acme_e1 = stub.GetEmployeeContact(
        req.GetEmployeeContactRequest(employee_id="E1"), metadata=who.notification(ACME)
    )
    globex_e1 = stub.GetEmployeeContact(
        req.GetEmployeeContactRequest(employee_id="E1"), metadata=who.notification(GLOBEX)
    )
    assert (acme_e1.email, globex_e1.email) == ("e1@acme.example.com", "e1@globex.example.com")
