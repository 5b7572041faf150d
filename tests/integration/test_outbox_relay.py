"""The outbox relay on the real broker: a row flagged by an erasure while it waited is published like
any other (consumers need it, in order) and then deleted rather than kept as published."""

from __future__ import annotations

from pathlib import Path

import pytest
from mentoring.v1 import events_pb2
from sqlalchemy import select

from services.shared.db import Database
from services.shared.envelope import decode, new_event
from services.shared.kafka_admin import ensure_topics
from services.shared.outbox import OutboxRelay, forget_subjects, outbox_table, stage_events
from services.shared.topics import ENROLLMENT_EVENTS
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

CLOSED = "mentoring.enrollment.program.closed.v1"


async def test_rows_about_an_erased_subject_are_deleted_once_published(
    kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, 1, namespace)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}")
    await database.migrate(tmp_path / "no-service-migrations")
    events = [
        new_event(CLOSED, "test", events_pb2.ProgramClosed(program_id=subject), subject=subject, tenant="t")
        for subject in ("kept-1", "erased", "kept-2")
    ]
    async with database.transaction() as session:
        await stage_events(session, [(event, "program") for event in events])
        assert await forget_subjects(session, "t", {"erased"}) == 0  # nothing published yet: flagged
    relay = OutboxRelay("test", database, kafka_bootstrap, namespace=namespace)
    await relay.start(background=False)
    try:
        assert await relay.publish_pending() == 3
    finally:
        await relay.stop()
    async with database.transaction() as session:
        rows = await session.execute(select(outbox_table.c.event_id, outbox_table.c.published_at))
        left = {event_id: published_at is not None for event_id, published_at in rows.tuples()}
    await database.dispose()

    records = await read_topic(kafka_bootstrap, namespace + ENROLLMENT_EVENTS, expected=3)
    assert [decode(record.headers, record.value).id for record in records] == [event.id for event in events]
    assert left == {events[0].id: True, events[2].id: True}
