"""Outbox relay throughput against raw aiokafka on the local broker, measured in one run.

    python -m benchmarks.kafka_relay [--messages 100000] [--size 1024]

Prints raw produce and consume rates (the baselines later benchmarks compare against) and the relay's
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
from services.shared.envelope import new_event
from services.shared.outbox import OutboxRelay, kafka_producer, outbox_row, outbox_table

BATCH = 2000


async def create_topic(bootstrap: str, name: str, partitions: int = 6) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def raw_produce(bootstrap: str, topic: str, messages: int, size: int) -> float:
    producer = kafka_producer(bootstrap)
    await producer.start()
    payload = os.urandom(size)
    try:
        started = time.perf_counter()
        for first in range(0, messages, BATCH):
            deliveries = [
                await producer.send(topic, payload, key=str(index % 997).encode())
                for index in range(first, min(first + BATCH, messages))
            ]
            await asyncio.gather(*deliveries)
        return messages / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topic: str, messages: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=8 << 20,
    )
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10000)
            seen += sum(len(records) for records in batch.values())
        return messages / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def relay_publish(bootstrap: str, namespace: str, messages: int, size: int, workdir: Path) -> float:
    database = Database(f"sqlite+aiosqlite:///{workdir / 'relay-bench.db'}")
    await database.migrate(Path(tempfile.mkdtemp()))
    # ~1 KiB protobuf payloads: a ProgramClosed whose id is padded to the size.
    rows = []
    for index in range(messages):
        event = new_event(
            "mentoring.enrollment.program.closed.v1",
            "bench",
            events_pb2.ProgramClosed(program_id=f"{index:08d}".ljust(size - 12, "x")),
        )
        rows.append(outbox_row(event, key=str(index % 997)))
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
    produce_rate = await raw_produce(bootstrap, raw_topic, messages, size)
    consume_rate = await raw_consume(bootstrap, raw_topic, messages)
    with tempfile.TemporaryDirectory() as workdir:
        relay_rate = await relay_publish(bootstrap, namespace, messages, size, Path(workdir))
    print(f"messages: {messages} x {size} B on {bootstrap}")
    print(f"raw aiokafka produce (acks=all, idempotent): {produce_rate:10,.0f} msg/s   (baseline)")
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
