"""Hundreds of calls with deadlines of 1 to 5 ms against every service (the demo organisation played
through it first), while HRIS events stream in: afterwards every service still answers and ingestion
has caught up. Before, a cancelled call could leave its
service's SQLite write lock held: every later call timed out and HRIS ingestion stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from mentoring.v1 import (
    common_pb2,
    enrollment_pb2,
    enrollment_pb2_grpc,
    matching_pb2,
    matching_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
)

from services.demo import DemoOutcome, Person, Platform, play, stream_hires
from tests.support.identity import KeycloakTokens, bearer, hr
from tests.support.kafka import group_lag
from tests.support.keycloak import issuer
from tests.support.processes import ServiceProcess
from tests.support.scenarios import eventually

pytestmark = pytest.mark.integration

CALLS_PER_SERVICE = 300
STREAMS = 4
HRIS_BATCHES = 3
HIRES_PER_BATCH = 100
HRIS_TOPIC = "hris.worker.events.v1"


def hires(batch: int) -> list[Person]:
    return [
        Person(f"X{batch}{index:04d}", None, "Engineering", 5, "Berlin", "Europe/Berlin", ("python",))
        for index in range(HIRES_PER_BATCH)
    ]


Call = Callable[[float], Awaitable[object]]


def calls_of(
    channels: dict[str, grpc.aio.Channel], outcome: DemoOutcome, tokens: KeycloakTokens
) -> dict[str, Call]:
    """One call per service about the demo's data, each by someone allowed to make it (HR for the
    program's listings, the mentee for their own); reads and writes alike open a transaction there."""
    program_id = outcome.run.program_id
    person = outcome.activated.mentee_employee_ids[0] if outcome.activated is not None else "E0001"
    as_hr, as_person = bearer(hr(tokens, "demo")), bearer(tokens.person("demo", person))
    enrollment = enrollment_pb2_grpc.EnrollmentServiceStub(channels["enrollment"])
    matching = matching_pb2_grpc.MatchingServiceStub(channels["matching"])
    session = session_pb2_grpc.SessionServiceStub(channels["session"])
    notification = notification_pb2_grpc.NotificationServiceStub(channels["notification"])
    page = common_pb2.PageRequest(page_size=5)
    return {
        "enrollment": lambda timeout: enrollment.ListParticipants(
            enrollment_pb2.ListParticipantsRequest(program_id=program_id, page=page),
            timeout=timeout,
            metadata=as_hr,
        ),
        "matching": lambda timeout: matching.ListMatches(
            matching_pb2.ListMatchesRequest(program_id=program_id, page=page), timeout=timeout, metadata=as_hr
        ),
        "session": lambda timeout: session.ListSessions(
            session_pb2.ListSessionsRequest(employee_id=person, page=page),
            timeout=timeout,
            metadata=as_person,
        ),
        "notification": lambda timeout: notification.ListInbox(
            notification_pb2.ListInboxRequest(recipient_id=person, page=page),
            timeout=timeout,
            metadata=as_person,
        ),
    }


async def _burst(call: Call) -> None:
    """Calls one after another in a few streams, with deadlines of 1 to 5 ms: each reaches the server
    and runs out while its handler is at work."""

    async def stream(offset: int) -> None:
        for index in range(CALLS_PER_SERVICE // STREAMS):
            try:
                await call(0.001 * (1 + (index + offset) % 5))
            except grpc.aio.AioRpcError as error:
                assert error.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)

    await asyncio.gather(*(stream(offset) for offset in range(STREAMS)))


async def test_short_deadlines_leave_every_service_answering_and_ingesting(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    enrollment = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap).start()
    others = [
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap),
        ServiceProcess("session", data_dir, namespace, kafka_bootstrap),
        ServiceProcess(
            "notification",
            data_dir,
            namespace,
            kafka_bootstrap,
            {"MENTORING_NOTIFICATION_ENROLLMENT_GRPC_TARGET": enrollment.grpc_target},
        ),
    ]
    processes = [enrollment, *others]
    try:
        for process in others:
            process.start()
        targets = [process.grpc_target for process in processes]
        enrollment_at, matching_at, session_at, notification_at = targets
        platform = Platform(
            enrollment_at, matching_at, session_at, notification_at, kafka_bootstrap, issuer(), namespace
        )
        outcome = await asyncio.to_thread(play, platform)
        channels = {process.service: grpc.aio.insecure_channel(process.grpc_target) for process in processes}
        calls = calls_of(channels, outcome, tokens)
        for batch in range(HRIS_BATCHES):
            await asyncio.gather(
                stream_hires(kafka_bootstrap, namespace + HRIS_TOPIC, hires(batch)),
                *(_burst(call) for call in calls.values()),
            )

        # Every service answers an ordinary call (a deadline that a healthy service meets by far).
        for name, call in calls.items():
            try:
                await call(10.0)
            except grpc.aio.AioRpcError as error:
                pytest.fail(f"{name} no longer answers after the burst: {error.code().name}")

        async def ingested() -> bool:
            group = f"{namespace}enrollment.{HRIS_TOPIC}"
            return await group_lag(kafka_bootstrap, group, namespace + HRIS_TOPIC) == 0

        await eventually(ingested, timeout=60)
        for process in processes:
            assert process.process is not None and process.process.poll() is None, process.log_tail()
        for channel in channels.values():
            await channel.close(None)
    finally:
        for process in processes:
            process.stop()
