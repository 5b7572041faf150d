"""The audit trail's store and writer on a real SQLite database: the table refuses updates, retention
deletes only what is past it, a write that fails never fails the call (counted, and tried again), the
ids of a request are read by field name only, and every service's runtime keeps a trail."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import common_pb2, enrollment_pb2, events_pb2, matching_pb2
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from services.shared import audit
from services.shared.audit import MAX_ID_CHARS, AuditTrail, Call, request_ids
from services.shared.audit_store import AuditRecord, append, audit_log_table
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.topics import AUDIT_EVENTS, AUDIT_RETENTION_DAYS, DAY_MS, TOPICS, RegistryMismatch

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
HR = Principal("sub-1", "acme", "HR-1", None, frozenset({"employee", "hr_admin"}))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}")
    await db.migrate(tmp_path / "no-service-migrations")
    yield db
    await db.dispose()


def record(audit_id: str, recorded_at: datetime) -> AuditRecord:
    return AuditRecord(
        audit_id=audit_id,
        recorded_at=recorded_at,
        service="matching",
        grpc_service="mentoring.v1.MatchingService",
        grpc_method="RunMatching",
        outcome="OK",
        reason="",
        tenant="acme",
        actor_employee_id="HR-1",
        actor_service="",
        actor_subject="sub-1",
        ids=(("program_id", ("prog-1",)),),
        audited=True,
    )


def call(outcome: str = "OK", audited: bool = True) -> Call:
    request = matching_pb2.RunMatchingRequest(program_id="prog-1")
    return Call("mentoring.v1.MatchingService", "RunMatching", outcome, "", HR, request, audited)


async def stored_ids(database: Database) -> list[str]:
    async with database.read_transaction() as session:
        found = await session.execute(select(audit_log_table.c.audit_id).order_by(audit_log_table.c.id))
        return list(found.scalars())


async def test_the_table_is_append_only_an_update_is_refused(database: Database) -> None:
    async with database.transaction() as session:
        await append(session, [record("a-1", NOW)])
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(text("UPDATE audit_log SET outcome = 'PERMISSION_DENIED'"))
    async with database.read_transaction() as session:
        outcome = (await session.execute(select(audit_log_table.c.outcome))).scalar_one()
    assert outcome == "OK"


async def test_retention_deletes_only_the_records_past_it_in_chunks(database: Database) -> None:
    old = [record(f"old-{i}", NOW - timedelta(days=401, minutes=i)) for i in range(5)]
    async with database.transaction() as session:
        await append(session, [*old, record("young", NOW - timedelta(days=399))])
    trail = AuditTrail("matching", database, retention=timedelta(days=400), chunk_size=2)

    assert await trail.prune(NOW) == 5
    assert await stored_ids(database) == ["young"]
    assert await AuditTrail("matching", database, retention=None).prune(NOW) == 0


def failures(reason: str) -> float:
    labels = {"service": "enrollment", "reason": reason}
    return REGISTRY.get_sample_value("mentoring_audit_failures_total", labels) or 0.0


async def test_a_failing_write_is_counted_and_tried_again_until_it_succeeds(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'late.db'}")  # not migrated yet: no table
    trail = AuditTrail("enrollment", database, retention=None)
    await trail.start()
    try:
        before = failures("write_error")
        trail.record(call())  # never raises, never waits
        for _ in range(100):
            if failures("write_error") > before:
                break
            await asyncio.sleep(0.05)
        assert failures("write_error") > before
        await database.migrate(tmp_path / "no-service-migrations")
        await asyncio.wait_for(trail.flush(), timeout=30)
        assert len(await stored_ids(database)) == 1
    finally:
        await trail.stop()
        await database.dispose()


async def test_a_batch_refused_at_every_try_is_given_up_and_counted_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "MAX_WRITE_ATTEMPTS", 2)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'never.db'}")
    trail = AuditTrail("enrollment", database, retention=None)
    await trail.start()
    before = failures("gave_up")
    trail.record(call())
    await asyncio.wait_for(trail.flush(), timeout=30)  # the writer goes on rather than stall behind it
    assert failures("gave_up") == before + 1
    await trail.stop()
    await database.dispose()


async def test_records_the_writer_cannot_store_by_the_stop_are_counted_lost(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'never.db'}")
    trail = AuditTrail("enrollment", database, retention=None)
    await trail.start()
    before = failures("shutdown")
    trail.record(call())
    await asyncio.wait_for(trail.stop(), timeout=30)
    assert failures("shutdown") == before + 1
    await database.dispose()


async def test_a_full_queue_drops_the_record_and_counts_it(database: Database) -> None:
    trail = AuditTrail("enrollment", database, retention=None, queue_size=1)
    before = failures("queue_full")
    trail.record(call())
    trail.record(call())
    assert failures("queue_full") == before + 1
    await trail.flush()
    assert len(await stored_ids(database)) == 1


async def test_only_audited_rpcs_and_refusals_are_kept(database: Database) -> None:
    trail = AuditTrail("matching", database, retention=None)
    for outcome, audited in [("OK", False), ("NOT_FOUND", False), ("INVALID_ARGUMENT", False)]:
        trail.record(call(outcome, audited))
    for outcome, audited in [("PERMISSION_DENIED", False), ("UNAUTHENTICATED", False), ("ABORTED", True)]:
        trail.record(call(outcome, audited))
    await trail.flush()
    async with database.read_transaction() as session:
        outcomes = (await session.execute(select(audit_log_table.c.outcome))).scalars().all()
    assert sorted(outcomes) == ["ABORTED", "PERMISSION_DENIED", "UNAUTHENTICATED"]


async def test_a_service_account_is_recorded_with_the_tenant_its_request_names(database: Database) -> None:
    notification = Principal("sub-n", None, None, "notification", frozenset({"contact_lookup"}))
    request = enrollment_pb2.ListProgramsRequest(tenant="globex")
    trail = AuditTrail("enrollment", database, retention=None)
    trail.record(
        Call("mentoring.v1.EnrollmentService", "ListPrograms", "OK", "", notification, request, True)
    )
    await trail.flush()
    async with database.read_transaction() as session:
        row = (await session.execute(select(audit_log_table))).one()
    assert (row.tenant, row.actor_service, row.actor_employee_id, row.actor_subject) == (
        "globex",
        "notification",
        "",
        "sub-n",
    )


async def test_every_value_is_fitted_to_its_column_so_no_record_can_fail_its_batch(
    database: Database,
) -> None:
    notification = Principal("s" * 500, None, None, "notification", frozenset({"contact_lookup"}))
    request = matching_pb2.GetMatchRequest(match_id="m\x00-1\n")
    trail = AuditTrail("matching", database, retention=None)
    refused = Call(
        "x" * 300, "y" * 300, "PERMISSION_DENIED", "z" * 300, notification, request, False, "t" * 300
    )
    trail.record(refused)
    await trail.flush()
    async with database.read_transaction() as session:
        row = (await session.execute(select(audit_log_table))).one()
    for column in audit_log_table.columns:
        length = getattr(column.type, "length", None)
        if length is not None:
            assert len(getattr(row, column.name)) <= length, column.name
    assert json.loads(row.ids) == {"match_id": ["m?-1?"]}
    assert row.tenant == "t" * 99 + "…"


def test_the_ids_of_a_request_are_read_by_field_name_nested_ones_too() -> None:
    request = enrollment_pb2.CreateProgramRequest(
        tenant="acme",
        request_id="r-1",
        program=common_pb2.Program(
            program_id="prog-1", name="Secret programme name", manager_ids=["PM-1", "PM-2"]
        ),
    )
    assert dict(request_ids(request)) == {
        "tenant": ("acme",),
        "request_id": ("r-1",),
        "program.program_id": ("prog-1",),
        "program.manager_ids": ("PM-1", "PM-2"),
    }
    long = matching_pb2.GetMatchRequest(match_id="x" * 1000)
    [(_, (clipped,))] = request_ids(long)
    assert len(clipped) == MAX_ID_CHARS and clipped.endswith("…")
    assert request_ids(matching_pb2.GetMatchRequest()) == ()
    assert request_ids(b"raw bytes") == ()


def test_the_record_event_travels_on_its_own_topic_kept_for_the_audit_retention() -> None:
    topic = TOPICS[AUDIT_EVENTS]
    assert set(topic.producers) == {"enrollment", "matching", "session", "notification"}
    assert topic.consumers == ()
    assert topic.retention_ms == AUDIT_RETENTION_DAYS * DAY_MS > TOPICS["matching.events.v1"].retention_ms
    message = record("a-1", NOW).message()
    assert isinstance(message, events_pb2.AuditRecorded) and message.recorded_at.ToDatetime(UTC) == NOW
    assert json.loads(record("a-1", NOW).row()["ids"]) == {"program_id": ["prog-1"]}


def test_a_trail_of_a_service_the_registry_does_not_list_is_refused(database: Database) -> None:
    with pytest.raises(RegistryMismatch):
        AuditTrail("hris-adapter", database, retention=None)


@pytest.mark.parametrize("service", ["enrollment", "matching", "session", "notification"])
def test_every_service_runtime_keeps_a_trail_and_prunes_it_unless_told_to_keep_it(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORING_DATA_DIR", str(tmp_path))
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    runtime = bootstrap.build()
    assert runtime.audit.retention == timedelta(days=AUDIT_RETENTION_DAYS)
    assert "audit_retention" in runtime.jobs.names
    monkeypatch.setenv("MENTORING_AUDIT_RETENTION_DAYS", "0")
    kept = bootstrap.build()
    assert kept.audit.retention is None and "audit_retention" not in kept.jobs.names


async def test_the_records_count_is_what_the_table_holds(database: Database) -> None:
    trail = AuditTrail("matching", database, retention=None, batch_size=3)
    for _ in range(7):
        trail.record(call())
    await trail.start()
    await trail.flush()
    await trail.stop()
    async with database.read_transaction() as session:
        assert (await session.execute(select(func.count()).select_from(audit_log_table))).scalar_one() == 7
