"""An erasure leaves nothing readable, checked on the running enrollment process, the real broker and its
real SQLite files:

- the person's e-mail and name are in none of the ``.db``, ``-wal`` and ``-shm`` files once the erasure is
  applied (read as bytes while the service runs: nothing checkpoints them for the test);
- an HRIS record about the person that was dead-lettered shows no personal data on the DLQ topic, is
  opened by the replay tool while the person exists, and by nobody once they are erased, although the
  record itself is still on the topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc

from services.enrollment.bootstrap import MIGRATIONS
from services.enrollment.service_layer.erasure import DeadLetterKeys
from services.shared.db import Database
from tests.support.identity import KeycloakTokens
from tests.support.kafka import REPO_ROOT, produce_raw, read_topic
from tests.support.postgres import PostgresServer
from tests.support.processes import ServiceProcess
from tests.support.waiting import wait_for
from tests.unit.enrollment.test_handlers import TENANT as UNIT_TENANT
from tests.unit.enrollment.test_handlers import Clock, feed, hire

pytestmark = pytest.mark.integration

TENANT = "acme"
WHO = "W-ERASED"
EMAIL = "erasure.wal.marker@example.com"
NAME = "Quimbly Erasuremarker"
START = datetime(2031, 3, 1, 9, tzinfo=UTC)
FILES = ("enrollment.db", "enrollment.db-wal", "enrollment.db-shm")

Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


def structured(kind: str, who: str, minutes: int, **data: object) -> Record:
    document = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "bamboohr",
        "type": f"mentoring.hris.worker.{kind}.v1",
        "time": (START + timedelta(minutes=minutes)).isoformat(),
        "tenant": TENANT,
        "datacontenttype": "application/json",
        "data": {"employeeNumber": who, **data},
    }
    return (
        f"{TENANT}:{who}".encode(),
        json.dumps(document).encode(),
        [("content-type", b"application/cloudevents+json")],
    )


def hired(who: str, name: str, email: str, minutes: int) -> Record:
    return structured(
        "hired", who, minutes, name=name, email=email, grade=5, department="Engineering", status="active"
    )


def files_holding(data_dir: Path, *markers: bytes) -> list[tuple[str, bytes]]:
    found = []
    for name in FILES:
        path = data_dir / name
        contents = path.read_bytes() if path.exists() else b""
        found.extend((name, marker) for marker in markers if marker in contents)
    return found


def replay(data_dir: Path, namespace: str, bootstrap: str, *options: str) -> tuple[list[dict[str, Any]], str]:
    """The replay tool, as an operator runs it next to the service: the letters it printed, and all of
    its output."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.enrollment.entrypoints.dlq_replay",
            "--bootstrap",
            bootstrap,
            "--person",
            f"{TENANT}:{WHO}",
            *options,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "MENTORING_DATA_DIR": str(data_dir), "MENTORING_TOPIC_NAMESPACE": namespace},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return printed, done.stdout + done.stderr


async def erase(service: ServiceProcess, bootstrap: str, hris_topic: str, tokens: KeycloakTokens) -> None:
    """Send the erasure and wait until the service has applied it (seen as the notification service)."""
    with service.channel(lambda: tokens.service("notification-service")) as channel:
        stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)
        request = enrollment_pb2.GetEmployeeContactRequest(employee_id=WHO)

        def contact() -> enrollment_pb2.EmployeeContact | None:
            try:
                return stub.GetEmployeeContact(request, metadata=(("tenant", TENANT),))
            except grpc.RpcError as error:
                if error.code() is grpc.StatusCode.NOT_FOUND:
                    return None
                raise

        await wait_for(lambda: contact() is not None, timeout=60, what="the hire applied")
        found = contact()
        assert found is not None and found.email == EMAIL
        await produce_raw(bootstrap, hris_topic, [structured("erased", WHO, 40)])

        def erased() -> bool:
            found = contact()
            return found is not None and found.status == common_pb2.EMPLOYEE_STATUS_ERASED

        await wait_for(erased, timeout=60, what="the erasure applied")


