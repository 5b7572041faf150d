"""The notification service as a real process on the real broker, sending its e-mail over SMTP to a real
SMTP server in the test process (aiosmtpd): a match proposed reaches both people's mailboxes as
multipart messages with a stable Message-ID and one-click unsubscribe, each in their language (the
mentee chose German) and timezone (the directory's), naming the other; and the delivery status over
gRPC (each person with their own Keycloak token) shows the attempt; a 4xx is retried, then delivered.
A session scheduled, moved (scheduled again at another time) and cancelled reaches both people as
iTIP REQUEST, REQUEST with a higher SEQUENCE, and CANCEL, read back with the icalendar library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import icalendar
import pytest
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2, notification_pb2_grpc
from mentoring.v1 import notification_pb2 as pb

from services.notification.domain.model import Channel, notification_id
from services.notification.domain.templates import Template
from services.shared.envelope import CloudEvent, encode_binary, new_event
from services.shared.timestamps import timestamp
from tests.support.identity import KeycloakTokens, Metadata, bearer
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import wait_for
from tests.unit.notification.mail_server import Received, mail_server

pytestmark = pytest.mark.integration

MENTOR, MENTEE = "E-0042", "E-1001"
TENANT = "acme"
# (name, address, timezone) of each person, as the enrollment directory knows them.
PEOPLE = {
    MENTOR: ("Grace Hopper", "grace@example.com", "America/New_York"),
    MENTEE: ("Alan Turing", "alan@example.com", "Europe/Berlin"),
}


class Directory(enrollment_pb2_grpc.EnrollmentServiceServicer):
    async def GetEmployeeContact(  # noqa: N802 - the gRPC method name
        self, request: enrollment_pb2.GetEmployeeContactRequest, context: Any
    ) -> enrollment_pb2.EmployeeContact:
        if request.employee_id not in PEOPLE:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown")
        name, address, timezone = PEOPLE[request.employee_id]
        return enrollment_pb2.EmployeeContact(
            employee_id=request.employee_id,
            display_name=name,
            email=address,
            timezone=timezone,
            status=common_pb2.EMPLOYEE_STATUS_ACTIVE,
        )


@pytest.fixture
async def directory_target() -> AsyncIterator[str]:
    server = grpc.aio.server()
    enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(Directory(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


def record(event: CloudEvent, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers, value = encode_binary(event)
    return key.encode(), value, headers


def smtp_env(directory_target: str, port: int) -> dict[str, str]:
    return {
        "MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": directory_target,
        "MENTORING_NOTIFICATION_SMTP_HOST": "127.0.0.1",
        "MENTORING_NOTIFICATION_SMTP_PORT": str(port),
        "MENTORING_NOTIFICATION_SMTP_SECURITY": "none",
        "MENTORING_NOTIFICATION_EMAIL_RETRY_BASE_SECONDS": "0.5",
        "MENTORING_NOTIFICATION_PUBLIC_BASE_URL": "https://mentoring.acme.example",
        "MENTORING_NOTIFICATION_MESSAGE_ID_DOMAIN": "mentoring.acme.example",
    }


async def as_person(tokens: KeycloakTokens, employee_id: str) -> Metadata:
    return bearer(await asyncio.to_thread(tokens.person, TENANT, employee_id))


RESPOND_BY = datetime(2031, 3, 1, 16, 0, tzinfo=UTC)


def proposal(match_id: str) -> CloudEvent:
    match = common_pb2.Match(
        match_id=match_id,
        program_id="prog-1",
        mentor_employee_id=MENTOR,
        mentee_employee_ids=[MENTEE],
        respond_by=timestamp(RESPOND_BY),
    )
    return new_event(
        "mentoring.matching.match.proposed.v1", "/t", events_pb2.MatchProposed(match=match), tenant=TENANT
    )


async def test_a_proposal_reaches_both_people_over_smtp_and_a_4xx_is_retried(
    kafka_bootstrap: str, namespace: str, data_dir: Path, directory_target: str, tokens: KeycloakTokens
) -> None:
    proposed = proposal("m-1")
    mentor, mentee = await as_person(tokens, MENTOR), await as_person(tokens, MENTEE)
    async with mail_server() as server:
        server.recorder.data_replies.append("451 4.3.0 Try again later")
        env = smtp_env(directory_target, server.port)
        with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, env) as service:
            async with grpc.aio.insecure_channel(service.grpc_target) as channel:
                stub = notification_pb2_grpc.NotificationServiceStub(channel)
                await stub.UpdatePreferences(
                    pb.NotificationPreferences(email=True, in_app=True, language="de"), metadata=mentee
                )
            await produce_raw(kafka_bootstrap, namespace + "matching.events.v1", [record(proposed, "m-1")])
            await wait_for(lambda: len(server.recorder.received) == 2, what="two e-mails received")
            async with grpc.aio.insecure_channel(service.grpc_target) as channel:
                stub = notification_pb2_grpc.NotificationServiceStub(channel)
                email_id = notification_id(proposed.id, MENTOR, Template.MATCH_PROPOSED, Channel.EMAIL)
                status = await stub.GetDeliveryStatus(
                    pb.GetDeliveryStatusRequest(notification_id=email_id), metadata=mentor
                )
            assert service.stop() == 0, service.log_tail()
    assert not (data_dir / "mailbox").exists(), "SMTP is the channel: nothing is written to a mailbox"
    by_address = {received.rcpt_tos[0]: received for received in server.recorder.received}
    assert set(by_address) == {"grace@example.com", "alan@example.com"}
    for address, received in by_address.items():
        message = received.message
        assert received.mail_from == "mentoring-noreply@example.invalid"
        assert address in message["To"]
        assert message["Message-ID"].endswith("@mentoring.acme.example>")
        assert message["List-Unsubscribe"].startswith(
            "<https://mentoring.acme.example/notifications/unsubscribe?token="
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    mentor_message = by_address["grace@example.com"].message
    assert mentor_message["Message-ID"] == f"<{email_id}@mentoring.acme.example>"
    # Each in their language and timezone, naming the other (looked up at send time), linking to the match.
    assert mentor_message["Subject"] == "Proposed mentee: Alan Turing"
    assert mentor_message["Content-Language"] == "en"
    mentor_text = text_of(mentor_message)
    assert mentor_text.startswith("Hello Grace Hopper,")
    assert "Alan Turing has been proposed to you as a mentee" in mentor_text
    assert "by Saturday 1 March 2031, 11:00 EST" in mentor_text
    assert "https://mentoring.acme.example/matches/m-1" in mentor_text
    mentee_message = by_address["alan@example.com"].message
    assert mentee_message["Subject"] == "Vorgeschlagen als Mentor: Grace Hopper"
    assert mentee_message["Content-Language"] == "de"
    mentee_text = text_of(mentee_message)
    assert mentee_text.startswith("Hallo Alan Turing,")
    assert "wurde Ihnen Grace Hopper als Mentor vorgeschlagen" in mentee_text
    assert "bis Samstag, 1. März 2031, 17:00 Uhr CET" in mentee_text
    assert 'lang="de"' in html_of(mentee_message)
    # One of the two was first answered 451, and went through on its second attempt.
    history = [(a.attempt, a.outcome, a.reason, a.detail) for a in status.history]
    assert (status.status, status.channel) == ("delivered", "email")
    assert history in (
        [(1, "delivered", "", "250")],
        [(1, "retry", "smtp_deferred", "451"), (2, "delivered", "", "250")],
    )


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def html_of(message: Any) -> str:
    return str(message.get_body(("html",)).get_content())


def session_event(kind: str, starts: datetime, event_type: str) -> CloudEvent:
    session = events_pb2.Session(
        session_id="s-1", match_id="m-2", starts_at=timestamp(starts), duration_minutes=60
    )
    message: Any = (
        events_pb2.SessionScheduled(session=session)
        if kind == "scheduled"
        else events_pb2.SessionCancelled(session=session, cause=common_pb2.CANCELLATION_CAUSE_REQUESTED)
    )
    return new_event(event_type, "/t", message, tenant=TENANT)


def calendars(received: list[Received]) -> list[tuple[str, str, int, datetime, set[str]]]:
    """(recipient, METHOD, SEQUENCE, DTSTART, attendees) of each calendar part, parsed by icalendar."""
    found = []
    for item in received:
        for part in item.message.walk():
            if part.get_content_type() == "text/calendar":
                calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
                [event] = calendar.walk("VEVENT")
                attendees = {str(attendee) for attendee in event["ATTENDEE"]}
                found.append(
                    (
                        item.rcpt_tos[0],
                        str(calendar["METHOD"]),
                        int(event["SEQUENCE"]),
                        event.decoded("DTSTART"),
                        attendees,
                    )
                )
    return sorted(found, key=lambda entry: (entry[2], entry[0]))


async def test_a_session_scheduled_moved_and_cancelled_reaches_the_calendars(
    kafka_bootstrap: str, namespace: str, data_dir: Path, directory_target: str
) -> None:
    starts = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
    moved_to = starts + timedelta(days=1)
    scheduled = session_event("scheduled", starts, "mentoring.session.session.scheduled.v1")
    moved = session_event("scheduled", moved_to, "mentoring.session.session.scheduled.v1")
    cancelled = session_event("cancelled", moved_to, "mentoring.session.session.cancelled.v1")
    async with mail_server() as server:
        env = smtp_env(directory_target, server.port)
        with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, env) as service:
            await produce_raw(
                kafka_bootstrap, namespace + "matching.events.v1", [record(proposal("m-2"), "m-2")]
            )
            await wait_for(lambda: len(server.recorder.received) == 2, what="the proposal's e-mails")
            for expected, event in ((4, scheduled), (6, moved), (8, cancelled)):
                await produce_raw(kafka_bootstrap, namespace + "session.events.v1", [record(event, "m-2")])
                await wait_for(
                    lambda n=expected: len(server.recorder.received) == n, what=f"{expected} e-mails"
                )
            assert service.stop() == 0, service.log_tail()
    both = {"mailto:grace@example.com", "mailto:alan@example.com"}
    assert calendars(server.recorder.received) == [
        ("alan@example.com", "REQUEST", 0, starts, both),
        ("grace@example.com", "REQUEST", 0, starts, both),
        ("alan@example.com", "REQUEST", 1, moved_to, both),
        ("grace@example.com", "REQUEST", 1, moved_to, both),
        ("alan@example.com", "CANCEL", 2, moved_to, both),
        ("grace@example.com", "CANCEL", 2, moved_to, both),
    ]
