"""Read the HRIS dead letters back, opened with the keys of the people they are about:

    python -m services.enrollment.entrypoints.dlq_replay [--bootstrap HOST:PORT] [--namespace NS]
        [--person TENANT:WORKER] [--republish]

The dead letters of ``hris.worker.events.v1.dlq`` are sealed under per-person keys kept in the
enrollment database (``services/shared/dlq.py``). This tool reads the topic from its beginning to its end
as it is when the tool starts, opens each letter with its person's key while the key exists, and prints
one JSON object per letter on standard output: where it was, its reason, whether it could be read and,
if so, the original key, value and headers. A letter about an erased person (its key deleted) prints as
``"readable": false`` with the clear fields only: nothing else of it can be read by anyone.

``--republish`` also sends each opened letter's original record (key, value, headers without the
``dlq_*`` ones) back to the topic it came from, once the cause is fixed; letters cut down as
``too_large`` (no value) and unreadable ones are not sent, and are counted on standard error. The
printed output holds personal data: it is for the operator's terminal, not for a log.

The database is the service's own (``MENTORING_ENROLLMENT_DATABASE_URL`` or the data directory's file);
run it where the service runs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer

from services.enrollment.config import EnrollmentSettings
from services.enrollment.service_layer.erasure import DeadLetterKeys
from services.shared.db import Database
from services.shared.dlq import CLEAR_HEADERS, SEALED, SEALED_FOR, open_letter
from services.shared.outbox import kafka_producer
from services.shared.personal_keys import Unreadable
from services.shared.topics import HRIS_WORKER_EVENTS, dlq_name

Headers = tuple[tuple[str, bytes], ...]
ASSIGNMENT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Letter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class Opened:
    letter: Letter
    readable: bool
    value: bytes | None
    headers: Headers


async def read_all(bootstrap: str, topic: str) -> list[Letter]:
    """Every record of ``topic`` up to its end offsets as they are now (no consumer group)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return []
        deadline = time.monotonic() + ASSIGNMENT_SECONDS
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partition of {topic} assigned in {ASSIGNMENT_SECONDS} s")
            await asyncio.sleep(0.1)
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        letters: list[Letter] = []
        remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset < ends[tp]:
                        headers = tuple((name, bytes(raw)) for name, raw in record.headers)
                        letters.append(Letter(tp.partition, record.offset, record.key, record.value, headers))
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return sorted(letters, key=lambda letter: (letter.partition, letter.offset))
    finally:
        await consumer.stop()


async def open_all(letters: list[Letter], keys: DeadLetterKeys) -> list[Opened]:
    opened: list[Opened] = []
    for letter in letters:
        clear = dict(letter.headers)
        if SEALED not in clear:  # written before sealing existed
            opened.append(Opened(letter, True, letter.value, letter.headers))
            continue
        tenant, _, subject = clear.get(SEALED_FOR, b"").decode().partition(":")
        key = await keys.key_for_opening(tenant, subject) if tenant else None
        try:
            if key is None:
                raise Unreadable("no key")
            value, headers = open_letter(letter.value, letter.headers, key)
        except Unreadable:
            kept = tuple((name, raw) for name, raw in letter.headers if name in CLEAR_HEADERS)
            opened.append(Opened(letter, False, None, kept))
            continue
        opened.append(Opened(letter, True, value, headers))
    return opened


def _bytes_field(raw: bytes | None) -> Any:
    """Text when the bytes are UTF-8, else ``{"base64": ...}``."""
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode()}


def as_json(opened: Opened) -> str:
    letter = opened.letter
    document: dict[str, Any] = {
        "partition": letter.partition,
        "offset": letter.offset,
        "readable": opened.readable,
        "key": _bytes_field(letter.key),
        "headers": {name: _bytes_field(raw) for name, raw in opened.headers},
    }
    if opened.readable:
        document["value"] = _bytes_field(opened.value)
    return json.dumps(document, sort_keys=True)


async def republish(opened: list[Opened], bootstrap: str) -> Counter[str]:
    """The originals of the opened letters, back on the topic they came from."""
    outcome: Counter[str] = Counter()
    producer = kafka_producer(bootstrap)
    await producer.start()
    try:
        for item in opened:
            headers = dict(item.headers)
            if not item.readable:
                outcome["unreadable"] += 1
                continue
            if item.value is None or "dlq_original_topic" not in headers:
                outcome["not_whole"] += 1
                continue
            original = [(name, raw) for name, raw in item.headers if not name.startswith("dlq_")]
            await producer.send_and_wait(
                headers["dlq_original_topic"].decode(), item.value, key=item.letter.key, headers=original
            )
            outcome["republished"] += 1
    finally:
        await producer.stop()
    return outcome


async def replay(
    *, bootstrap: str, topic: str, database_url: str, person: str | None, send: bool
) -> tuple[list[Opened], Counter[str]]:
    letters = await read_all(bootstrap, topic)
    if person is not None:
        letters = [letter for letter in letters if dict(letter.headers).get(SEALED_FOR) == person.encode()]
    database = Database(database_url)
    try:
        opened = await open_all(letters, DeadLetterKeys(database))
    finally:
        await database.dispose()
    outcome = await republish(opened, bootstrap) if send else Counter[str]()
    return opened, outcome


def run(
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers")] = None,
    namespace: Annotated[str | None, typer.Option(help="Topic namespace (prefix)")] = None,
    person: Annotated[str | None, typer.Option(help="Only the letters about TENANT:WORKER")] = None,
    send: Annotated[
        bool, typer.Option("--republish", help="Send the opened originals back to their topic")
    ] = False,
) -> None:
    """Print the HRIS dead letters, opened with their people's keys; optionally re-publish them."""
    settings = EnrollmentSettings()
    topic = dlq_name((settings.topic_namespace if namespace is None else namespace) + HRIS_WORKER_EVENTS)
    opened, outcome = asyncio.run(
        replay(
            bootstrap=bootstrap or settings.kafka_bootstrap,
            topic=topic,
            database_url=settings.effective_database_url,
            person=person,
            send=send,
        )
    )
    for item in opened:
        typer.echo(as_json(item))
    readable = sum(item.readable for item in opened)
    summary = f"{len(opened)} letters on {topic}: {readable} readable, {len(opened) - readable} unreadable"
    if send:
        summary += "; " + ", ".join(f"{name}: {count}" for name, count in sorted(outcome.items()))
    typer.echo(summary, err=True)


def main() -> None:
    typer.run(run)


if __name__ == "__main__":
    main()
