"""Poison of any size is dead-lettered and the consumer goes on (issue: a near-limit record whose DLQ
copy did not fit in a request stalled every partition behind it, for good)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from services.shared.envelope import encode_binary, new_event
from tests.support.kafka import group_lag, read_topic
from tests.support.processes import ServiceProcess
from tests.support.scenarios import PROGRAM_CREATED, eventually, program_created
from tests.support.waiting import rows

pytestmark = pytest.mark.integration

# Fits a topic with the broker's default limit (1,048,588 bytes a batch) with its headers; its DLQ copy
# with ours does not fit a default producer request (1,048,576 bytes).
POISON_BYTES = 1_048_300


async def test_a_near_limit_poison_record_is_dead_lettered_cut_down_and_the_good_ones_applied(
    kafka_bootstrap: str, namespace: str, data_dir: Path
) -> None:
    topic = namespace + "enrollment.events.v1"
    database = data_dir / "matching.db"
    good = [new_event(PROGRAM_CREATED, "test", program_created(i), tenant="acme") for i in (1, 2, 3)]
    poison_value = b"\x0a\xff" * (POISON_BYTES // 2)
    poison_headers = [
        ("ce_specversion", b"1.0"),
        ("ce_source", b"test"),
        ("ce_id", b"poison-1"),
        ("ce_type", PROGRAM_CREATED.encode()),
    ]
    with ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as matching:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=2 * 1024 * 1024
        )
        await producer.start()
        try:
            # One key, so the poison sits between the good ones on the same partition.
            for event in good[:1]:
                headers, value = encode_binary(event)
                await producer.send_and_wait(topic, value, key=b"prog-1", headers=headers)
            await producer.send_and_wait(topic, poison_value, key=b"prog-1", headers=poison_headers)
            for event in good[1:]:
                headers, value = encode_binary(event)
                await producer.send_and_wait(topic, value, key=b"prog-1", headers=headers)
        finally:
            await producer.stop()

        async def all_good_stored() -> bool:
            return len(rows(database, "SELECT program_id FROM programs")) == len(good)

        await eventually(all_good_stored, timeout=90)
        dead = await read_topic(kafka_bootstrap, topic + ".dlq", expected=1)

        async def caught_up() -> bool:
            return await group_lag(kafka_bootstrap, namespace + "matching", topic) == 0

        await eventually(caught_up, timeout=60)
        assert matching.process is not None and matching.process.poll() is None

    assert len(dead) == 1
    dead_headers = dict(dead[0].headers)
    assert dead[0].value is None
    assert dead_headers["dlq_reason"] == b"too_large"
    assert dead_headers["dlq_original_reason"] == b"malformed"
    assert dead_headers["ce_id"] == b"poison-1"
    assert dead_headers["dlq_value_length"] == str(len(poison_value)).encode()
    assert dead_headers["dlq_value_sha256"] == hashlib.sha256(poison_value).hexdigest().encode()
