"""The audit trail on a real GrpcServer in this process, with tokens of the test's own issuer and a real
SQLite database migrated by the shared chain: an audited RPC's calls are recorded whatever their outcome,
any RPC's refusals (PERMISSION_DENIED, UNAUTHENTICATED) are, a plain success or NOT_FOUND of an RPC that
is not audited is not, and a record holds opaque ids only, never the request's free text."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message
from mentoring.v1 import events_pb2, matching_pb2, matching_pb2_grpc
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.shared.access import HR_ROLES, DenialReason, PermissionDenied
from services.shared.audit import AuditTrail
from services.shared.audit_store import audit_log_table
from services.shared.auth import current_principal
from services.shared.db import Database
from services.shared.errors import NotFound
from services.shared.grpc_server import GrpcServer
from services.shared.outbox import outbox_table
from services.shared.rpc_access import EVERY_PERSON, AccessTable, RpcAccess, guarded
from services.shared.topics import AUDIT_EVENTS, ce_type_of
from tests.support.identity import SignedTokens, bearer
from tests.support.signing import TestIssuer, payload

MATCHING = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"]
FREE_TEXT = "Quimbly Auditmarker <quimbly.auditmarker@acme.example> asked for this"

_RULES = {method.name: RpcAccess(people=EVERY_PERSON, objects="anything") for method in MATCHING.methods}
_RULES["CreateManualMatch"] = RpcAccess(people=HR_ROLES, objects="pools of the tenant", audited=True)
_RULES["RunMatching"] = RpcAccess(people=HR_ROLES, objects="a program of the tenant", audited=True)
ACCESS = AccessTable(MATCHING, _RULES)

Behaviour = Callable[[Message], Awaitable[None]]


async def _answer(request: Message) -> None:
    if getattr(request, "match_id", "") == "missing" or getattr(request, "program_id", "") == "missing":
        raise NotFound("match", "missing")
    if getattr(request, "employee_id", "") == "someone-else":
        raise PermissionDenied(DenialReason.NOT_YOURS, "that match is someone else's")
    current_principal()  # the handler runs as the caller


def _rpc(method_name: str) -> Any:
    method = MATCHING.methods_by_name[method_name]
    response = message_factory.GetMessageClass(method.output_type)

    async def rpc(self: object, request: Message, context: object) -> Message:
        await _answer(request)
        return response()

    rpc.__name__ = method_name
    return rpc


# A servicer of the real MatchingService descriptor, guarded by a table as the services' are.
GuardedMatching = guarded(ACCESS)(
    type(
        "GuardedMatching",
        (matching_pb2_grpc.MatchingServiceServicer,),
        {method.name: _rpc(method.name) for method in MATCHING.methods},
    )
)


@dataclass
class Served:
    stub: matching_pb2_grpc.MatchingServiceStub
    audit: AuditTrail
    database: Database
    tokens: SignedTokens


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await db.migrate(tmp_path / "no-service-migrations")
    yield db
    await db.dispose()


def guarded_matching_server(signed_tokens: SignedTokens, audit: AuditTrail) -> GrpcServer:
    """A real GrpcServer serving the guarded test servicer, trusting ``signed_tokens``, auditing to
    ``audit``."""
    servicer = GuardedMatching()
    return GrpcServer(
        "127.0.0.1",
        0,
        [lambda s: matching_pb2_grpc.add_MatchingServiceServicer_to_server(servicer, s)],
        [MATCHING.full_name],
        1 << 20,
        0.5,
        signed_tokens.verifier(),
        audit=audit,
    )


@pytest.fixture
async def served(signed_tokens: SignedTokens, database: Database) -> AsyncIterator[Served]:
    audit = AuditTrail("matching", database, retention=None)
    await audit.start()
    server = guarded_matching_server(signed_tokens, audit)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Served(matching_pb2_grpc.MatchingServiceStub(channel), audit, database, signed_tokens)
    await server.stop()
    await audit.stop()


async def records(served: Served, at_least: int = 0) -> list[dict[str, Any]]:
    """The stored records once there are ``at_least`` and no more arrive: a call is recorded after its
    status has left the server, so a client may see the status a moment before the record is queued."""
    deadline = asyncio.get_running_loop().time() + 10
    previous: list[dict[str, Any]] | None = None
    while True:
        await served.audit.flush()
        async with served.database.read_transaction() as session:
            rows = await session.execute(select(audit_log_table).order_by(audit_log_table.c.id))
            found = [dict(row._mapping) for row in rows]
        if (len(found) >= at_least and found == previous) or asyncio.get_running_loop().time() > deadline:
            return found
        previous = found
        await asyncio.sleep(0.05)


async def outbox(database: Database) -> list[Any]:
    async with database.read_transaction() as session:
        return list((await session.execute(select(outbox_table).order_by(outbox_table.c.id))).all())


def manual_match() -> matching_pb2.CreateManualMatchRequest:
    return matching_pb2.CreateManualMatchRequest(
        program_id="prog-1",
        mentor_enrollment_id="enr-2",
        mentee_enrollment_ids=["enr-1", "enr-3"],
        override_reason=FREE_TEXT,
        hr_actor_id="HR-1",
    )


async def refused(call: Awaitable[Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    code: grpc.StatusCode = raised.value.code()
    return code


async def test_an_audited_call_is_recorded_with_who_what_tenant_when_and_its_ids(served: Served) -> None:
    token = served.tokens.person("acme", "HR-1", "hr_admin")
    await served.stub.CreateManualMatch(manual_match(), metadata=bearer(token), timeout=10)

    [record] = await records(served, at_least=1)
    assert record["service"] == "matching"
    assert (record["grpc_service"], record["grpc_method"]) == (MATCHING.full_name, "CreateManualMatch")
    assert (record["outcome"], record["reason"], record["audited"]) == ("OK", "", True)
    assert (record["tenant"], record["actor_employee_id"], record["actor_service"]) == ("acme", "HR-1", "")
    assert record["actor_subject"] == payload(token)["sub"]
    assert record["recorded_at"].tzinfo is not None
    assert json.loads(record["ids"]) == {
        "hr_actor_id": ["HR-1"],
        "mentee_enrollment_ids": ["enr-1", "enr-3"],
        "mentor_enrollment_id": ["enr-2"],
        "program_id": ["prog-1"],
    }

    # The same record leaves through the outbox, as an AuditRecorded on audit.events.v1.
    [row] = await outbox(served.database)
    assert (row.topic, row.ce_type, row.event_id) == (
        AUDIT_EVENTS,
        ce_type_of(events_pb2.AuditRecorded),
        record["audit_id"],
    )
    assert (row.ce_tenant, row.key, row.ce_source) == ("acme", b"acme", "/mentoring/matching")
    event = events_pb2.AuditRecorded.FromString(row.payload)
    assert (event.grpc_method, event.outcome, event.tenant) == ("CreateManualMatch", "OK", "acme")
    assert event.actor.employee_id == "HR-1" and event.audited
    assert {ids.field: list(ids.values) for ids in event.ids}["mentee_enrollment_ids"] == ["enr-1", "enr-3"]


async def test_no_free_text_of_the_request_is_recorded(served: Served) -> None:
    token = served.tokens.person("acme", "HR-1", "hr_admin")
    await served.stub.CreateManualMatch(manual_match(), metadata=bearer(token), timeout=10)
    employee = served.tokens.person("acme", "E-7")
    await refused(served.stub.CreateManualMatch(manual_match(), metadata=bearer(employee), timeout=10))

    assert len(await records(served, at_least=2)) == 2
    async with served.database.read_transaction() as session:
        audit_rows = (await session.execute(select(audit_log_table))).all()
    stored = repr(audit_rows).encode() + b"".join(row.payload for row in await outbox(served.database))
    for marker in (b"Quimbly", b"auditmarker", b"acme.example", b"asked for this"):
        assert marker not in stored


async def test_a_refusal_by_the_access_table_is_recorded_with_its_reason(served: Served) -> None:
    employee = served.tokens.person("acme", "E-7")
    code = await refused(served.stub.CreateManualMatch(manual_match(), metadata=bearer(employee), timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    [record] = await records(served, at_least=1)
    assert (record["outcome"], record["reason"]) == ("PERMISSION_DENIED", "ROLE_NOT_ALLOWED")
    assert (record["tenant"], record["actor_employee_id"], record["audited"]) == ("acme", "E-7", True)


async def test_a_refusal_by_a_handler_is_recorded_on_an_rpc_that_is_not_audited(served: Served) -> None:
    employee = served.tokens.person("acme", "E-7")
    request = matching_pb2.EndMatchRequest(match_id="m-1", employee_id="someone-else", reason=FREE_TEXT)
    code = await refused(served.stub.EndMatch(request, metadata=bearer(employee), timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    [record] = await records(served, at_least=1)
    assert (record["grpc_method"], record["outcome"], record["reason"]) == (
        "EndMatch",
        "PERMISSION_DENIED",
        "NOT_YOURS",
    )
    assert (record["audited"], record["tenant"], record["actor_employee_id"]) == (False, "acme", "E-7")
    assert json.loads(record["ids"]) == {"employee_id": ["someone-else"], "match_id": ["m-1"]}


async def test_a_service_account_is_recorded_by_name_with_the_tenant_its_call_names(served: Served) -> None:
    notification = served.tokens.service("notification-service")
    metadata = (*bearer(notification), ("tenant", "globex"))
    request = matching_pb2.GetMatchRequest(match_id="m-1")
    code = await refused(served.stub.GetMatch(request, metadata=metadata, timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    [record] = await records(served, at_least=1)
    assert (record["outcome"], record["reason"]) == ("PERMISSION_DENIED", "SERVICE_NOT_ALLOWED")
    assert (record["tenant"], record["actor_service"], record["actor_employee_id"]) == (
        "globex",
        "notification",
        "",
    )
    assert record["actor_subject"] == payload(notification)["sub"]


async def test_an_unauthenticated_call_is_recorded_without_a_caller(served: Served) -> None:
    missing = await refused(served.stub.GetMatch(matching_pb2.GetMatchRequest(match_id="m-1"), timeout=10))
    stranger = TestIssuer()  # a token of an issuer the server does not trust
    forged = await refused(
        served.stub.ListMatches(
            matching_pb2.ListMatchesRequest(program_id="prog-1"),
            metadata=bearer(stranger.token(tenant="acme", employee_id="E-7")),
            timeout=10,
        )
    )
    assert missing == forged == grpc.StatusCode.UNAUTHENTICATED

    first, second = await records(served, at_least=2)
    assert (first["grpc_method"], first["outcome"], first["reason"]) == (
        "GetMatch",
        "UNAUTHENTICATED",
        "MISSING_TOKEN",
    )
    assert second["grpc_method"] == "ListMatches" and second["outcome"] == "UNAUTHENTICATED"
    assert second["reason"] not in ("", "MISSING_TOKEN")
    for record in (first, second):
        # Nothing of the token is read: no tenant, employee or subject, though the forged one names them.
        assert (record["tenant"], record["actor_employee_id"], record["actor_subject"]) == ("", "", "")
    assert json.loads(first["ids"]) == {"match_id": ["m-1"]}


async def test_a_plain_success_or_not_found_of_an_rpc_that_is_not_audited_is_not_recorded(
    served: Served,
) -> None:
    employee = bearer(served.tokens.person("acme", "E-7"))
    await served.stub.ListMatches(matching_pb2.ListMatchesRequest(program_id="p"), metadata=employee)
    await served.stub.GetMatch(matching_pb2.GetMatchRequest(match_id="m-1"), metadata=employee)
    missing = served.stub.GetMatch(matching_pb2.GetMatchRequest(match_id="missing"), metadata=employee)
    assert await refused(missing) == grpc.StatusCode.NOT_FOUND

    assert await records(served) == []
    assert await outbox(served.database) == []


async def test_every_outcome_of_an_audited_rpc_is_recorded_not_found_too(served: Served) -> None:
    hr = bearer(served.tokens.person("acme", "HR-1", "hr_admin"))
    request = matching_pb2.RunMatchingRequest(program_id="missing", request_id="r-1")
    assert await refused(served.stub.RunMatching(request, metadata=hr)) == grpc.StatusCode.NOT_FOUND

    [record] = await records(served, at_least=1)
    assert (record["grpc_method"], record["outcome"], record["audited"]) == ("RunMatching", "NOT_FOUND", True)


async def test_records_are_counted_by_service_and_outcome(served: Served) -> None:
    def counted(outcome: str) -> float:
        labels = {"service": "matching", "outcome": outcome}
        return REGISTRY.get_sample_value("mentoring_audit_records_total", labels) or 0.0

    before = counted("PERMISSION_DENIED")
    employee = served.tokens.person("acme", "E-7")
    await refused(served.stub.CreateManualMatch(manual_match(), metadata=bearer(employee), timeout=10))
    await records(served)
    assert counted("PERMISSION_DENIED") == before + 1


async def _echo(request: bytes, context: Any) -> bytes:
    return request


async def test_a_server_without_access_tables_records_only_its_refusals(
    signed_tokens: SignedTokens, database: Database
) -> None:
    service = f"test.Plain{uuid.uuid4().hex[:6]}"

    def register(server: grpc.aio.Server) -> None:
        handlers = {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))

    audit = AuditTrail("session", database, retention=None)
    server = GrpcServer(
        "127.0.0.1", 0, [register], [service], 1 << 20, 0.5, signed_tokens.verifier(), audit=audit
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            echo = channel.unary_unary(f"/{service}/Echo")
            token = signed_tokens.person("acme", "E-7")
            assert await echo(b"hello", metadata=bearer(token), timeout=10) == b"hello"
            assert await refused(echo(b"hello", timeout=10)) == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await server.stop()
    await audit.flush()  # never started: flush writes what is queued
    async with database.read_transaction() as session:
        rows = (await session.execute(select(audit_log_table))).all()
    assert [(row.grpc_method, row.outcome, row.audited, row.ids) for row in rows] == [
        ("Echo", "UNAUTHENTICATED", False, "{}")
    ]


async def test_an_audit_trail_that_cannot_write_never_fails_the_call(
    signed_tokens: SignedTokens, tmp_path: Path
) -> None:
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")  # no audit_log table
    audit = AuditTrail("matching", broken, retention=None)
    await audit.start()
    server = guarded_matching_server(signed_tokens, audit)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            hr = bearer(signed_tokens.person("acme", "HR-1", "hr_admin"))
            for _ in range(3):
                await stub.CreateManualMatch(manual_match(), metadata=hr, timeout=10)
    finally:
        await server.stop()
        await audit.stop()
        await broken.dispose()