async def test_an_erasure_leaves_the_person_in_no_database_file_while_the_service_runs(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    hris_topic = namespace + "hris.worker.events.v1"
    markers = (EMAIL.encode(), NAME.encode())
    service = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap).start()
    try:
        neighbours = [hired(f"N{i}", f"Neighbour {i}", f"n{i}@example.com", i) for i in range(20)]
        await produce_raw(kafka_bootstrap, hris_topic, [*neighbours, hired(WHO, NAME, EMAIL, 30)])
        await erase(service, kafka_bootstrap, hris_topic, tokens)

        # The files as they are on disk while the service runs (the test opens no connection: nothing
        # checkpoints them for it). The follow-up runs once the erasure committed: give it a moment.
        with contextlib.suppress(TimeoutError):
            await wait_for(lambda: not files_holding(data_dir, *markers), timeout=30, what="files clean")
        assert files_holding(data_dir, *markers) == []
        assert files_holding(data_dir, b"n19@example.com"), "the neighbours are still stored"
    finally:
        service.stop()


async def test_a_dead_letter_about_the_person_is_readable_by_the_replay_tool_until_the_erasure(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    hris_topic = namespace + "hris.worker.events.v1"
    markers = (EMAIL.encode(), NAME.encode())
    service = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap).start()
    try:
        await produce_raw(kafka_bootstrap, hris_topic, [hired(WHO, NAME, EMAIL, 30)])
        # An update about the person that cannot be applied (a grade that is not one): dead-lettered,
        # with their e-mail and name in its value.
        bad = structured("updated", WHO, 31, email=EMAIL, name=NAME, grade="eleven")
        await produce_raw(kafka_bootstrap, hris_topic, [bad])
        (letter,) = await read_topic(kafka_bootstrap, hris_topic + ".dlq", expected=1)
        assert dict(letter.headers)["dlq_reason"] == b"invalid_argument:grade"
        on_the_topic = (letter.value or b"") + b"".join(raw for _, raw in letter.headers)
        assert [marker for marker in markers if marker in on_the_topic] == [], "sealed on the topic"

        before, _ = replay(data_dir, namespace, kafka_bootstrap)
        assert len(before) == 1 and before[0]["readable"] is True
        assert before[0]["value"].encode() == bad[1], "the replay tool opens it while the key exists"
        assert before[0]["headers"]["dlq_reason"] == "invalid_argument:grade"

        # Re-published as it was: still not applicable, so dead-lettered (and sealed) once more.
        _, summary = replay(data_dir, namespace, kafka_bootstrap, "--republish")
        assert "republished: 1" in summary
        dead = await read_topic(kafka_bootstrap, hris_topic + ".dlq", expected=2)
        assert len(dead) == 2 and dead[1].key == letter.key
        assert [marker for marker in markers if marker in (dead[1].value or b"")] == []

        await erase(service, kafka_bootstrap, hris_topic, tokens)

        after, printed = replay(data_dir, namespace, kafka_bootstrap)
        assert [item["readable"] for item in after] == [False, False], "nobody can open them any more"
        assert after[0]["offset"] == letter.offset and "value" not in after[0]
        assert [marker for marker in markers if marker.decode() in printed] == []
        still = await read_topic(kafka_bootstrap, hris_topic + ".dlq", expected=2)
        assert still[0].value == letter.value, "the record is still on the topic, unreadable"
        _, summary = replay(data_dir, namespace, kafka_bootstrap, "--republish")
        assert "unreadable: 2" in summary and "republished" not in summary
    finally:
        service.stop()


async def test_dead_letter_keys_are_made_once_and_shredded_by_the_erasure_on_postgres(
    postgres_server: PostgresServer,
) -> None:
    database = Database(await postgres_server.create_database("enrollment"))
    try:
        await database.migrate(MIGRATIONS)
        keys = DeadLetterKeys(database)
        clock = Clock()
        await hire(database, clock, "E1")
        made = await asyncio.gather(*(keys.key_for_sealing(UNIT_TENANT, "E1") for _ in range(8)))
        assert len(set(made)) == 1, "concurrent first uses keep one key"
        assert await keys.key_for_opening(UNIT_TENANT, "E1") == made[0]

        await feed(database, "erase-E1", {"employeeNumber": "E1", "type": "ERASED"}, clock)

        assert await keys.key_for_opening(UNIT_TENANT, "E1") is None
        assert await keys.key_for_sealing(UNIT_TENANT, "E1") != made[0]
        assert await keys.key_for_opening(UNIT_TENANT, "E1") is None, "none made for the erased"
    finally:
        await database.dispose()
