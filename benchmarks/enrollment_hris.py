"""HRIS ingestion through ONE enrollment instance, next to raw aiokafka consume + decode, in one run.

    python -m benchmarks.enrollment_hris [--events 100000] [--employees 20000] [--enrolled 1000]
        [--paced 3000] [--profile 5000]

The enrollment service runs as a real child process (``python -m services.enrollment``: Faust consumer,
shared pipeline, SQLite file, outbox relay, gRPC), on a fresh topic namespace and data directory:

1. hires: ``--employees`` WorkerHired events (binary protobuf), a reporting tree of random depth;
2. programs and ``--enrolled`` enrollments over gRPC (so HRIS changes have participants to republish);
3. changes: the rest of ``--events``: updates (title / grade / location), transfers (department and
   manager: the reports' chains are republished), leaves and returns, terminations; 10 % of them in
   structured JSON mode (SCIM data);
4. paced: ``--paced`` grade updates of enrolled employees produced one at a time at ``--paced-rate``
   (default 50/s, at most half the measured rate), each causing a ParticipantUpdated: the latency
   without a backlog.

Figures: events/s of the service (first to last inbox commit of each bulk phase, from the service's own
``inbox.applied_at``), and event-to-outbox latency (``ce_time``, stamped when the record is produced ->
``outbox.created_at`` of the events it caused, joined by the ``causationid`` extension). Under bulk load
that latency is mostly queueing behind the backlog; the paced phase shows the latency of one event.
Baseline: a plain ``AIOKafkaConsumer`` reading the same topic from the start and decoding every record
with ``services.shared.envelope.decode``. A second reference, the persistence floor: the same consume +
decode plus the least an exactly-once consumer of this topic writes (one inbox row and one directory row
per event, stdlib ``sqlite3``, one transaction per 5,000 records, no domain logic at all); it shows how
much of the budget the storage alone takes on this machine. ``--profile N`` also runs the shared
``ConsumerPipeline`` in this process on N change records (after N/2 hires) under cProfile, with the
service's collector settings, and prints where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2

from benchmarks.kafka_relay import plain_consumer, raw_consume
from services.enrollment.bootstrap import MIGRATIONS
from services.enrollment.config import EnrollmentSettings
from services.enrollment.entrypoints.consumers import hris_batch_handler
from services.enrollment.service_layer.handlers import handler_map
from services.shared.auth_client import BearerTokenInterceptor, password_token
from services.shared.consumer import ConsumerPipeline
from services.shared.db import Database
from services.shared.dlq import DlqPublisher, RawRecord
from services.shared.envelope import decode, encode_binary, new_event
from services.shared.kafka_admin import ensure_topics
from services.shared.messagebus import MessageBus
from services.shared.outbox import kafka_producer
from services.shared.runtime import GC_THRESHOLDS
from services.shared.timestamps import timestamp

REPO_ROOT = Path(__file__).resolve().parents[1]
# The demo tenant of the embedded identity provider: its HR admin opens the programs and enrols the
# benchmark's employees (tokens by the password grant; make bench starts Keycloak).
TENANT = "demo"
HR_USERNAME, HR_PASSWORD, LOGIN_CLIENT = "demo-e0054", "mentoring-demo", "mentoring-console"
HRIS = "hris.worker.events.v1"
LOCATIONS = {"London": "Europe/London", "Berlin": "Europe/Berlin", "Austin": "America/Chicago"}
DEPARTMENTS = ("Engineering", "Sales", "Finance", "People", "Legal")
SEND_BATCH = 5000

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def who(index: int) -> str:
    return f"E{index:06d}"


class Stream:
    """Builds HRIS records; effective times only move forward so every change applies."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def binary(self, kind: str, employee: str, **fields: Any) -> Record:
        message_type = {
            "hired": events_pb2.WorkerHired,
            "updated": events_pb2.WorkerUpdated,
            "transferred": events_pb2.WorkerTransferred,
            "leave_started": events_pb2.WorkerLeaveStarted,
            "leave_ended": events_pb2.WorkerLeaveEnded,
            "terminated": events_pb2.WorkerTerminated,
        }[kind]
        change = events_pb2.WorkerChange(
            worker=events_pb2.WorkerRecord(employee_number=employee, **fields),
            effective_time=timestamp(self.tick()),
        )
        event = new_event(
            f"mentoring.hris.worker.{kind}.v1", "bench-hris", message_type(change=change), tenant=TENANT
        )
        headers, value = encode_binary(event)
        return f"{TENANT}:{employee}".encode(), value, headers

    def structured(self, kind: str, employee: str, **data: Any) -> Record:
        document = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "bench-hris",
            "type": f"mentoring.hris.worker.{kind}.v1",
            "time": datetime.now(UTC).isoformat(),
            "tenant": TENANT,
            "data": {"employeeNumber": employee, "effectiveTime": self.tick().isoformat(), **data},
        }
        return (
            f"{TENANT}:{employee}".encode(),
            json.dumps(document).encode(),
            [("content-type", b"application/cloudevents+json")],
        )


