"""The notification service as a real process on the real broker and a real SQLite file: enrollment,
matching and session events in; inbox, preferences and delivery status over gRPC; e-mails in the mailbox
directory with contacts looked up over real gRPC; outcome events out through the outbox; duplicates
applied once; bad records dead-lettered while the consumers go on. Each person calls with their own
token from the real Keycloak, for themselves (tests/integration/test_notification_access.py tries the
refusals)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2, notification_pb2_grpc
from mentoring.v1 import notification_pb2 as pb

from services.notification.domain.model import Channel, notification_id
from services.notification.domain.templates import Template
from services.shared.envelope import CloudEvent, decode, encode_binary, new_event
from tests.support.identity import KeycloakTokens, Metadata, bearer
from tests.support.kafka import produce_raw, read_topic
from tests.support.processes import ServiceProcess, metric_value
from tests.support.waiting import rows, wait_for

pytestmark = pytest.mark.integration

MENTOR, MENTEE = "E-0042", "E-1001"
TENANT = "acme"
CONTACTS = {MENTOR: ("Grace Hopper", "grace@example.com"), MENTEE: ("Alan Turing", "alan@example.com")}


class Directory(enrollment_pb2_grpc.EnrollmentServiceServicer):
    """The enrollment service's contact look-up, served for real over gRPC by the test."""

    async def GetEmployeeContact(  # noqa: N802 - the gRPC method name
        self, request: enrollment_pb2.GetEmployeeContactRequest, context: Any
    ) -> enrollment_pb2.EmployeeContact:
        if request.employee_id not in CONTACTS:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown")
        name, address = CONTACTS[request.employee_id]
        return enrollment_pb2.EmployeeContact(
            employee_id=request.employee_id,
            display_name=name,
            email=address,
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


def match(match_id: str) -> common_pb2.Match:
    return common_pb2.Match(
        match_id=match_id, program_id="prog-1", mentor_employee_id=MENTOR, mentee_employee_ids=[MENTEE]
    )


async def as_person(tokens: KeycloakTokens, employee_id: str) -> Metadata:
    """Call metadata carrying the real token of ``employee_id`` of the tenant."""
    return bearer(await asyncio.to_thread(tokens.person, TENANT, employee_id))


def record(event: CloudEvent, key: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    headers, value = encode_binary(event)
    return key.encode(), value, headers


def count(database_file: Path, where: str) -> Callable[[], int]:
    return lambda: int(rows(database_file, f"SELECT count(*) FROM notifications WHERE {where}")[0][0])


async def test_events_become_inbox_items_and_emails_as_preferences_say(
    kafka_bootstrap: str, namespace: str, data_dir: Path, directory_target: str, tokens: KeycloakTokens
) -> None:
    program = events_pb2.ProgramCreated(
        program=common_pb2.Program(program_id="prog-1", name="Engineering 2030")
    )
    proposed = new_event(
        "mentoring.matching.match.proposed.v1",
        "/t",
        events_pb2.MatchProposed(match=match("m-1")),
        tenant=TENANT,
    )
    activated = new_event(
        "mentoring.matching.match.activated.v1",
        "/t",
        events_pb2.MatchActivated(match=match("m-1")),
        tenant=TENANT,
    )
    starts = Timestamp()
    starts.FromDatetime(datetime(2031, 3, 3, 15, 0, tzinfo=UTC))
    scheduled = new_event(
        "mentoring.session.session.scheduled.v1",
        "/t",
        events_pb2.SessionScheduled(
            session=events_pb2.Session(
                session_id="s-1", match_id="m-1", starts_at=starts, duration_minutes=45
            )
        ),
        tenant=TENANT,
    )
    extra_env = {"MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": directory_target}
    database = data_dir / "notification.db"
    mentor, mentee = await as_person(tokens, MENTOR), await as_person(tokens, MENTEE)
    with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, extra_env) as service:
        async with grpc.aio.insecure_channel(service.grpc_target) as channel:
            stub = notification_pb2_grpc.NotificationServiceStub(channel)
            preferences = await stub.GetPreferences(
                pb.GetPreferencesRequest(recipient_id=MENTEE), metadata=mentee
            )
            assert preferences.email is True
            await stub.UpdatePreferences(
                pb.NotificationPreferences(
                    recipient_id=MENTEE, email=False, in_app=True, muted_templates=["match_proposed"]
                ),
                metadata=mentee,
            )
            with pytest.raises(grpc.aio.AioRpcError) as bad_preferences:
                await stub.UpdatePreferences(
                    pb.NotificationPreferences(recipient_id=MENTEE, muted_templates=["x"]), metadata=mentee
                )
            assert bad_preferences.value.code() == grpc.StatusCode.INVALID_ARGUMENT

            await produce_raw(
                kafka_bootstrap,
                namespace + "enrollment.events.v1",
                [record(new_event("mentoring.enrollment.program.created.v1", "/t", program), "prog-1")],
            )
            await wait_for(lambda: rows(database, "SELECT name FROM programs") == [("Engineering 2030",)])
            # The proposal arrives twice (a redelivery): it must be applied once.
            await produce_raw(
                kafka_bootstrap,
                namespace + "matching.events.v1",
                [record(proposed, "m-1"), record(proposed, "m-1"), record(activated, "m-1")],
            )
            await wait_for(lambda: count(database, "template = 'match_activated'")() == 3)
            await produce_raw(kafka_bootstrap, namespace + "session.events.v1", [record(scheduled, "m-1")])
            await wait_for(lambda: count(database, "template = 'session_scheduled'")() == 3)
            await wait_for(lambda: count(database, "state = 'pending'")() == 0)

            mentor_inbox = await stub.ListInbox(pb.ListInboxRequest(recipient_id=MENTOR), metadata=mentor)
            mentee_inbox = await stub.ListInbox(pb.ListInboxRequest(recipient_id=MENTEE), metadata=mentee)
            assert [item.template for item in mentor_inbox.items] == [
                "session_scheduled",
                "match_activated",
                "match_proposed",
            ]
            assert [item.template for item in mentee_inbox.items] == ["session_scheduled", "match_activated"]
            texts = " ".join(item.title + item.body for item in (*mentor_inbox.items, *mentee_inbox.items))
            assert "Engineering 2030" in texts and "15:00 UTC" in texts
            for personal in (MENTOR, MENTEE, "Grace", "Alan", "@example.com"):
                assert personal not in texts

            newest = mentor_inbox.items[0]
            with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
                await stub.MarkRead(
                    pb.MarkReadRequest(notification_id=newest.notification_id, recipient_id=MENTEE),
                    metadata=mentee,
                )
            # Another person's item is not in the mentee's inbox: not found, as if it did not exist.
            assert not_theirs.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await stub.MarkRead(
                    pb.MarkReadRequest(notification_id="nope", recipient_id=MENTOR), metadata=mentor
                )
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND
            read = await stub.MarkRead(
                pb.MarkReadRequest(notification_id=newest.notification_id, recipient_id=MENTOR),
                metadata=mentor,
            )
            assert read.read
            unread = await stub.ListInbox(
                pb.ListInboxRequest(
                    recipient_id=MENTOR, unread_only=True, page=common_pb2.PageRequest(page_size=1)
                ),
                metadata=mentor,
            )
            assert unread.page.total_size == 2 and unread.page.next_page_token
            assert unread.items[0].template == "match_activated"

            email_id = notification_id(activated.id, MENTOR, Template.MATCH_ACTIVATED, Channel.EMAIL)
            status = await stub.GetDeliveryStatus(
                pb.GetDeliveryStatusRequest(notification_id=email_id), metadata=mentor
            )
            assert (status.channel, status.status, status.attempts) == ("email", "delivered", 1)

        published = await read_topic(kafka_bootstrap, namespace + "notification.events.v1", expected=8)
        duplicates = metric_value(
            service.metrics_port, "mentoring_consumer_messages_total", outcome="duplicate"
        )
        assert service.stop() == 0, service.log_tail()

    assert duplicates == 1
    mails = sorted((data_dir / "mailbox").glob("*.eml"))
    assert len(mails) == 3, "the mentor's three notifications; the mentee turned e-mail off"
    messages = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in mails]
    assert {message["To"] for message in messages} == {"Grace Hopper <grace@example.com>"}
    assert all(
        message.get_body(("plain",)).get_content().startswith("Hello Grace Hopper,") for message in messages
    )

    events = [decode(list(r.headers), r.value) for r in published]
    outcomes = Counter(
        (r.key.decode(), event.type.rsplit(".", 2)[-2], event.message().channel)  # type: ignore[attr-defined]
        for r, event in zip(published, events, strict=True)
    )
    assert outcomes == {
        (MENTOR, "delivered", "in_app"): 3,
        (MENTOR, "delivered", "email"): 3,
        (MENTEE, "delivered", "in_app"): 2,
    }


