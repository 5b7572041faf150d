"""Scenarios more than one test plays, each against its own store: the real broker, a real service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from mentoring.v1 import common_pb2, events_pb2

from services.shared.envelope import encode_binary, new_event
from tests.support.kafka import produce_raw, read_topic
from tests.support.processes import ServiceProcess, metric_value

PROGRAM_CREATED = "mentoring.enrollment.program.created.v1"


def program_created(index: int) -> events_pb2.ProgramCreated:
    return events_pb2.ProgramCreated(
        program=common_pb2.Program(
            program_id=f"prog-{index:05d}",
            tenant="acme",
            name=f"Program {index}",
            format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
            status=common_pb2.PROGRAM_STATUS_OPEN,
        )
    )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class DeadLetterRun:
    applied_ids: tuple[str, str]
    dead: list[ConsumerRecord[bytes, bytes]]


async def bad_records_and_a_redelivery(
    matching: ServiceProcess, bootstrap: str, topic: str, programs_stored: Callable[[], Awaitable[int]]
) -> DeadLetterRun:
    """A good event, a malformed one, the good one again, one of an unknown type and another good one
    into the matching service's enrollment topic; returns once both good ones are stored, the redelivery
    was counted as a duplicate, and both bad ones reached the DLQ (checked with `assert_dead_lettered`)."""
    good = new_event(PROGRAM_CREATED, "test", program_created(1), tenant="acme")
    later = new_event(PROGRAM_CREATED, "test", program_created(2), tenant="acme")
    good_headers, good_value = encode_binary(good)
    later_headers, later_value = encode_binary(later)
    envelope = [("ce_specversion", b"1.0"), ("ce_source", b"test")]
    malformed = [*envelope, ("ce_id", b"bad-1"), ("ce_type", PROGRAM_CREATED.encode())]
    unknown = [*envelope, ("ce_id", b"bad-2"), ("ce_type", b"mentoring.enrollment.program.exploded.v1")]
    await produce_raw(
        bootstrap,
        topic,
        [
            (b"prog-00001", good_value, good_headers),
            (b"prog-00001", b"\xff\x00 not protobuf", malformed),
            (b"prog-00001", good_value, good_headers),  # redelivery of the same event
            (b"prog-00001", b"", unknown),
            (b"prog-00001", later_value, later_headers),
        ],
    )

    async def settled() -> bool:
        duplicates = metric_value(
            matching.metrics_port, "mentoring_consumer_messages_total", outcome="duplicate"
        )
        return await programs_stored() == 2 and duplicates == 1

    await eventually(settled)
    dead = await read_topic(bootstrap, topic + ".dlq", expected=2)
    assert metric_value(matching.metrics_port, "mentoring_consumer_messages_total", outcome="applied") == 2
    assert metric_value(matching.metrics_port, "mentoring_consumer_messages_total", outcome="dlq") == 2
    return DeadLetterRun((good.id, later.id), dead)


def assert_dead_lettered(run: DeadLetterRun, topic: str) -> None:
    reasons = {}
    for record in run.dead:
        headers = dict(record.headers)
        reasons[headers["ce_id"]] = headers["dlq_reason"]
        assert headers["dlq_service"] == b"matching"
        assert headers["dlq_original_topic"] == topic.encode()
        assert headers["dlq_error"]
    assert reasons == {b"bad-1": b"malformed", b"bad-2": b"unknown_type"}
    assert {record.value for record in run.dead} == {b"\xff\x00 not protobuf", b""}, "original bytes are kept"