def hires(stream: Stream, employees: int) -> list[Record]:
    records = []
    for index in range(employees):
        location = stream.rng.choice(sorted(LOCATIONS))
        records.append(
            stream.binary(
                "hired",
                who(index),
                manager=None if index == 0 else who(stream.rng.randrange(max(1, index // 8))),
                name=f"Bench Person {index}",
                email=f"bench{index}@example.com",
                grade=stream.rng.randint(1, 12),
                department=stream.rng.choice(DEPARTMENTS),
                location=location,
                timezone=LOCATIONS[location],
                languages=["en"],
                languages_present=True,
                hire_date=timestamp(datetime(2015, 1, 1, tzinfo=UTC)),
            )
        )
    return records


def changes(stream: Stream, employees: int, count: int) -> list[Record]:
    """Updates, transfers, leave pairs and terminations; managers always have a lower index (no cycle)."""
    rng = stream.rng
    records: list[Record] = []
    on_leave: set[int] = set()
    while len(records) < count:
        index = rng.randrange(1, employees)
        employee = who(index)
        dice = rng.random()
        as_json = rng.random() < 0.1
        if index in on_leave:
            on_leave.discard(index)
            records.append(
                stream.structured("leave_ended", employee)
                if as_json
                else stream.binary("leave_ended", employee)
            )
        elif dice < 0.70:
            update: dict[str, Any] = rng.choice(
                [
                    {"title": f"Title {rng.randrange(50)}"},
                    {"grade": rng.randint(1, 12)},
                    {"location": "Berlin"},
                ]
            )
            records.append(
                stream.structured("updated", employee, **update)
                if as_json
                else stream.binary("updated", employee, **update)
            )
        elif dice < 0.85:
            transfer = {
                "department": rng.choice(DEPARTMENTS),
                "manager": who(rng.randrange(max(1, index // 8))),
            }
            records.append(
                stream.structured("transferred", employee, **transfer)
                if as_json
                else stream.binary("transferred", employee, **transfer)
            )
        elif dice < 0.97:
            on_leave.add(index)
            records.append(stream.binary("leave_started", employee))
        else:
            records.append(stream.binary("terminated", employee, termination_date=timestamp(stream.tick())))
    return records[:count]


async def produce(bootstrap: str, topic: str, records: list[Record]) -> datetime:
    """Send every record (acks=all) and return when production started."""
    producer = kafka_producer(bootstrap)
    await producer.start()
    started = datetime.now(UTC)
    try:
        for first in range(0, len(records), SEND_BATCH):
            deliveries = [
                await producer.send(topic, value, key=key, headers=headers)
                for key, value, headers in records[first : first + SEND_BATCH]
            ]
            await asyncio.gather(*deliveries)
    finally:
        await producer.stop()
    return started


class Service:
    """The enrollment service as a child process on free ports."""

    def __init__(self, data_dir: Path, namespace: str, bootstrap: str) -> None:
        self.data_dir = data_dir
        self.database = data_dir / "enrollment.db"
        env = {
            **os.environ,
            "MENTORING_DATA_DIR": str(data_dir),
            "MENTORING_TOPIC_NAMESPACE": namespace,
            "MENTORING_KAFKA_BOOTSTRAP": bootstrap,
            "MENTORING_ENROLLMENT_GRPC_PORT": "0",
            "MENTORING_ENROLLMENT_METRICS_PORT": "0",
            "MENTORING_LOG_LEVEL": "WARNING",
        }
        ready = data_dir / "enrollment.ready.json"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / "enrollment.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.enrollment"],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start; see {data_dir / 'enrollment.log'}")
            time.sleep(0.1)
        self.grpc_target = f"127.0.0.1:{json.loads(ready.read_text())['grpc_port']}"

    def scalar(self, query: str) -> Any:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(query).fetchone()[0]

    def applied(self) -> int:
        return int(self.scalar("SELECT count(*) FROM inbox"))

    async def wait_applied(self, total: int, timeout: float = 3600) -> None:
        deadline = time.monotonic() + timeout
        while self.applied() < total:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"stuck at {self.applied()} of {total} applied")
            await asyncio.sleep(0.25)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            print("warning: the service did not stop on SIGTERM within 30 s; killed")
            self.process.kill()
            self.process.wait()


def applied_window(database: Path, after: str | None) -> tuple[int, float, str]:
    """Events applied after ``after`` (an applied_at), the seconds from first to last, and the last."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT applied_at FROM inbox WHERE (? IS NULL OR applied_at > ?) ORDER BY applied_at",
            (after, after),
        ).fetchall()
    first, last = (datetime.fromisoformat(rows[0][0]), datetime.fromisoformat(rows[-1][0]))
    return len(rows), (last - first).total_seconds(), rows[-1][0]


def outbox_latencies(database: Path, produced_at: dict[str, datetime]) -> list[float]:
    """Seconds from each causing event's ce_time to the first outbox row it caused."""
    first_row: dict[str, datetime] = {}
    with sqlite3.connect(database) as connection:
        for extensions, created_at in connection.execute("SELECT ce_extensions, created_at FROM outbox"):
            cause = json.loads(extensions or "{}").get("causationid")
            if cause in produced_at:
                created = datetime.fromisoformat(created_at).replace(tzinfo=UTC)
                first_row[cause] = min(created, first_row.get(cause, created))
    return sorted((first_row[cause] - produced_at[cause]).total_seconds() for cause in first_row)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def event_ids(records: list[Record]) -> list[str]:
    return [decode(headers, value).id for _key, value, headers in records]


async def enrol(target: str, employees: int, enrolled: int, rng: random.Random) -> list[str]:
    now = datetime.now(UTC)
    window = common_pb2.DateRange(
        start=timestamp(now - timedelta(days=1)), end=timestamp(now + timedelta(days=30))
    )
    cohort = common_pb2.DateRange(
        start=timestamp(now + timedelta(days=40)), end=timestamp(now + timedelta(days=200))
    )
    chosen = sorted(rng.sample(range(1, employees), enrolled))
    issuer = EnrollmentSettings().auth_issuer
    token = await asyncio.to_thread(password_token, issuer, LOGIN_CLIENT, HR_USERNAME, HR_PASSWORD)

    async def hr_token() -> str:
        return token

    async with grpc.aio.insecure_channel(target, interceptors=[BearerTokenInterceptor(hr_token)]) as channel:
        stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)
        programs = []
        for name, program_format in (
            ("One on one", common_pb2.PROGRAM_FORMAT_ONE_ON_ONE),
            ("Peers", common_pb2.PROGRAM_FORMAT_PEER),
        ):
            program = common_pb2.Program(
                name=name,
                format=program_format,
                delivery=common_pb2.DELIVERY_REMOTE,
                enrollment_window=window,
                cohort=cohort,
            )
            created = await stub.CreateProgram(
                enrollment_pb2.CreateProgramRequest(tenant=TENANT, program=program)
            )
            programs.append(created.program_id)
        gate = asyncio.Semaphore(8)

        async def one(index: int) -> None:
            async with gate:
                program_id, role = (
                    (programs[0], common_pb2.ROLE_MENTEE)
                    if index % 2
                    else (programs[1], common_pb2.ROLE_PEER)
                )
                await stub.Enroll(
                    enrollment_pb2.EnrollRequest(program_id=program_id, employee_id=who(index), role=role)
                )

        await asyncio.gather(*(one(index) for index in chosen))
    return [who(index) for index in chosen]


async def paced(
    service: Service, bootstrap: str, topic: str, enrolled: list[str], count: int, rate: float
) -> list[float]:
    """Grade updates of enrolled employees, one every 1/rate s, ce_time stamped at send."""
    producer = kafka_producer(bootstrap, linger_ms=0)
    await producer.start()
    stream = Stream(random.Random(3))
    stream.clock = datetime(2030, 1, 1, tzinfo=UTC)
    produced_at: dict[str, datetime] = {}
    before = service.applied()
    try:
        started = time.perf_counter()
        for index in range(count):
            record = stream.binary("updated", enrolled[index % len(enrolled)], grade=1 + index % 12)
            produced_at[decode(record[2], record[1]).id] = datetime.now(UTC)
            await producer.send(topic, record[1], key=record[0], headers=record[2])
            delay = started + (index + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await producer.flush()
    finally:
        await producer.stop()
    await service.wait_applied(before + count)
    await asyncio.sleep(0.5)
    return outbox_latencies(service.database, produced_at)


def _layer(file: str, function: str) -> str:
    if file.endswith("selectors.py") or "epoll" in function:
        return "waiting on the SQLite thread (epoll: SQL execution + thread hand-off)"
    if "sqlalchemy" in file:
        return "SQLAlchemy (statement building, cache keys, compile, result rows, session)"
    if any(part in file for part in ("aiosqlite", "asyncio", "greenlet")) or any(
        part in function for part in ("greenlet", "SimpleQueue", "_contextvars", "socket")
    ):
        return "asyncio / aiosqlite / greenlet plumbing"
    if "services/enrollment/domain" in file:
        return "enrollment domain"
    if "services/enrollment" in file:
        return "enrollment handlers, store, translation"
    if "services/shared" in file:
        return "shared pipeline, envelope, inbox, outbox"
    return "other (builtins, protobuf, json, ...)"


async def persistence_floor(bootstrap: str, topic: str, messages: int, database: Path) -> float:
    """Records/s of consume + decode + one inbox row and one directory row per event, in batches."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE inbox (event_id TEXT PRIMARY KEY, topic TEXT, partition INTEGER, "
        "record_offset INTEGER, applied_at REAL)"
    )
    connection.execute(
        "CREATE TABLE directory (tenant TEXT, key BLOB, record BLOB, PRIMARY KEY (tenant, key))"
    )
    consumer = plain_consumer(bootstrap, topic)
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            inbox_rows = []
            directory_rows = []
            now = time.time()
            for partition, records in batch.items():
                for record in records:
                    event = decode(record.headers, record.value)
                    inbox_rows.append((event.id, partition.topic, partition.partition, record.offset, now))
                    directory_rows.append((event.tenant, record.key, record.value))
                seen += len(records)
            connection.execute("BEGIN")
            connection.executemany("INSERT OR IGNORE INTO inbox VALUES (?, ?, ?, ?, ?)", inbox_rows)
            connection.executemany("INSERT OR REPLACE INTO directory VALUES (?, ?, ?)", directory_rows)
            connection.execute("COMMIT")
        return messages / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        connection.close()


async def profile_pipeline(bootstrap: str, topic: str, records: int, workdir: Path) -> str:
    """The shared ConsumerPipeline with the HRIS batch handler in this process, in micro-batches of the
    service's size (MENTORING_ENROLLMENT_CONSUMER_BATCH_SIZE), under cProfile, on a fresh database:
    hires first (not profiled), then changes."""
    database = Database(f"sqlite+aiosqlite:///{workdir / 'profile.db'}")
    await database.migrate(MIGRATIONS)
    dlq = DlqPublisher("bench-profile", bootstrap)
    await dlq.start()
    bus = MessageBus(database, handler_map())
    pipeline = ConsumerPipeline("bench-profile", database, hris_batch_handler(bus), dlq)
    stream = Stream(random.Random(7))
    employees = max(1, records // 2)
    hire_records = [RawRecord(topic, 0, 0, k, v, tuple(h)) for k, v, h in hires(stream, employees)]
    change_records = [
        RawRecord(topic, 0, 0, k, v, tuple(h)) for k, v, h in changes(stream, employees, records)
    ]
    size = EnrollmentSettings().consumer_batch_size
    # The service's collector settings (services.shared.runtime.run): with the default ones, collections
    # land on whichever function allocates and the profile blames it.
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()
    for first in range(0, len(hire_records), size):
        await pipeline.process_batch(hire_records[first : first + size])
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for first in range(0, len(change_records), size):
        await pipeline.process_batch(change_records[first : first + size])
    profiler.disable()
    elapsed = time.perf_counter() - started
    await dlq.stop()
    await database.dispose()
    stats = pstats.Stats(profiler)
    layers: dict[str, float] = {}
    for (file, _line, function), (_cc, _nc, own_time, _cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        layer = _layer(file, function)
        layers[layer] = layers.get(layer, 0.0) + own_time
    total = sum(layers.values())
    lines = [
        f"profile: {len(change_records)} changes through the shared pipeline in this process "
        f"(micro-batches of {size}): {len(change_records) / elapsed:,.0f} events/s under cProfile; "
        "own time by layer:"
    ]
    lines += [
        f"  {seconds:7.2f} s {seconds / total:6.1%}  {layer}"
        for layer, seconds in sorted(layers.items(), key=lambda item: -item[1])
    ]
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    lines.append(text.getvalue().split("\n\n", 1)[-1].rstrip())
    return "\n".join(lines)


async def main(arguments: argparse.Namespace) -> None:
    bootstrap = os.environ.get("MENTORING_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    rng = random.Random(2026)
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    topic = namespace + HRIS
    employees = min(arguments.employees, arguments.events)
    stream = Stream(rng)
    hire_records = hires(stream, employees)
    change_records = changes(stream, employees, arguments.events - employees)
    await ensure_topics(bootstrap, 1, namespace)
    report: list[str] = [
        f"events: {arguments.events} ({employees} hires, {len(change_records)} changes) on {bootstrap}"
    ]
    with tempfile.TemporaryDirectory() as workdir_name:
        workdir = Path(workdir_name)
        service = Service(workdir / "service", namespace, bootstrap)
        try:
            # Phase 1: hires.
            await produce(bootstrap, topic, hire_records)
            await service.wait_applied(len(hire_records))
            hired, hire_seconds, mark = applied_window(service.database, None)
            # Phase 2: enrollments over gRPC.
            started = time.perf_counter()
            enrolled = await enrol(
                service.grpc_target, employees, min(arguments.enrolled, employees - 1), rng
            )
            enrol_seconds = time.perf_counter() - started
            # Phase 3: changes; latency counts from the start of their production.
            production_started = await produce(bootstrap, topic, change_records)
            produced_at = dict.fromkeys(event_ids(change_records), production_started)
            await service.wait_applied(len(hire_records) + len(change_records))
            changed, change_seconds, _ = applied_window(service.database, mark)
            bulk_latency = outbox_latencies(service.database, produced_at)
            outbox_rows = int(service.scalar("SELECT count(*) FROM outbox"))
            service_rate = (hired + changed) / (hire_seconds + change_seconds)
            # Baseline in the same run: raw consume + decode of the same topic.
            raw_rate = await raw_consume(bootstrap, topic, arguments.events, decode_records=True)
            floor_rate = await persistence_floor(bootstrap, topic, arguments.events, workdir / "floor.db")
            # Phase 4: paced well below capacity, for the latency of one event without a backlog.
            pace = min(arguments.paced_rate, service_rate / 2)
            paced_latency = (
                await paced(service, bootstrap, topic, enrolled, arguments.paced, pace)
                if arguments.paced
                else []
            )
        finally:
            service.stop()
        report += [
            f"enrollments over gRPC: {len(enrolled)} in {enrol_seconds:.1f} s; outbox rows: {outbox_rows}",
            f"raw aiokafka consume + decode:          {raw_rate:10,.0f} events/s   (baseline)",
            f"persistence floor (+ inbox and directory row): {floor_rate:,.0f} events/s = "
            f"{floor_rate / raw_rate:.2f} x raw, with no domain logic",
            f"enrollment service, hires:              {hired / hire_seconds:10,.0f} events/s",
            f"enrollment service, changes:            {changed / change_seconds:10,.0f} events/s",
            f"enrollment service, all bulk events:    {service_rate:10,.0f} events/s",
            f"ratio service / raw: {service_rate / raw_rate:.3f}   (target >= 0.5); "
            f"service / persistence floor: {service_rate / floor_rate:.3f}",
            f"event -> outbox latency under bulk load, from the start of production ({len(bulk_latency)} "
            f"events with output): p50 {percentile(bulk_latency, 0.5):,.2f} s, "
            f"p99 {percentile(bulk_latency, 0.99):,.2f} s (queueing behind the backlog)",
        ]
        if paced_latency:
            report.append(
                f"event -> outbox latency paced at {pace:,.0f} events/s ({len(paced_latency)} events): "
                f"p50 {percentile(paced_latency, 0.5) * 1000:,.1f} ms, "
                f"p99 {percentile(paced_latency, 0.99) * 1000:,.1f} ms"
            )
        if arguments.profile:
            report.append(await profile_pipeline(bootstrap, topic, arguments.profile, workdir))
    print("\n".join(report))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--enrolled", type=int, default=1_000)
    parser.add_argument("--paced", type=int, default=2_000)
    parser.add_argument("--paced-rate", type=float, default=50.0, help="events/s of the paced phase")
    parser.add_argument(
        "--profile", type=int, default=0, help="also profile the pipeline in-process on N records"
    )
    asyncio.run(main(parser.parse_args()))
