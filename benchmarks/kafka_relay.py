"""Outbox relay throughput against raw aiokafka on the local broker, measured in one run.

    python -m benchmarks.kafka_relay [--messages 100000] [--size 1024]

Prints raw produce (the same records: key, ~1 KiB value, CloudEvents headers; acks=all, idempotent)
and consume rates (the baselines later benchmarks compare against) and the relay's
publish rate from a real SQLite outbox, with the ratio relay / raw produce (target >= 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from mentoring.v1 import events_pb2

from services.shared.db import Database
from services.shared.envelope import CloudEvent, decode, encode_binary, new_event
from services.shared.outbox import OutboxRelay, kafka_producer, outbox_row, outbox_table

BATCH = 2000


async def create_topic(bootstrap: str, name: str, partitions: int = 6) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def cloud_events(messages: int, size: int) -> list[CloudEvent]:
    """~1 KiB protobuf payloads: a ProgramClosed whose id is padded to the size."""
    return [
        new_event(
            "mentoring.enrollment.program.closed.v1",
            "bench",
            events_pb2.ProgramClosed(program_id=f"{index:08d}".ljust(size - 12, "x")),
        )
        for index in range(messages)
    ]


async def raw_produce(bootstrap: str, topic: str, records: list[Record]) -> float:
    """The same records the relay sends (key, value, CloudEvents headers), straight from memory."""
    producer = kafka_producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        for first in range(0, len(records), BATCH):
            deliveries = [
                await producer.send(topic, value, key=key, headers=headers)
                for key, value, headers in records[first : first + BATCH]
            ]
            await asyncio.gather(*deliveries)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def plain_consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer with no group reading ``topic`` from the start, with large fetches."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=8 << 20,
    )


async def raw_consume(bootstrap: str, topic: str, messages: int, decode_records: bool = False) -> float:
    """Records/s of a plain consumer reading ``topic`` from the start (optionally decoding each one)."""
    consumer = plain_consumer(bootstrap, topic)
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10000)
            for records in batch.values():
                if decode_records:
                    for record in records:
                        decode(record.headers, record.value)
                seen += len(records)
        return messages / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def relay_publish(bootstrap: str, namespace: str, events: list[CloudEvent], workdir: Path) -> float:
    messages = len(events)
    database = Database(f"sqlite+aiosqlite:///{workdir / 'relay-bench.db'}")
    await database.migrate(Path(tempfile.mkdtemp()))
    rows = [outbox_row(event, key=str(index % 997)) for index, event in enumerate(events)]
    async with database.transaction() as session:
        for first in range(0, messages, 10000):
            await session.execute(outbox_table.insert(), rows[first : first + 10000])
    relay = OutboxRelay("bench", database, bootstrap, batch_size=BATCH, namespace=namespace)
    await relay.start(background=False)
    try:
        started = time.perf_counter()
        published = await relay.publish_pending()
        assert published == messages, f"published {published} of {messages}"
        rate = messages / (time.perf_counter() - started)
        assert await relay.refresh_backlog() == 0
        return rate
    finally:
        await relay.stop()
        await database.dispose()


async def main(messages: int, size: int) -> None:
    bootstrap = os.environ.get("MENTORING_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    run_id = uuid.uuid4().hex[:8]
    raw_topic = f"bench.raw.{run_id}"
    namespace = f"bench{run_id}."
    await create_topic(bootstrap, raw_topic)
    await create_topic(bootstrap, namespace + "enrollment.events.v1")
    events = cloud_events(messages, size)
    records = [
        (str(index % 997).encode(), *reversed(encode_binary(event))) for index, event in enumerate(events)
    ]
    produce_rate = await raw_produce(bootstrap, raw_topic, records)  # type: ignore[arg-type]
    consume_rate = await raw_consume(bootstrap, raw_topic, messages)
    with tempfile.TemporaryDirectory() as workdir:
        relay_rate = await relay_publish(bootstrap, namespace, events, Path(workdir))
    print(f"messages: {messages} x {size} B on {bootstrap}")
    print(f"raw aiokafka produce of the same records:    {produce_rate:10,.0f} msg/s   (baseline)")
    print(f"raw aiokafka consume:                        {consume_rate:10,.0f} msg/s   (baseline)")
    print(f"outbox relay publish (SQLite -> Kafka):      {relay_rate:10,.0f} msg/s")
    print(f"ratio relay / raw produce: {relay_rate / produce_rate:.2f}   (target >= 0.5)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=1024)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.size))
