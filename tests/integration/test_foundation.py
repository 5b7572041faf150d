"""The platform's reliability rules on the real broker and real SQLite files, with services as real
processes: outbox to consumer exactly once, duplicates skipped and counted, bad records dead-lettered
while the consumer goes on, and a relay killed mid-batch that loses nothing on restart."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.shared.db import Database
from services.shared.envelope import new_event
from services.shared.outbox import stage_events
from tests.support.kafka import read_topic
from tests.support.processes import ServiceProcess
from tests.support.scenarios import (
    PROGRAM_CREATED,
    assert_dead_lettered,
    bad_records_and_a_redelivery,
    program_created,
)
from tests.support.waiting import rows, wait_for

pytestmark = pytest.mark.integration

ENROLLMENT_MIGRATIONS = Path(__file__).resolve().parents[2] / "services/enrollment/adapters/migrations"


async def test_bad_records_are_dead_lettered_duplicates_skipped_and_the_consumer_goes_on(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> None:
    topic = namespace + "enrollment.events.v1"
    database = data_dir / "matching.db"

    async def programs_stored() -> int:
        return len(rows(database, "SELECT program_id FROM programs"))

    with ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as matching:
        run = await bad_records_and_a_redelivery(matching, kafka_bootstrap, topic, programs_stored)

    assert sorted(r[0] for r in rows(database, "SELECT program_id FROM programs")) == [
        "prog-00001",
        "prog-00002",
    ]
    assert sorted(r[0] for r in rows(database, "SELECT event_id FROM inbox")) == sorted(run.applied_ids)
    assert_dead_lettered(run, topic)


async def test_relay_killed_mid_batch_loses_nothing_and_the_consumer_applies_each_once(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> None:
    total = 10_000
    producer_dir = data_dir / "enrollment"
    producer_dir.mkdir()
    # The committed state changes: outbox rows written by the same API the handlers use.
    database = Database(f"sqlite+aiosqlite:///{producer_dir / 'enrollment.db'}")
    await database.migrate(ENROLLMENT_MIGRATIONS)
    events = [
        new_event(PROGRAM_CREATED, "enrollment", program_created(i), tenant="acme") for i in range(total)
    ]
    async with database.transaction() as session:
        await stage_events(session, [(event, event.data.program.program_id) for event in events])  # type: ignore[union-attr]
    await database.dispose()
    outbox_file = producer_dir / "enrollment.db"

    def published() -> int:
        return rows(outbox_file, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")[0][0]  # type: ignore[return-value]

    small_batches = {"MENTORING_ENROLLMENT_OUTBOX_BATCH_SIZE": "200"}
    enrollment = ServiceProcess("enrollment", producer_dir, namespace, kafka_bootstrap, small_batches).start()
    try:
        await wait_for(lambda: published() > 0, timeout=60)
        enrollment.kill()
    finally:
        enrollment.kill()
    published_before_restart = published()
    assert 0 < published_before_restart < total, "the kill must land mid-publication"

    consumer_dir = data_dir / "matching"
    consumer_dir.mkdir()
    with (
        ServiceProcess("enrollment", producer_dir, namespace, kafka_bootstrap, small_batches),
        ServiceProcess("matching", consumer_dir, namespace, kafka_bootstrap),
    ):
        await wait_for(lambda: published() == total, timeout=120)
        records = await read_topic(kafka_bootstrap, namespace + "enrollment.events.v1", expected=total)
        matching_db = consumer_dir / "matching.db"
        await wait_for(lambda: rows(matching_db, "SELECT count(*) FROM programs")[0][0] == total, timeout=120)

    event_ids = [dict(record.headers)["ce_id"].decode() for record in records]
    assert set(event_ids) == {event.id for event in events}, "every outbox row reached the topic"
    assert rows(matching_db, "SELECT count(*) FROM inbox")[0][0] == total, "each applied exactly once"
    # Per key, the order of first appearance on the topic is the order of the outbox.
    position = {event.id: index for index, event in enumerate(events)}
    by_partition: dict[int, list[int]] = {}
    seen: set[str] = set()
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event_id = dict(record.headers)["ce_id"].decode()
        if event_id not in seen:
            seen.add(event_id)
            by_partition.setdefault(record.partition, []).append(position[event_id])
    for order in by_partition.values():
        assert order == sorted(order)


@pytest.mark.parametrize("service", ["enrollment", "matching", "session", "notification"])
async def test_each_service_reports_serving_and_serves_prometheus_metrics(
    kafka_bootstrap: str, namespace: str, data_dir: Path, service: str
) -> None:
    with ServiceProcess(service, data_dir, namespace, kafka_bootstrap) as process:
        text = urllib.request.urlopen(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5).read()
        families = {family.name for family in text_string_to_metric_families(text.decode())}
        assert "mentoring_outbox_backlog" in families
        assert "grpc_server_handled" in families  # the readiness probe's own Check was counted
        assert process.stop() == 0, process.log_tail()
