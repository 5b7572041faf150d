"""The audit trail on the real broker: records leave through the outbox as AuditRecorded CloudEvents on
``audit.events.v1`` (the audit id is the event id, the tenant its attribute and key), from a server in
this process and from a running service process, whose every refused call is recorded. And on a real
PostgreSQL: the table refuses updates and the retention deletes what is past it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from mentoring.v1 import events_pb2, matching_pb2, matching_pb2_grpc, session_pb2, session_pb2_grpc
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.shared.audit import AuditTrail
from services.shared.audit_store import append, audit_log_table
from services.shared.db import Database
from services.shared.envelope import decode
from services.shared.kafka_admin import ensure_topics
from services.shared.outbox import OutboxRelay
from services.shared.topics import AUDIT_EVENTS, ce_type_of
from tests.support.identity import SignedTokens, bearer
from tests.support.kafka import read_topic
from tests.support.postgres import PostgresServer
from tests.support.processes import ServiceProcess, metric_value
from tests.support.waiting import wait_for
from tests.unit.shared.test_audit import MATCHING, guarded_matching_server, manual_match
from tests.unit.shared.test_audit_trail import NOW, record

pytestmark = pytest.mark.integration

AUDIT_RECORDED = ce_type_of(events_pb2.AuditRecorded)


async def test_the_outbox_publishes_each_record_as_an_audit_recorded_event(
    kafka_bootstrap: str, namespace: str, tmp_path: Path, signed_tokens: SignedTokens
) -> None:
    await ensure_topics(kafka_bootstrap, 1, namespace)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(tmp_path / "no-service-migrations")
    relay = OutboxRelay("matching", database, kafka_bootstrap, namespace=namespace)
    audit = AuditTrail("matching", database, retention=None, after_write=relay.wake)
    server = guarded_matching_server(signed_tokens, audit)
    await relay.start()
    await audit.start()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            hr = bearer(signed_tokens.person("acme", "HR-1", "hr_admin"))
            await stub.CreateManualMatch(manual_match(), metadata=hr, timeout=10)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetMatch(matching_pb2.GetMatchRequest(match_id="m-9"), timeout=10)
        records = await read_topic(kafka_bootstrap, namespace + AUDIT_EVENTS, expected=2)
    finally:
        await server.stop()
        await audit.stop()
        await relay.stop()
    async with database.read_transaction() as session:
        audit_ids = list((await session.execute(select(audit_log_table.c.audit_id))).scalars())
    await database.dispose()

    events = [decode(record.headers, record.value) for record in records]
    assert [event.type for event in events] == [AUDIT_RECORDED, AUDIT_RECORDED]
    assert sorted(event.id for event in events) == sorted(audit_ids)
    by_method = {event.payload(events_pb2.AuditRecorded).grpc_method: event for event in events}
    manual, anonymous = by_method["CreateManualMatch"], by_method["GetMatch"]
    assert (manual.tenant, manual.source) == ("acme", "/mentoring/matching")
    assert manual.subject == f"/{MATCHING.full_name}/CreateManualMatch"
    recorded = manual.payload(events_pb2.AuditRecorded)
    assert (recorded.outcome, recorded.actor.employee_id, recorded.audited) == ("OK", "HR-1", True)
    refused = anonymous.payload(events_pb2.AuditRecorded)
    assert (refused.outcome, refused.reason, refused.HasField("actor")) == (
        "UNAUTHENTICATED",
        "MISSING_TOKEN",
        False,
    )
    assert {record.key for record in records} == {b"acme", b""}


async def test_a_running_service_records_a_refused_call_and_publishes_it(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> None:
    with ServiceProcess("session", data_dir, namespace, kafka_bootstrap) as session:
        with session.channel() as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            with pytest.raises(grpc.RpcError) as raised:
                stub.ListSessions(session_pb2.ListSessionsRequest(match_id="m-1"), timeout=10)
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        records = await read_topic(kafka_bootstrap, namespace + AUDIT_EVENTS, expected=1)

        def counted() -> float:
            return metric_value(
                session.metrics_port,
                "mentoring_audit_records_total",
                service="session",
                outcome="UNAUTHENTICATED",
            )

        await wait_for(lambda: counted() == 1, timeout=10, what="the record counted")
        assert session.stop() == 0, session.log_tail()

    [event] = [decode(record.headers, record.value) for record in records]
    recorded = event.payload(events_pb2.AuditRecorded)
    assert (recorded.service, recorded.grpc_method, recorded.outcome) == (
        "session",
        "ListSessions",
        "UNAUTHENTICATED",
    )
    assert [(ids.field, list(ids.values)) for ids in recorded.ids] == [("match_id", ["m-1"])]


async def test_on_postgres_the_table_refuses_updates_and_retention_deletes_what_is_past_it(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    database = Database(await postgres_server.create_database("audit"))
    try:
        await database.migrate(tmp_path / "no-service-migrations")
        async with database.transaction() as session:
            await append(session, [record("old", NOW - timedelta(days=401)), record("young", NOW)])
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.transaction() as session:
                await session.execute(text("UPDATE audit_log SET outcome = 'PERMISSION_DENIED'"))
        trail = AuditTrail("matching", database, retention=timedelta(days=400))
        assert await trail.prune(NOW) == 1
        async with database.read_transaction() as session:
            rows = (
                await session.execute(select(audit_log_table.c.audit_id, audit_log_table.c.outcome))
            ).all()
        assert [tuple(row) for row in rows] == [("young", "OK")]
    finally:
        await database.dispose()
