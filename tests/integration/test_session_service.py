"""The session service as a real process on the real broker and a real SQLite file: matching events in,
gRPC commands and queries, session events out through the outbox, duplicates applied once, bad records
dead-lettered while the consumer goes on."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import icalendar
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2, events_pb2, session_pb2, session_pb2_grpc

from services.shared.envelope import CloudEvent, decode, encode_binary, new_event
from tests.support.grpc_errors import rpc_error
from tests.support.identity import KeycloakTokens, bearer
from tests.support.kafka import produce_raw, read_topic
from tests.support.processes import ServiceProcess, metric_value
from tests.support.waiting import rows, wait_for

pytestmark = pytest.mark.integration

ACTIVATED = "mentoring.matching.match.activated.v1"
ENDED = "mentoring.matching.match.ended.v1"
MENTOR, MENTEE = "E-0042", "E-1001"


def match(match_id: str, mentees: tuple[str, ...] = (MENTEE,)) -> common_pb2.Match:
    return common_pb2.Match(
        match_id=match_id,
        program_id="prog-1",
        mentor_employee_id=MENTOR,
        mentee_employee_ids=list(mentees),
        status=common_pb2.MATCH_STATUS_ACTIVE,
    )


def record(event: CloudEvent, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers, value = encode_binary(event)
    return key.encode(), value, headers


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def in_days(days: float, hour: int = 10) -> datetime:
    base = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days)


def known(database_file: Path, match_id: str, status: str = "active") -> Callable[[], bool]:
    def check() -> bool:
        found = rows(database_file, f"SELECT status FROM relationships WHERE match_id = '{match_id}'")
        return found == [(status,)]

    return check


def session_events(records: list[object], match_id: str) -> list[CloudEvent]:
    decoded = [decode(list(r.headers), r.value) for r in records if r.key == match_id.encode()]  # type: ignore[attr-defined]
    return sorted(decoded, key=lambda event: event.time)


async def test_sessions_goals_feedback_and_calendar_through_the_real_service(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    activation = new_event(
        ACTIVATED, "/test/matching", events_pb2.MatchActivated(match=match("m-A")), tenant="acme"
    )
    with ServiceProcess("session", data_dir, namespace, kafka_bootstrap) as service:
        # The same event delivered twice (a redelivery after a consumer crash): applied once.
        await produce_raw(
            kafka_bootstrap,
            namespace + "matching.events.v1",
            [record(activation, "m-A"), record(activation, "m-A")],
        )
        database = data_dir / "session.db"
        await wait_for(known(database, "m-A"))
        await wait_for(
            lambda: (
                metric_value(service.metrics_port, "mentoring_consumer_messages_total", outcome="duplicate")
                == 1
            )
        )
        assert metric_value(service.metrics_port, "mentoring_consumer_messages_total", outcome="applied") == 1

        # The mentor calls, unless a call says whose token it carries.
        with service.channel(lambda: tokens.person("acme", MENTOR)) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            # Soon, so that it has started when it is completed: only a started session can be.
            first_start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
            schedule = session_pb2.ScheduleSessionRequest(
                match_id="m-A",
                starts_at=at(first_start),
                duration_minutes=60,
                agenda="Goals",
                request_id="r-1",
            )
            first = stub.ScheduleSession(schedule)
            assert first.status == "scheduled" and first.match_id == "m-A"
            assert stub.ScheduleSession(schedule).session_id == first.session_id, "idempotent by request_id"

            overlapping = session_pb2.ScheduleSessionRequest(
                match_id="m-A", starts_at=at(first_start + timedelta(minutes=30)), duration_minutes=60
            )
            assert rpc_error(lambda: stub.ScheduleSession(overlapping)) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "session_overlap",
            )
            past = session_pb2.ScheduleSessionRequest(
                match_id="m-A", starts_at=at(in_days(-1)), duration_minutes=60
            )
            assert rpc_error(lambda: stub.ScheduleSession(past)) == (
                grpc.StatusCode.INVALID_ARGUMENT,
                "starts_at",
            )
            too_short = session_pb2.ScheduleSessionRequest(
                match_id="m-A", starts_at=at(in_days(3)), duration_minutes=10
            )
            assert rpc_error(lambda: stub.ScheduleSession(too_short)) == (
                grpc.StatusCode.INVALID_ARGUMENT,
                "duration_minutes",
            )
            unknown = session_pb2.ScheduleSessionRequest(
                match_id="m-?", starts_at=at(in_days(3)), duration_minutes=30
            )
            assert rpc_error(lambda: stub.ScheduleSession(unknown))[0] == grpc.StatusCode.NOT_FOUND

            second = stub.ScheduleSession(
                session_pb2.ScheduleSessionRequest(
                    match_id="m-A", starts_at=at(in_days(3)), duration_minutes=45
                )
            )
            third = stub.ScheduleSession(
                session_pb2.ScheduleSessionRequest(
                    match_id="m-A", starts_at=at(in_days(4)), duration_minutes=30
                )
            )

            not_started = session_pb2.CompleteSessionRequest(session_id=second.session_id)
            assert rpc_error(lambda: stub.CompleteSession(not_started)) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "session_not_started",
            )
            await asyncio.sleep(max(0.0, (first_start - datetime.now(UTC)).total_seconds()) + 0.2)
            done = stub.CompleteSession(
                session_pb2.CompleteSessionRequest(session_id=first.session_id, notes="ok")
            )
            assert done.status == "completed"
            assert rpc_error(
                lambda: stub.CancelSession(session_pb2.CancelSessionRequest(session_id=first.session_id))
            ) == (grpc.StatusCode.FAILED_PRECONDITION, "session_not_scheduled")
            cancelled = stub.CancelSession(
                session_pb2.CancelSessionRequest(session_id=third.session_id, reason="travel")
            )
            assert cancelled.status == "cancelled"

            feedback = session_pb2.SubmitFeedbackRequest(
                match_id="m-A", session_id=first.session_id, employee_id=MENTEE, rating=5, comment="Helpful"
            )
            as_mentee = bearer(tokens.person("acme", MENTEE))
            given = stub.SubmitFeedback(feedback, metadata=as_mentee)
            assert (given.by, given.rating) == (common_pb2.ROLE_MENTEE, 5)
            assert (
                rpc_error(lambda: stub.SubmitFeedback(feedback, metadata=as_mentee))[0]
                == grpc.StatusCode.ALREADY_EXISTS
            )
            stranger = session_pb2.SubmitFeedbackRequest(
                match_id="m-A", session_id=first.session_id, employee_id="E-9999", rating=3
            )
            as_stranger = bearer(tokens.person("acme", "E-9999"))
            # Not a participant: refused before anything of the match is read.
            assert rpc_error(lambda: stub.SubmitFeedback(stranger, metadata=as_stranger))[0] == (
                grpc.StatusCode.PERMISSION_DENIED
            )
            bad_rating = session_pb2.SubmitFeedbackRequest(
                match_id="m-A", session_id=first.session_id, employee_id=MENTOR, rating=6
            )
            assert rpc_error(lambda: stub.SubmitFeedback(bad_rating)) == (
                grpc.StatusCode.INVALID_ARGUMENT,
                "rating",
            )

            goal = stub.SetGoal(
                session_pb2.SetGoalRequest(match_id="m-A", goal=common_pb2.Goal(what="Lead a design review"))
            )
            assert goal.goal_id
            stub.RecordGoalProgress(
                session_pb2.RecordGoalProgressRequest(match_id="m-A", goal_id=goal.goal_id, progress=0.25)
            )
            stub.RecordGoalProgress(
                session_pb2.RecordGoalProgressRequest(
                    match_id="m-A", goal_id=goal.goal_id, progress=0.5, note="n"
                )
            )
            over = session_pb2.RecordGoalProgressRequest(match_id="m-A", goal_id=goal.goal_id, progress=1.5)
            assert rpc_error(lambda: stub.RecordGoalProgress(over)) == (
                grpc.StatusCode.INVALID_ARGUMENT,
                "progress",
            )
            listed_goals = stub.ListGoals(session_pb2.ListGoalsRequest(match_id="m-A"))
            assert [g.what for g in listed_goals.goals] == ["Lead a design review"]
            assert [(p.goal_id, p.progress) for p in listed_goals.progress] == [(goal.goal_id, 0.5)]

            page_one = stub.ListSessions(
                session_pb2.ListSessionsRequest(employee_id=MENTEE, page=common_pb2.PageRequest(page_size=2)),
                metadata=as_mentee,
            )
            assert page_one.page.total_size == 3 and page_one.page.next_page_token
            page_two = stub.ListSessions(
                session_pb2.ListSessionsRequest(
                    employee_id=MENTEE,
                    page=common_pb2.PageRequest(page_size=2, page_token=page_one.page.next_page_token),
                ),
                metadata=as_mentee,
            )
            assert not page_two.page.next_page_token
            listed = [s.session_id for s in (*page_one.sessions, *page_two.sessions)]
            assert listed == [first.session_id, second.session_id, third.session_id], "in start order"
            assert [s.status for s in (*page_one.sessions, *page_two.sessions)] == [
                "completed",
                "scheduled",
                "cancelled",
            ]

            calendar = stub.ExportICalendar(session_pb2.ExportICalendarRequest(employee_id=MENTOR)).content
            events = list(icalendar.Calendar.from_ical(calendar).walk("VEVENT"))
            assert [e.decoded("DTSTART") for e in events] == [first_start, in_days(3), in_days(4)]
            assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
            assert MENTOR not in calendar and MENTEE not in calendar

        published = session_events(
            await read_topic(kafka_bootstrap, namespace + "session.events.v1", expected=7), "m-A"
        )
        assert service.stop() == 0, service.log_tail()

    assert Counter(event.type for event in published) == {
        "mentoring.session.session.scheduled.v1": 3,
        "mentoring.session.session.completed.v1": 1,
        "mentoring.session.session.cancelled.v1": 1,
        "mentoring.session.feedback.submitted.v1": 1,
        "mentoring.session.goal.progress_recorded.v1": 2,
    }
    assert all(event.tenant == "acme" for event in published)
    feedback_event = next(e for e in published if e.type.endswith("feedback.submitted.v1")).message()
    assert isinstance(feedback_event, events_pb2.FeedbackSubmitted)
    assert (feedback_event.session_id, feedback_event.rating) == (first.session_id, 5)
    cancelled_event = next(e for e in published if e.type.endswith("session.cancelled.v1")).message()
    assert isinstance(cancelled_event, events_pb2.SessionCancelled)
    assert cancelled_event.reason == "travel"
    assert cancelled_event.cause == common_pb2.CANCELLATION_CAUSE_REQUESTED
    assert rows(data_dir / "session.db", "SELECT count(*) FROM inbox") == [(1,)]


async def test_match_end_cancels_what_is_to_come_and_bad_records_are_dead_lettered(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    topic = namespace + "matching.events.v1"
    with ServiceProcess("session", data_dir, namespace, kafka_bootstrap) as service:
        database = data_dir / "session.db"
        await produce_raw(
            kafka_bootstrap,
            topic,
            [
                record(
                    new_event(
                        ACTIVATED, "/test", events_pb2.MatchActivated(match=match("m-B")), tenant="acme"
                    ),
                    "m-B",
                )
            ],
        )
        await wait_for(known(database, "m-B"))
        # The mentor calls, unless a call says whose token it carries.
        with service.channel(lambda: tokens.person("acme", MENTOR)) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            planned = [
                stub.ScheduleSession(
                    session_pb2.ScheduleSessionRequest(
                        match_id="m-B", starts_at=at(in_days(day)), duration_minutes=60
                    )
                )
                for day in (1, 2)
            ]
            no_mentee = events_pb2.MatchActivated(match=match("m-bad", mentees=()))
            garbage_headers = [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"garbage-1"),
                ("ce_source", b"/test"),
                ("ce_type", ACTIVATED.encode()),
            ]
            ended = events_pb2.MatchEnded(match=match("m-B"), by=common_pb2.ROLE_MENTEE, reason="moved_on")
            bad_event = new_event(ACTIVATED, "/test", no_mentee, tenant="acme")
            await produce_raw(
                kafka_bootstrap,
                topic,
                [
                    record(bad_event, "m-bad"),
                    (b"m-B", b"\xff\x00 not protobuf", garbage_headers),
                    record(new_event(ENDED, "/test", ended, tenant="acme"), "m-B"),
                ],
            )
            await wait_for(known(database, "m-B", status="ended"))
            statuses = stub.ListSessions(session_pb2.ListSessionsRequest(match_id="m-B")).sessions
            assert [s.status for s in statuses] == ["cancelled", "cancelled"]
            late = session_pb2.ScheduleSessionRequest(
                match_id="m-B", starts_at=at(in_days(5)), duration_minutes=60
            )
            assert rpc_error(lambda: stub.ScheduleSession(late)) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "relationship_not_active",
            )

        dead = await read_topic(kafka_bootstrap, topic + ".dlq", expected=2)
        published = session_events(
            await read_topic(kafka_bootstrap, namespace + "session.events.v1", expected=4), "m-B"
        )
        assert service.stop() == 0, service.log_tail()

    reasons = {dict(r.headers)["ce_id"]: dict(r.headers)["dlq_reason"] for r in dead}
    assert reasons == {
        bad_event.id.encode(): b"invalid_argument:match.mentee_employee_ids",
        b"garbage-1": b"malformed",
    }
    assert all(dict(r.headers)["dlq_service"] == b"session" for r in dead)
    assert rows(data_dir / "session.db", "SELECT match_id FROM relationships ORDER BY match_id") == [("m-B",)]

    cancelled = [event for event in published if event.type == "mentoring.session.session.cancelled.v1"]
    assert sorted(event.subject for event in cancelled) == sorted(s.session_id for s in planned)
    for event in cancelled:
        message = event.message()
        assert isinstance(message, events_pb2.SessionCancelled)
        assert message.reason == "match_ended"
        assert message.cause == common_pb2.CANCELLATION_CAUSE_MATCH_ENDED
        assert message.session.status == "cancelled"
