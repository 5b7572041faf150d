"""The relationship after the match, on the real session process, the real broker and real Keycloak
tokens: a program with a weekly cadence and two people's enrolments (Berlin, New York) arrive, the match
is activated, a plan is proposed in the hours both share; the mentee accepts a slot (a session is
booked) and exports the series; a missed cadence puts the relationship at risk (the health job runs
every second), HR sees it with its reason; a session held clears it; both changes are on the topic; the
mentor reads the mentee's feedback; the match ends (at will), both give their closing reviews, and the
program's outcomes count it as ended early, with no person in them.

Time cannot pass eleven days in a test: the relationship's recorded start is set eleven days back in
the service's database, the one fact time would have changed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import icalendar
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2, events_pb2, session_pb2, session_pb2_grpc

from services.shared.envelope import CloudEvent, decode, encode_binary, published_event
from tests.support.identity import KeycloakTokens, bearer, hr
from tests.support.kafka import produce_raw, read_topic
from tests.support.processes import ServiceProcess
from tests.support.waiting import rows, wait_for

pytestmark = pytest.mark.integration

MENTOR, MENTEE = "RL-MENTOR", "RL-MENTEE"
HEALTH = "mentoring.session.relationship.health_changed.v1"


def record(event: CloudEvent, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers, value = encode_binary(event)
    return key.encode(), value, headers


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def enrolled(employee_id: str, role: common_pb2.Role.ValueType, timezone: str) -> CloudEvent:
    participant = common_pb2.Participant(
        program_id="p-rl",
        employee_id=employee_id,
        role=role,
        timezone=timezone,
        profile=common_pb2.Profile(availability=common_pb2.Availability(work_start_hour=9, work_end_hour=17)),
    )
    return published_event(
        "enrollment", events_pb2.ParticipantEnrolled(participant=participant), tenant="acme"
    )


async def test_a_plan_is_proposed_accepted_and_a_missed_cadence_is_flagged_then_cleared(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    program = common_pb2.Program(
        program_id="p-rl",
        tenant="acme",
        delivery=common_pb2.DELIVERY_REMOTE,
        cohort=common_pb2.DateRange(start=at(today - timedelta(days=30)), end=at(today + timedelta(days=60))),
        cadence=common_pb2.SessionCadence(every_days=7, session_minutes=30),
    )
    match = common_pb2.Match(
        match_id="m-rl",
        program_id="p-rl",
        mentor_employee_id=MENTOR,
        mentee_employee_ids=[MENTEE],
        status=common_pb2.MATCH_STATUS_ACTIVE,
    )
    as_mentor = bearer(tokens.person("acme", MENTOR))
    as_mentee = bearer(tokens.person("acme", MENTEE))
    as_hr = bearer(hr(tokens, "acme"))
    settings = {"MENTORING_SESSION_HEALTH_EVERY_SECONDS": "1"}

    with ServiceProcess("session", data_dir, namespace, kafka_bootstrap, extra_env=settings) as service:
        await produce_raw(
            kafka_bootstrap,
            namespace + "enrollment.events.v1",
            [
                record(
                    published_event("enrollment", events_pb2.ProgramCreated(program=program), tenant="acme"),
                    "p-rl",
                ),
                record(enrolled(MENTOR, common_pb2.ROLE_MENTOR, "Europe/Berlin"), "p-rl"),
                record(enrolled(MENTEE, common_pb2.ROLE_MENTEE, "America/New_York"), "p-rl"),
            ],
        )
        database = data_dir / "session.db"
        await wait_for(lambda: len(rows(database, "SELECT employee_id FROM working_hours")) == 2)
        activation = published_event("matching", events_pb2.MatchActivated(match=match), tenant="acme")
        await produce_raw(kafka_bootstrap, namespace + "matching.events.v1", [record(activation, "m-rl")])
        await wait_for(lambda: rows(database, "SELECT match_id FROM plans") == [("m-rl",)])

        with service.channel() as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            plan = stub.GetPlan(session_pb2.GetPlanRequest(match_id="m-rl"), metadata=as_mentee)
            assert plan.timezone == "Europe/Berlin" and plan.frequency == "weekly" and plan.complete
            assert len(plan.slots) >= 8
            for slot in plan.slots:
                start = slot.starts_at.ToDatetime(UTC)
                for zone in ("Europe/Berlin", "America/New_York"):
                    local = start.astimezone(ZoneInfo(zone))
                    assert (
                        local.weekday() < 5 and local.hour >= 9 and (local + timedelta(minutes=30)).hour <= 17
                    )

            accepted = stub.AcceptPlannedSlot(
                session_pb2.AcceptPlannedSlotRequest(
                    match_id="m-rl", index=0, meeting_link="https://meet.example/rl"
                ),
                metadata=as_mentee,
            )
            assert accepted.status == "accepted" and accepted.session_id
            listed = stub.ListSessions(session_pb2.ListSessionsRequest(match_id="m-rl"), metadata=as_mentor)
            assert [s.session_id for s in listed.sessions] == [accepted.session_id]
            exported = stub.ExportPlanICalendar(
                session_pb2.ExportPlanICalendarRequest(match_id="m-rl"), metadata=as_mentor
            ).content
            series = [e for e in icalendar.Calendar.from_ical(exported).walk("VEVENT") if "RRULE" in e]
            assert len(series) == 1 and series[0]["DTSTART"].params["TZID"] == "Europe/Berlin"
            with pytest.raises(grpc.RpcError) as refused:
                stub.ListRelationshipsAtRisk(session_pb2.ListRelationshipsAtRiskRequest(), metadata=as_mentor)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

            eleven_days_ago = (datetime.now(UTC) - timedelta(days=11)).replace(tzinfo=None).isoformat(sep=" ")
            rows(database, "UPDATE relationship_health SET started_at = ?", eleven_days_ago)

            def at_risk() -> list[session_pb2.RelationshipAtRisk]:
                page = stub.ListRelationshipsAtRisk(
                    session_pb2.ListRelationshipsAtRiskRequest(), metadata=as_hr
                )
                return list(page.relationships)

            await wait_for(lambda: len(at_risk()) == 1, what="the relationship at risk")
            flagged = at_risk()[0]
            assert (flagged.match_id, list(flagged.reasons)) == (
                "m-rl",
                [events_pb2.RELATIONSHIP_RISK_MISSED_CADENCE],
            )

            soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
            held = stub.ScheduleSession(
                session_pb2.ScheduleSessionRequest(match_id="m-rl", starts_at=at(soon), duration_minutes=15),
                metadata=as_mentor,
            )
            await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
            stub.CompleteSession(
                session_pb2.CompleteSessionRequest(session_id=held.session_id), metadata=as_mentor
            )
            assert at_risk() == [], "a session held clears a missed cadence at once"

            stub.SubmitFeedback(
                session_pb2.SubmitFeedbackRequest(
                    match_id="m-rl",
                    session_id=held.session_id,
                    employee_id=MENTEE,
                    rating=4,
                    comment="Useful",
                ),
                metadata=as_mentee,
            )
            received = stub.ListFeedbackReceived(
                session_pb2.ListFeedbackReceivedRequest(match_id="m-rl"), metadata=as_mentor
            )
            assert [(f.by, f.rating, f.comment) for f in received.feedback] == [
                (common_pb2.ROLE_MENTEE, 4, "Useful")
            ]
            assert (
                stub.ListFeedbackReceived(
                    session_pb2.ListFeedbackReceivedRequest(match_id="m-rl"), metadata=as_mentee
                ).feedback
                == []
            ), "the mentee reads what the mentor said, and the mentor said nothing"

            ended = events_pb2.MatchEnded(match=match, reason="moved on", cause=common_pb2.END_CAUSE_AT_WILL)
            await produce_raw(
                kafka_bootstrap,
                namespace + "matching.events.v1",
                [record(published_event("matching", ended, tenant="acme"), "m-rl")],
            )
            await wait_for(lambda: rows(database, "SELECT cause FROM relationship_endings") == [("at_will",)])
            stub.SubmitClosingReview(
                session_pb2.SubmitClosingReviewRequest(match_id="m-rl", employee_id=MENTEE, satisfaction=4),
                metadata=as_mentee,
            )
            mentors = stub.SubmitClosingReview(
                session_pb2.SubmitClosingReviewRequest(
                    match_id="m-rl",
                    employee_id=MENTOR,
                    satisfaction=5,
                    benefits=[session_pb2.MENTOR_BENEFIT_NEW_PERSPECTIVES],
                ),
                metadata=as_mentor,
            )
            assert mentors.by == common_pb2.ROLE_MENTOR
            outcomes = stub.GetProgramOutcomes(
                session_pb2.GetProgramOutcomesRequest(program_id="p-rl"), metadata=as_hr
            )
            assert (outcomes.relationships, outcomes.ended, outcomes.ended_early, outcomes.sessions_held) == (
                1,
                1,
                1,
                1,
            )
            assert [(e.cause, e.relationships) for e in outcomes.ended_early_by_cause] == [
                (common_pb2.END_CAUSE_AT_WILL, 1)
            ]
            assert outcomes.by_mentees.ratings == 1 and not outcomes.by_mentees.mean_told
            assert [(b.benefit, b.mentors) for b in outcomes.mentor_benefits] == [
                (session_pb2.MENTOR_BENEFIT_NEW_PERSPECTIVES, 1)
            ]
            assert outcomes.closing_by_mentees.ratings == 1 and not outcomes.closing_by_mentees.mean_told
            assert MENTEE.encode() not in outcomes.SerializeToString()

        # scheduled x2, completed, health changed x2, feedback, cancelled (the accepted slot's, at the end)
        records = await read_topic(kafka_bootstrap, namespace + "session.events.v1", expected=7)
        changes = [
            event.payload(events_pb2.RelationshipHealthChanged)
            for event in (decode(list(r.headers), r.value) for r in records)
            if event.type == HEALTH
        ]
        assert [(c.match_id, c.at_risk) for c in changes] == [("m-rl", True), ("m-rl", False)]
        assert service.stop() == 0, service.log_tail()
