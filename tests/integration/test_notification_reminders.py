"""Reminders on the real broker, across a restart: a session scheduled to start in an hour and some
seconds leaves a reminder due in those seconds; the service stops before it is due and a new process
on the same database sends it: each person gets it once, over SMTP, and it never comes again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import events_pb2

from services.shared.envelope import new_event
from services.shared.timestamps import timestamp
from tests.integration.test_notification_smtp import TENANT, directory_target, proposal, record, smtp_env
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess
from tests.support.waiting import rows, wait_for
from tests.unit.notification.mail_server import mail_server

pytestmark = pytest.mark.integration
__all__ = ["directory_target"]  # the fixture, shared


def reminders_received(subjects: list[str]) -> list[str]:
    return sorted(subject for subject in subjects if subject.startswith("Reminder"))


async def test_a_reminder_fires_once_after_a_restart(
    kafka_bootstrap: str, namespace: str, data_dir: Path, directory_target: str
) -> None:
    starts = datetime.now(UTC) + timedelta(hours=1, seconds=45)
    session = events_pb2.Session(
        session_id="s-r", match_id="m-r", starts_at=timestamp(starts), duration_minutes=30
    )
    scheduled = new_event(
        "mentoring.session.session.scheduled.v1",
        "/t",
        events_pb2.SessionScheduled(session=session),
        tenant=TENANT,
    )
    database = data_dir / "notification.db"
    async with mail_server() as server:
        env = {
            **smtp_env(directory_target, server.port),
            "MENTORING_NOTIFICATION_REMINDER_LEADS_HOURS": "[1]",
        }

        def subjects() -> list[str]:
            return [str(item.message["Subject"]) for item in server.recorder.received]

        with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, env) as first:
            await produce_raw(
                kafka_bootstrap, namespace + "matching.events.v1", [record(proposal("m-r"), "m-r")]
            )
            await produce_raw(kafka_bootstrap, namespace + "session.events.v1", [record(scheduled, "m-r")])
            await wait_for(lambda: len(server.recorder.received) == 4, what="proposal and invitation e-mails")
            assert rows(database, "SELECT lead_hours FROM reminders") == [(1,)]
            assert first.stop() == 0, first.log_tail()
        assert reminders_received(subjects()) == [], "not due yet when the first process stopped"

        with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, env) as second:
            await wait_for(lambda: len(reminders_received(subjects())) == 2, timeout=90, what="the reminders")
            await asyncio.sleep(2)  # a second firing would come within a poll or two
            assert second.stop() == 0, second.log_tail()
    assert reminders_received(subjects()) == ["Reminder: mentoring session in 1 hour"] * 2
    assert rows(database, "SELECT count(*) FROM reminders") == [(0,)]
    recipients = sorted(
        item.rcpt_tos[0] for item in server.recorder.received if "Reminder" in str(item.message["Subject"])
    )
    assert recipients == ["alan@example.com", "grace@example.com"]
