"""Access to the session service as a real process with real Keycloak tokens, fed matching and
enrollment events on the real broker: per RPC, a person outside the relationship is refused, a person of
another tenant finds nothing, a member is served; HR and the program's manager list the sessions without
a word of what was said, and read no goals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from mentoring.v1 import common_pb2, events_pb2, session_pb2, session_pb2_grpc

from services.shared.envelope import CloudEvent, encode_binary, published_event
from tests.support.identity import KeycloakTokens, Metadata, bearer, hr
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import rows, wait_for

pytestmark = pytest.mark.integration

MENTOR, MENTEE, STRANGER, MANAGER = "SA-MENTOR", "SA-MENTEE", "SA-STRANGER", "SA-PM"
AGENDA, LOCATION, LINK = "Whether to leave the team", "Berlin, room 4", "https://meet.example/sa"
Call = Callable[[Metadata], object]


def record(event: CloudEvent, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers, value = encode_binary(event)
    return key.encode(), value, headers


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def activated(match_id: str, program_id: str, tenant: str) -> CloudEvent:
    match = common_pb2.Match(
        match_id=match_id,
        program_id=program_id,
        mentor_employee_id=MENTOR,
        mentee_employee_ids=[MENTEE],
        status=common_pb2.MATCH_STATUS_ACTIVE,
    )
    return published_event("matching", events_pb2.MatchActivated(match=match), tenant=tenant)


def refused(call: Call, metadata: Metadata) -> tuple[grpc.StatusCode, str]:
    """The status of a refused call and the reason its ErrorInfo names ("" when it has none)."""
    with pytest.raises(grpc.RpcError) as raised:
        call(metadata)
    error = raised.value
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    reason = ""
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
    return error.code(), reason


def rpcs(
    stub: session_pb2_grpc.SessionServiceStub, match_id: str, session_id: str, goal_id: str, me: str
) -> dict[str, Call]:
    """One call of each RPC on ``match_id`` by ``me``, whose own the check-in and the feedback are."""
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=6)
    return {
        "ScheduleSession": lambda md: stub.ScheduleSession(
            session_pb2.ScheduleSessionRequest(match_id=match_id, starts_at=at(later), duration_minutes=30),
            metadata=md,
        ),
        "CompleteSession": lambda md: stub.CompleteSession(
            session_pb2.CompleteSessionRequest(session_id=session_id, notes="Decided to stay"), metadata=md
        ),
        "CancelSession": lambda md: stub.CancelSession(
            session_pb2.CancelSessionRequest(session_id=session_id), metadata=md
        ),
        "ListSessions": lambda md: stub.ListSessions(
            session_pb2.ListSessionsRequest(match_id=match_id), metadata=md
        ),
        "SetGoal": lambda md: stub.SetGoal(
            session_pb2.SetGoalRequest(match_id=match_id, goal=common_pb2.Goal(goal_id=goal_id, what="Stay")),
            metadata=md,
        ),
        "RecordGoalProgress": lambda md: stub.RecordGoalProgress(
            session_pb2.RecordGoalProgressRequest(
                match_id=match_id, goal_id=goal_id, progress=0.5, note="n", employee_id=me
            ),
            metadata=md,
        ),
        "ListGoals": lambda md: stub.ListGoals(session_pb2.ListGoalsRequest(match_id=match_id), metadata=md),
        "SubmitFeedback": lambda md: stub.SubmitFeedback(
            session_pb2.SubmitFeedbackRequest(
                match_id=match_id, session_id=session_id, employee_id=me, rating=5, comment="Kind"
            ),
            metadata=md,
        ),
        "ExportICalendar": lambda md: stub.ExportICalendar(
            session_pb2.ExportICalendarRequest(match_id=match_id), metadata=md
        ),
    }


async def test_every_rpc_serves_the_relationships_members_only(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    program = common_pb2.Program(program_id="p-sa", tenant="acme", manager_ids=[MANAGER])
    as_mentor = bearer(tokens.person("acme", MENTOR))
    as_mentee = bearer(tokens.person("acme", MENTEE))
    as_stranger = bearer(tokens.person("acme", STRANGER))
    as_hr = bearer(hr(tokens, "acme"))
    as_manager = bearer(tokens.person("acme", MANAGER, "program_manager"))
    as_other_manager = bearer(tokens.person("acme", "SA-PM-2", "program_manager"))
    # The same employee ids in another tenant are other people, members of that tenant's relationship.
    of_globex = [
        (bearer(tokens.person("globex", MENTOR)), MENTOR),
        (bearer(hr(tokens, "globex")), "HR-ADMIN"),
    ]
    as_service = bearer(tokens.service("notification-service"))

    with ServiceProcess("session", data_dir, namespace, kafka_bootstrap) as service:
        await produce_raw(
            kafka_bootstrap,
            namespace + "enrollment.events.v1",
            [
                record(
                    published_event("enrollment", events_pb2.ProgramCreated(program=program), tenant="acme"),
                    "p-sa",
                )
            ],
        )
        await produce_raw(
            kafka_bootstrap,
            namespace + "matching.events.v1",
            [
                record(activated("m-acme", "p-sa", "acme"), "m-acme"),
                record(activated("m-globex", "p-gx", "globex"), "m-globex"),
            ],
        )
        database = data_dir / "session.db"
        await wait_for(lambda: len(rows(database, "SELECT match_id FROM relationships")) == 2)
        await wait_for(lambda: rows(database, "SELECT manager_ids FROM programs") == [(f'["{MANAGER}"]',)])

        with service.channel() as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
            first = stub.ScheduleSession(
                session_pb2.ScheduleSessionRequest(
                    match_id="m-acme",
                    starts_at=at(soon),
                    duration_minutes=60,
                    agenda=AGENDA,
                    delivery=common_pb2.DELIVERY_HYBRID,
                    location=LOCATION,
                    meeting_link=LINK,
                ),
                metadata=as_mentor,
            )
            stub.SetGoal(
                session_pb2.SetGoalRequest(
                    match_id="m-acme", goal=common_pb2.Goal(goal_id="g-sa", what="Stay")
                ),
                metadata=as_mentee,
            )

            def calls_of(me: str) -> dict[str, Call]:
                return rpcs(stub, "m-acme", first.session_id, "g-sa", me)

            for name, call in calls_of(STRANGER).items():
                expected = "CONFIDENTIAL" if name in ("ListGoals", "ExportICalendar") else "NOT_YOURS"
                assert refused(call, as_stranger) == (grpc.StatusCode.PERMISSION_DENIED, expected), name
                for metadata, me in of_globex:
                    assert refused(calls_of(me)[name], metadata)[0] == grpc.StatusCode.NOT_FOUND, name
                assert refused(call, as_service) == (grpc.StatusCode.PERMISSION_DENIED, "SERVICE_NOT_ALLOWED")
            calls = calls_of("HR-ADMIN")
            assert refused(calls["ListSessions"], as_other_manager) == (
                grpc.StatusCode.PERMISSION_DENIED,
                "NOT_MANAGED",
            )
            for name in ("ListGoals", "ExportICalendar"):
                assert refused(calls[name], as_hr) == (grpc.StatusCode.PERMISSION_DENIED, "CONFIDENTIAL"), (
                    name
                )
            for name in ("ScheduleSession", "CompleteSession", "CancelSession", "SetGoal", "SubmitFeedback"):
                assert refused(calls[name], as_hr) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOURS"), name
            naming_the_mentee = session_pb2.RecordGoalProgressRequest(
                match_id="m-acme", goal_id="g-sa", progress=0.5, employee_id=MENTEE
            )
            assert refused(lambda md: stub.RecordGoalProgress(naming_the_mentee, metadata=md), as_mentor) == (
                grpc.StatusCode.PERMISSION_DENIED,
                "NOT_YOURS",
            ), "a check-in is its caller's"

            await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
            # The mentee does everything in the relationship the mentor planned the first session of.
            served: dict[str, Any] = {
                name: call(as_mentee) for name, call in calls_of(MENTEE).items() if name != "CancelSession"
            }
            planned = served["ScheduleSession"]
            cancelled: Any = rpcs(stub, "m-acme", planned.session_id, "g-sa", MENTEE)["CancelSession"](
                as_mentee
            )
            assert cancelled.status == "cancelled", "a held session is not cancelled: another one is"
            members_view = served["ListSessions"].sessions[0]
            assert (members_view.agenda, members_view.location, members_view.meeting_link) == (
                AGENDA,
                LOCATION,
                LINK,
            )
            assert served["RecordGoalProgress"].recorded_by == MENTEE, "the check-in is the caller's"
            assert [goal.goal_id for goal in served["ListGoals"].goals] == ["g-sa"]
            assert served["SubmitFeedback"].rating == 5
            assert AGENDA in served["ExportICalendar"].content

            for metadata in (as_hr, as_manager):
                listed = stub.ListSessions(
                    session_pb2.ListSessionsRequest(match_id="m-acme"), metadata=metadata
                )
                assert [(s.session_id, s.status) for s in listed.sessions] == [
                    (first.session_id, "completed"),
                    (planned.session_id, "cancelled"),
                ]
                assert listed.sessions[0].starts_at == first.starts_at
                assert listed.sessions[0].duration_minutes == 60
                assert all((s.agenda, s.location, s.meeting_link) == ("", "", "") for s in listed.sessions)
                assert AGENDA.encode() not in listed.SerializeToString()
            by_person = stub.ListSessions(session_pb2.ListSessionsRequest(employee_id=MENTEE), metadata=as_hr)
            assert by_person.page.total_size == 2
            assert all(s.agenda == "" for s in by_person.sessions)

        assert service.stop() == 0, service.log_tail()