async def test_without_a_directory_emails_fail_and_bad_records_are_dead_lettered(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    enrolled = new_event(
        "mentoring.enrollment.participant.enrolled.v1",
        "/t",
        events_pb2.ParticipantEnrolled(
            participant=common_pb2.Participant(
                enrollment_id="enr-1", program_id="prog-9", employee_id=MENTEE, role=common_pb2.ROLE_MENTEE
            )
        ),
        tenant=TENANT,
    )
    orphan = new_event(
        "mentoring.session.session.scheduled.v1",
        "/t",
        events_pb2.SessionScheduled(session=events_pb2.Session(session_id="s-x", match_id="m-unknown")),
        tenant=TENANT,
    )
    garbage = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"garbage-1"),
        ("ce_source", b"/t"),
        ("ce_type", b"mentoring.session.session.scheduled.v1"),
    ]
    database = data_dir / "notification.db"
    mentee = await as_person(tokens, MENTEE)
    with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap) as service:
        await produce_raw(
            kafka_bootstrap,
            namespace + "session.events.v1",
            [record(orphan, "m-unknown"), (b"m-unknown", b"\xff\x00 not protobuf", garbage)],
        )
        await produce_raw(kafka_bootstrap, namespace + "enrollment.events.v1", [record(enrolled, "prog-9")])
        await wait_for(lambda: count(database, "channel = 'email' AND state = 'failed'")() == 1)
        async with grpc.aio.insecure_channel(service.grpc_target) as channel:
            stub = notification_pb2_grpc.NotificationServiceStub(channel)
            email_id = notification_id(enrolled.id, MENTEE, Template.ENROLLED, Channel.EMAIL)
            status = await stub.GetDeliveryStatus(
                pb.GetDeliveryStatusRequest(notification_id=email_id), metadata=mentee
            )
            assert (status.status, status.last_error) == ("failed", "contact_lookup_unavailable")
            inbox = await stub.ListInbox(pb.ListInboxRequest(recipient_id=MENTEE), metadata=mentee)
            assert [item.template for item in inbox.items] == ["enrolled"]
        dead = await read_topic(kafka_bootstrap, namespace + "session.events.v1.dlq", expected=2)
        published = await read_topic(kafka_bootstrap, namespace + "notification.events.v1", expected=2)
        assert service.stop() == 0, service.log_tail()

    reasons = {dict(r.headers)["ce_id"]: dict(r.headers)["dlq_reason"] for r in dead}
    assert reasons == {orphan.id.encode(): b"failed_precondition:match_unknown", b"garbage-1": b"malformed"}
    failed = [decode(list(r.headers), r.value) for r in published]
    failures = [event.message() for event in failed if event.type.endswith("failed.v1")]
    assert len(failures) == 1
    assert isinstance(failures[0], events_pb2.NotificationFailed)
    assert (failures[0].recipient_id, failures[0].channel, failures[0].reason) == (
        MENTEE,
        "email",
        "contact_lookup_unavailable",
    )
    assert all(r.key == MENTEE.encode() for r in published)
    assert not (data_dir / "mailbox").exists()
    assert rows(database, "SELECT count(*) FROM notifications WHERE tenant = 'acme'") == [(2,)]
