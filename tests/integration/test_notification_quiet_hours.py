"""Quiet hours on the real broker, in the recipient's own zone: the mentee (Berlin, from their
enrolment) is in quiet hours now, so the proposal's e-mail to them waits until the window ends there,
while the mentor's goes at once; a cancelled session is urgent and reaches the mentee at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from mentoring.v1 import common_pb2, events_pb2, notification_pb2_grpc
from mentoring.v1 import notification_pb2 as pb

from services.shared.envelope import new_event
from services.shared.timestamps import timestamp
from tests.integration.test_notification_smtp import (
    MENTEE,
    TENANT,
    as_person,
    directory_target,
    proposal,
    record,
    smtp_env,
)
from tests.support.identity import KeycloakTokens
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import rows, wait_for
from tests.unit.notification.mail_server import mail_server

pytestmark = pytest.mark.integration
__all__ = ["directory_target"]  # the fixture, shared
BERLIN = ZoneInfo("Europe/Berlin")


async def test_quiet_hours_hold_what_can_wait_until_the_end_of_the_window_there(
    kafka_bootstrap: str, namespace: str, data_dir: Path, directory_target: str, tokens: KeycloakTokens
) -> None:
    local = datetime.now(BERLIN)
    start, end = (
        (local - timedelta(hours=1)).strftime("%H:%M"),
        (local + timedelta(hours=2)).strftime("%H:%M"),
    )
    enrolled = new_event(
        "mentoring.enrollment.participant.enrolled.v1",
        "/t",
        events_pb2.ParticipantEnrolled(
            participant=common_pb2.Participant(
                program_id="prog-1", employee_id=MENTEE, role=common_pb2.ROLE_MENTEE, timezone="Europe/Berlin"
            )
        ),
        tenant=TENANT,
    )
    session = events_pb2.Session(
        session_id="s-q", match_id="m-q", starts_at=timestamp(datetime.now(UTC) + timedelta(days=3))
    )
    cancelled = new_event(
        "mentoring.session.session.cancelled.v1",
        "/t",
        events_pb2.SessionCancelled(session=session, cause=common_pb2.CANCELLATION_CAUSE_REQUESTED),
        tenant=TENANT,
    )
    database = data_dir / "notification.db"
    mentee = await as_person(tokens, MENTEE)
    async with mail_server() as server:
        env = smtp_env(directory_target, server.port)
        with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, env) as service:
            async with grpc.aio.insecure_channel(service.grpc_target) as channel:
                stub = notification_pb2_grpc.NotificationServiceStub(channel)
                await stub.UpdatePreferences(
                    pb.NotificationPreferences(
                        email=True, in_app=False, quiet_hours_start=start, quiet_hours_end=end
                    ),
                    metadata=mentee,
                )
            await produce_raw(
                kafka_bootstrap, namespace + "enrollment.events.v1", [record(enrolled, "prog-1")]
            )
            await wait_for(lambda: rows(database, "SELECT timezone FROM people") == [("Europe/Berlin",)])
            await produce_raw(
                kafka_bootstrap, namespace + "matching.events.v1", [record(proposal("m-q"), "m-q")]
            )
            await wait_for(lambda: len(server.recorder.received) >= 1, what="the mentor's e-mail")
            await produce_raw(kafka_bootstrap, namespace + "session.events.v1", [record(cancelled, "m-q")])
            await wait_for(lambda: len(server.recorder.received) >= 3, what="both cancellation e-mails")
            # The mentor's in-app item and both e-mails (the mentee turned in-app off).
            settled = (
                "SELECT count(*) FROM notifications "
                "WHERE template = 'session_cancelled' AND state = 'delivered'"
            )
            await wait_for(lambda: rows(database, settled) == [(3,)], what="the cancellations recorded")
            held = rows(
                database,
                "SELECT next_attempt_at, template FROM notifications "
                "WHERE recipient_id = ? AND channel = 'email' AND state = 'pending'",
                MENTEE,
            )
            assert service.stop() == 0, service.log_tail()
    subjects = sorted((item.rcpt_tos[0], str(item.message["Subject"])) for item in server.recorder.received)
    assert subjects == [
        ("alan@example.com", "Mentoring session cancelled"),
        ("grace@example.com", "Mentoring session cancelled"),
        ("grace@example.com", "Proposed mentee: Alan Turing"),
    ]
    # Held: the e-mails of the enrolment and of the proposal, both until the window's end in Berlin.
    wanted = datetime.combine(local.date(), datetime.strptime(end, "%H:%M").time(), BERLIN)
    if wanted <= local:
        wanted += timedelta(days=1)
    assert sorted(
        (template, datetime.fromisoformat(str(until)).astimezone(UTC)) for until, template in held
    ) == [
        ("enrolled", wanted.astimezone(UTC)),
        ("match_proposed", wanted.astimezone(UTC)),
    ]
