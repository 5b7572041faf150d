"""The enrollment service's gRPC API as a real process on the real broker and a real SQLite file: every
RPC, every error status with the field or rule it names, idempotent creates, paging, the contact
look-up, and the events that reach enrollment.events.v1. Calls carry real Keycloak tokens: HR of the
tenant, and the notification service for the contact look-up (access itself: test_enrollment_access.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2

from services.shared.envelope import decode, encode_binary, new_event
from services.shared.timestamps import timestamp
from tests.support.grpc_errors import rpc_error
from tests.support.identity import KeycloakTokens, bearer, hr
from tests.support.kafka import produce_raw, read_topic
from tests.support.processes import ServiceProcess
from tests.support.waiting import scalar, wait_for

pytestmark = pytest.mark.integration

# The service's own events (its outbox also carries the audit trail's records, on audit.events.v1).
ENROLLMENT_EVENTS_IN_OUTBOX = "SELECT event_id FROM outbox WHERE topic = 'enrollment.events.v1'"

TENANT = "acme"
NOW = datetime.now(UTC)


def hired(employee: str, **fields: object) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    worker = events_pb2.WorkerRecord(employee_number=employee, **fields)  # type: ignore[arg-type]
    message = events_pb2.WorkerHired(
        change=events_pb2.WorkerChange(worker=worker, effective_time=timestamp(NOW))
    )
    event = new_event("mentoring.hris.worker.hired.v1", "test-hris", message, tenant=TENANT)
    headers, value = encode_binary(event)
    return f"{TENANT}:{employee}".encode(), value, headers


def program(**fields: object) -> common_pb2.Program:
    values: dict[str, object] = {
        "name": "Engineering mentoring",
        "format": common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
        "delivery": common_pb2.DELIVERY_REMOTE,
        "enrollment_window": common_pb2.DateRange(
            start=timestamp(NOW - timedelta(days=1)), end=timestamp(NOW + timedelta(days=30))
        ),
        "cohort": common_pb2.DateRange(
            start=timestamp(NOW + timedelta(days=40)), end=timestamp(NOW + timedelta(days=200))
        ),
    }
    return common_pb2.Program(**(values | fields))  # type: ignore[arg-type]


INVALID, PRECONDITION = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND, EXISTS = grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS
GOAL = common_pb2.Goal(
    what="Lead a review", metric="reviews", target="2", due=timestamp(NOW + timedelta(days=100))
)


async def test_every_rpc_and_every_error_status(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    long_ago, recently = timestamp(NOW - timedelta(days=900)), timestamp(NOW - timedelta(days=3))
    employees = [
        hired("M1", name="Mia Manager", email="mia@example.com", grade=9, department="Engineering",
              timezone="Europe/Berlin", hire_date=long_ago),
        hired("E1", manager="M1", name="Eve Engineer", email="eve@example.com", grade=5,
              department="Engineering", timezone="Europe/Paris", hire_date=long_ago),
        hired("E2", manager="M1", name="Sam Sales", email="sam@example.com", grade=5, department="Sales",
              hire_date=long_ago),
        hired("E3", manager="M1", name="Nia New", email="nia@example.com", grade=5, department="Engineering",
              hire_date=recently),
        hired("E4", manager="E1", name="Jo Junior", email="jo@example.com", grade=1, department="Engineering",
              hire_date=long_ago),
    ]  # fmt: skip
    with ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap) as service:
        await produce_raw(kafka_bootstrap, namespace + "hris.worker.events.v1", employees)
        database = data_dir / "enrollment.db"
        await wait_for(lambda: scalar(database, "SELECT count(*) FROM employees") == 5, timeout=30)
        with service.channel(lambda: hr(tokens, TENANT)) as channel:
            stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)

            # --- programs ---
            create = enrollment_pb2.CreateProgramRequest
            # The tenant is the token's: a request naming another is refused.
            assert rpc_error(lambda: stub.CreateProgram(create(tenant="globex", program=program())))[0] == (
                grpc.StatusCode.PERMISSION_DENIED
            )
            assert rpc_error(
                lambda: stub.CreateProgram(create(tenant=TENANT, program=program(format=0)))
            ) == (INVALID, "program.format")
            assert rpc_error(
                lambda: stub.CreateProgram(
                    create(
                        tenant=TENANT,
                        program=program(mentor_capacity_default=4, mentor_cap_across_programs=2),
                    )
                )
            ) == (INVALID, "program.mentor_cap_across_programs")
            assert rpc_error(
                lambda: stub.CreateProgram(create(tenant=TENANT, program=program(format=2)))
            ) == (INVALID, "program.group_size")
            backwards = common_pb2.DateRange(start=timestamp(NOW), end=timestamp(NOW - timedelta(days=1)))
            assert rpc_error(
                lambda: stub.CreateProgram(
                    create(tenant=TENANT, program=program(enrollment_window=backwards))
                )
            ) == (INVALID, "program.enrollment_window.end")

            formal = stub.CreateProgram(
                create(
                    tenant=TENANT,
                    program=program(
                        formal=True,
                        eligibility=common_pb2.Eligibility(
                            departments=["Engineering"], min_grade=3, min_tenure_days=30
                        ),
                    ),
                    request_id="create-formal",
                )
            )
            assert formal.program_id and formal.status == common_pb2.PROGRAM_STATUS_OPEN
            again = stub.CreateProgram(
                create(
                    tenant=TENANT,
                    program=program(
                        formal=True,
                        eligibility=common_pb2.Eligibility(
                            departments=["Engineering"], min_grade=3, min_tenure_days=30
                        ),
                    ),
                    request_id="create-formal",
                )
            )
            assert again.program_id == formal.program_id
            assert rpc_error(
                lambda: stub.CreateProgram(
                    create(tenant=TENANT, program=program(name="Other"), request_id="create-formal")
                )
            ) == (INVALID, "request_id")
            peer = stub.CreateProgram(create(tenant=TENANT, program=program(name="Peers", format=3)))
            draft = stub.CreateProgram(
                create(tenant=TENANT, program=program(name="Draft", status=common_pb2.PROGRAM_STATUS_DRAFT))
            )
            past = stub.CreateProgram(
                create(
                    tenant=TENANT,
                    program=program(
                        name="Past window",
                        enrollment_window=common_pb2.DateRange(
                            start=timestamp(NOW - timedelta(days=20)), end=timestamp(NOW - timedelta(days=10))
                        ),
                    ),
                )
            )
            assert draft.status == common_pb2.PROGRAM_STATUS_DRAFT

            assert rpc_error(
                lambda: stub.GetProgram(enrollment_pb2.GetProgramRequest(program_id="nope"))
            ) == (
                NOT_FOUND,
                "",
            )
            assert (
                stub.GetProgram(enrollment_pb2.GetProgramRequest(program_id=peer.program_id)).name == "Peers"
            )
            update = enrollment_pb2.UpdateProgramRequest
            assert rpc_error(
                lambda: stub.UpdateProgram(
                    update(program_id=peer.program_id, update_mask=field_mask_pb2.FieldMask(paths=["colour"]))
                )
            ) == (INVALID, "update_mask")
            assert rpc_error(
                lambda: stub.UpdateProgram(update(program_id="nope", program=program(name="x")))
            ) == (NOT_FOUND, "")
            renamed = stub.UpdateProgram(
                update(
                    program_id=peer.program_id,
                    program=common_pb2.Program(name="Peer circles", description="ignored"),
                    update_mask=field_mask_pb2.FieldMask(paths=["name"]),
                )
            )
            assert (renamed.name, renamed.description, renamed.format) == ("Peer circles", "", peer.format)

            listed = stub.ListPrograms(
                enrollment_pb2.ListProgramsRequest(tenant=TENANT, page=common_pb2.PageRequest(page_size=2))
            )
            assert listed.page.total_size == 4 and len(listed.programs) == 2 and listed.page.next_page_token
            rest = stub.ListPrograms(
                enrollment_pb2.ListProgramsRequest(
                    tenant=TENANT,
                    page=common_pb2.PageRequest(page_size=2, page_token=listed.page.next_page_token),
                )
            )
            assert {p.program_id for p in [*listed.programs, *rest.programs]} == {
                formal.program_id,
                peer.program_id,
                draft.program_id,
                past.program_id,
            }
            drafts = stub.ListPrograms(
                enrollment_pb2.ListProgramsRequest(tenant=TENANT, status=common_pb2.PROGRAM_STATUS_DRAFT)
            )
            assert [p.program_id for p in drafts.programs] == [draft.program_id]
            assert rpc_error(
                lambda: stub.ListPrograms(
                    enrollment_pb2.ListProgramsRequest(
                        tenant=TENANT, page=common_pb2.PageRequest(page_token="not-a-token")
                    )
                )
            ) == (INVALID, "page.page_token")
            assert rpc_error(
                lambda: stub.ListPrograms(
                    enrollment_pb2.ListProgramsRequest(
                        tenant=TENANT, page=common_pb2.PageRequest(page_size=-1)
                    )
                )
            ) == (INVALID, "page.page_size")

            # --- enrollments ---
            enroll = enrollment_pb2.EnrollRequest
            mentee = common_pb2.Profile(goals=[GOAL], skills_wanted=["Kafka"])
            mentee_role, mentor_role = common_pb2.ROLE_MENTEE, common_pb2.ROLE_MENTOR
            pid = formal.program_id

            def mentee_of(
                program_id: str, employee_id: str, profile: common_pb2.Profile = mentee
            ) -> enrollment_pb2.EnrollRequest:
                return enroll(
                    program_id=program_id, employee_id=employee_id, role=mentee_role, profile=profile
                )

            too_many = common_pb2.Profile(goals=[GOAL], nominated_mentor_ids=[f"M{i}" for i in range(11)])
            ghost = common_pb2.Profile(goals=[GOAL], nominated_mentor_ids=["E3", "GHOST"])
            boss = common_pb2.Profile(goals=[GOAL], nominated_mentor_ids=["M1"])
            vague = common_pb2.Profile(goals=[common_pb2.Goal(what="Grow")])
            blank = common_pb2.Profile(goals=[common_pb2.Goal()])
            cases = [
                (mentee_of("nope", "E1"), (NOT_FOUND, "")),
                (mentee_of(pid, "NOBODY"), (NOT_FOUND, "")),
                (enroll(program_id=pid, employee_id="E1", profile=mentee), (INVALID, "role")),
                (mentee_of(pid, "E1", too_many), (INVALID, "profile.nominated_mentor_ids")),
                (mentee_of(pid, "E1", ghost), (INVALID, "profile.nominated_mentor_ids[1]")),
                (mentee_of(pid, "E1", boss), (PRECONDITION, "management_chain")),
                (mentee_of(pid, "E1", vague), (PRECONDITION, "formal_goals_required")),
                (mentee_of(pid, "E1", blank), (INVALID, "profile.goals[0].what")),
                (mentee_of(pid, "E2"), (PRECONDITION, "department")),
                (mentee_of(pid, "E4"), (PRECONDITION, "grade_range")),
                (mentee_of(pid, "E3"), (PRECONDITION, "minimum_tenure")),
                (mentee_of(past.program_id, "E1"), (PRECONDITION, "enrollment_window")),
                (mentee_of(draft.program_id, "E1"), (PRECONDITION, "program_not_open")),
                (mentee_of(peer.program_id, "E1"), (INVALID, "role")),
            ]
            for request, refusal in cases:
                assert rpc_error(partial(stub.Enroll, request)) == refusal, request

            enrolled = stub.Enroll(
                enroll(program_id=pid, employee_id="E1", role=mentee_role, profile=mentee, request_id="e-1")
            )
            assert enrolled.status == common_pb2.ENROLLMENT_STATUS_ACTIVE
            assert enrolled.profile.skills_wanted == ["kafka"] and enrolled.profile.goals[0].goal_id == "g1"
            retried = stub.Enroll(
                enroll(program_id=pid, employee_id="E1", role=mentee_role, profile=mentee, request_id="e-1")
            )
            assert retried.enrollment_id == enrolled.enrollment_id
            assert rpc_error(
                lambda: stub.Enroll(enroll(program_id=pid, employee_id="E1", role=mentor_role))
            ) == (EXISTS, "")
            mentor = stub.Enroll(
                enroll(
                    program_id=pid, employee_id="M1", role=mentor_role, profile=common_pb2.Profile(capacity=2)
                )
            )
            assert mentor.profile.capacity == 2

            # The program's format is frozen once people enrolled; a closed program is read-only.
            assert rpc_error(
                lambda: stub.UpdateProgram(
                    update(
                        program_id=pid,
                        program=program(format=3),
                        update_mask=field_mask_pb2.FieldMask(paths=["format"]),
                    )
                )
            ) == (PRECONDITION, "program_has_enrollments")

            change = enrollment_pb2.UpdateEnrollmentRequest
            assert rpc_error(lambda: stub.UpdateEnrollment(change(enrollment_id="nope", profile=mentee))) == (
                NOT_FOUND,
                "",
            )
            assert rpc_error(
                lambda: stub.UpdateEnrollment(
                    change(
                        enrollment_id=enrolled.enrollment_id,
                        profile=common_pb2.Profile(
                            goals=[GOAL],
                            availability=common_pb2.Availability(work_start_hour=30, work_end_hour=2),
                        ),
                    )
                )
            ) == (INVALID, "profile.availability.work_start_hour")
            updated = stub.UpdateEnrollment(
                change(
                    enrollment_id=enrolled.enrollment_id,
                    profile=common_pb2.Profile(goals=[GOAL], skills_wanted=["sql"]),
                )
            )
            assert updated.profile.skills_wanted == ["sql"]
            got = stub.GetEnrollment(
                enrollment_pb2.GetEnrollmentRequest(enrollment_id=enrolled.enrollment_id)
            )
            assert got == updated
            assert rpc_error(
                lambda: stub.GetEnrollment(enrollment_pb2.GetEnrollmentRequest(enrollment_id="nope"))
            ) == (
                NOT_FOUND,
                "",
            )

            participants = stub.ListParticipants(
                enrollment_pb2.ListParticipantsRequest(program_id=pid, role=mentee_role)
            )
            assert [p.employee_id for p in participants.participants] == ["E1"]
            assert list(participants.participants[0].management_chain_ids) == ["M1"]
            assert participants.participants[0].timezone == "Europe/Paris"
            assert rpc_error(
                lambda: stub.ListParticipants(enrollment_pb2.ListParticipantsRequest(program_id="nope"))
            ) == (NOT_FOUND, "")

            withdraw = enrollment_pb2.WithdrawEnrollmentRequest
            withdrawn = stub.WithdrawEnrollment(
                withdraw(enrollment_id=enrolled.enrollment_id, reason="no time")
            )
            assert (withdrawn.status, withdrawn.status_reason) == (
                common_pb2.ENROLLMENT_STATUS_WITHDRAWN,
                "no time",
            )
            assert rpc_error(
                lambda: stub.WithdrawEnrollment(withdraw(enrollment_id=enrolled.enrollment_id))
            ) == (
                PRECONDITION,
                "enrollment_withdrawn",
            )
            assert rpc_error(
                lambda: stub.UpdateEnrollment(change(enrollment_id=enrolled.enrollment_id, profile=mentee))
            ) == (PRECONDITION, "enrollment_withdrawn")
            again_enrolled = stub.Enroll(
                enroll(program_id=pid, employee_id="E1", role=mentee_role, profile=mentee)
            )
            assert again_enrolled.enrollment_id != enrolled.enrollment_id  # a new enrollment after withdrawal

            closed = stub.CloseProgram(
                enrollment_pb2.CloseProgramRequest(program_id=pid, reason="cohort full")
            )
            assert closed.status == common_pb2.PROGRAM_STATUS_CLOSED
            assert (
                stub.CloseProgram(enrollment_pb2.CloseProgramRequest(program_id=pid)).status == closed.status
            )
            assert rpc_error(
                lambda: stub.Enroll(enroll(program_id=pid, employee_id="E4", role=mentor_role))
            ) == (PRECONDITION, "program_closed")
            assert rpc_error(
                lambda: stub.UpdateProgram(update(program_id=pid, program=common_pb2.Program(name="Renamed")))
            ) == (PRECONDITION, "program_closed")
            assert rpc_error(
                lambda: stub.CloseProgram(enrollment_pb2.CloseProgramRequest(program_id="nope"))
            ) == (
                NOT_FOUND,
                "",
            )

            # --- contact look-up: by the notification service, in the tenant it names ---
            notification = bearer(tokens.service("notification-service"))
            contact = stub.GetEmployeeContact(
                enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"),
                metadata=(*notification, ("tenant", TENANT)),
            )
            assert (contact.display_name, contact.email, contact.timezone) == (
                "Eve Engineer",
                "eve@example.com",
                "Europe/Paris",
            )
            assert contact.status == common_pb2.EMPLOYEE_STATUS_ACTIVE
            with_tenant = stub.GetEmployeeContact(
                enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"),
                metadata=(*notification, ("x-tenant", TENANT)),
            )
            assert with_tenant == contact
            assert (
                rpc_error(
                    lambda: stub.GetEmployeeContact(
                        enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"), metadata=notification
                    )
                )[0]
                == grpc.StatusCode.PERMISSION_DENIED
            )  # a service names the tenant it acts in
            assert rpc_error(
                lambda: stub.GetEmployeeContact(
                    enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"),
                    metadata=(*notification, ("tenant", "globex")),
                )
            ) == (NOT_FOUND, "")
            assert rpc_error(
                lambda: stub.GetEmployeeContact(
                    enrollment_pb2.GetEmployeeContactRequest(employee_id=""), metadata=notification
                )
            ) == (INVALID, "employee_id")

        # Everything it changed reached the topic once, keyed by program, with no personal data.
        outbox_ids = {row[0] for row in sqlite3.connect(database).execute(ENROLLMENT_EVENTS_IN_OUTBOX)}
        records = await read_topic(
            kafka_bootstrap, namespace + "enrollment.events.v1", expected=len(outbox_ids)
        )
    events = [decode(record.headers, record.value) for record in records]
    assert {event.id for event in events} == outbox_ids and len(events) == len(outbox_ids)
    types = [event.type.rsplit(".", 2)[-2] for event in events]
    assert types.count("created") == 4 and types.count("enrolled") == 3 and types.count("withdrawn") == 1
    for record, event in zip(records, events, strict=True):
        assert b"@example.com" not in record.value and b"Eve" not in record.value
        if event.type.endswith("participant.enrolled.v1"):
            participant = event.message().participant  # type: ignore[attr-defined]
            assert record.key == participant.program_id.encode()
            assert participant.employee_id in {"E1", "M1"}
