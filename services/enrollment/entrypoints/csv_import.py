"""Initial load (and later re-syncs) of the directory from an HR export CSV.

    python -m services.enrollment.entrypoints.csv_import FILE --tenant acme [--bootstrap 127.0.0.1:9092]
        [--namespace NS] [--as-of 2030-01-01T06:00:00Z] [--initial-load] [--dry-run]

Each row becomes one HRIS CloudEvent on ``hris.worker.events.v1`` (structured JSON mode, SCIM field
names: the columns already are), keyed ``tenant:employeeNumber``, so it goes through the same consumer,
ordering rules, inbox and DLQ as an HRIS adapter's events. Columns are :data:`CSV_COLUMNS`; a column
missing from the file leaves that attribute unchanged, an empty cell clears it; ``languages`` and
``skills`` are semicolon-separated.

Event types. The CLI cannot see the directory, and an export is a snapshot, not a history, so:

- a row whose status is ``terminated`` is a TERMINATED event;
- with ``--initial-load`` every other row is HIRED (the directory is empty: everyone is new);
- otherwise every other row is UPDATED carrying the row's status. An UPDATED creates an employee the
  directory does not know, changes only what differs for one it knows, and its status moves a leave
  (active <-> on_leave) like LEAVE_STARTED / LEAVE_ENDED would, so a re-sync converges without
  knowing who is new. A terminated employee who is active again in the export comes back through the
  status column (the directory's REHIRED effects are the same: their old enrollments stay withdrawn).

All rows carry the export's time (``--as-of``, default: the file's modification time) and their line
number as the sequence, so a later export wins field by field and, within a file, a later row wins.
Event ids derive from the tenant, the file's content and the line, so importing the same file twice
applies nothing twice. Rows that do not map are reported with their line and field and not sent; the
exit code is then 1.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final

import typer

from services.enrollment.adapters.translate import WORKER_MESSAGES
from services.enrollment.config import EnrollmentSettings
from services.enrollment.domain import (
    CSV_COLUMNS,
    EmployeeStatus,
    HrisEventType,
    hris_event_from_csv_row,
    hris_event_from_scim,
)
from services.shared.envelope import STRUCTURED_CONTENT_TYPE
from services.shared.errors import InvalidArgument
from services.shared.outbox import kafka_producer
from services.shared.topics import HRIS_WORKER_EVENTS, ce_type_of, source_of

PRODUCER: Final = "csv-import"
LIST_COLUMNS: Final = frozenset({"languages", "skills"})
SEND_BATCH: Final = 2000


@dataclass(frozen=True)
class ImportEvent:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    event_type: HrisEventType


@dataclass(frozen=True)
class Rejected:
    line: int
    field: str
    message: str


def scim_record(row: dict[str, str | None]) -> dict[str, object]:
    """A CSV row in SCIM field names: the columns present, lists split on semicolons."""
    record: dict[str, object] = {}
    for column in CSV_COLUMNS:
        value = row.get(column)
        if value is None:  # column not in the file, or a short row
            continue
        record[column] = value.split(";") if column in LIST_COLUMNS else value
    return record


def events_from_csv(
    path: Path, *, tenant: str, as_of: datetime, initial_load: bool
) -> tuple[list[ImportEvent], list[Rejected]]:
    """Map every row; the good ones become CloudEvents, the others are reported."""
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    reader = csv.DictReader(content.decode("utf-8-sig").splitlines())
    if "employeeNumber" not in (reader.fieldnames or ()):
        raise typer.BadParameter("the file has no employeeNumber column", param_hint="FILE")
    known_status = None if initial_load else EmployeeStatus.ACTIVE
    events: list[ImportEvent] = []
    rejected: list[Rejected] = []
    for row in reader:
        line = reader.line_num
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mentoring:csv:{tenant}:{digest}:{line}"))
        try:
            mapped = hris_event_from_csv_row(
                row,
                event_id=event_id,
                tenant=tenant,
                effective_time=as_of,
                sequence=line,
                current_status=known_status,
            )
            record = scim_record(row) | {"effectiveTime": as_of.isoformat(), "sequence": line}
            ce_type = ce_type_of(WORKER_MESSAGES[mapped.type])
            # The consumer maps the record with this function: refuse here what it would dead-letter.
            hris_event_from_scim(record, event_id=event_id, tenant=tenant, event_type=mapped.type.value)
        except InvalidArgument as error:
            rejected.append(Rejected(line, error.field, error.message))
            continue
        document = {
            "specversion": "1.0",
            "id": event_id,
            "source": source_of(PRODUCER),
            "type": ce_type,
            "time": as_of.isoformat(),
            "subject": mapped.employee_id,
            "tenant": tenant,
            "datacontenttype": "application/json",
            "data": record,
        }
        events.append(
            ImportEvent(
                key=f"{tenant}:{mapped.employee_id}".encode(),
                value=json.dumps(document, separators=(",", ":")).encode(),
                headers=[("content-type", STRUCTURED_CONTENT_TYPE.encode())],
                event_type=mapped.type,
            )
        )
    return events, rejected


async def publish(events: list[ImportEvent], *, bootstrap: str, topic: str) -> None:
    """Send every event and wait for the broker's acknowledgement of each (acks=all, idempotent)."""
    producer = kafka_producer(bootstrap)
    await producer.start()
    try:
        for first in range(0, len(events), SEND_BATCH):
            deliveries = [
                await producer.send(topic, event.value, key=event.key, headers=event.headers)
                for event in events[first : first + SEND_BATCH]
            ]
            await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


def _as_of(text: str | None, path: Path) -> datetime:
    if text is None:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO 8601 date-time: {text!r}", param_hint="--as-of") from error
    if moment.tzinfo is None:
        raise typer.BadParameter("give a UTC offset (e.g. 2030-01-01T06:00:00Z)", param_hint="--as-of")
    return moment


def run(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="HR export (CSV)")],
    tenant: Annotated[str, typer.Option(help="Tenant the employees belong to")],
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers")] = None,
    namespace: Annotated[str | None, typer.Option(help="Topic namespace (prefix)")] = None,
    as_of: Annotated[str | None, typer.Option(help="Export time, ISO 8601 (default: file mtime)")] = None,
    initial_load: Annotated[bool, typer.Option(help="Every non-terminated row is a hire")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check and count, send nothing")] = False,
) -> None:
    """Turn an HR export into HRIS CloudEvents for the enrollment service."""
    settings = EnrollmentSettings()
    topic = (settings.topic_namespace if namespace is None else namespace) + HRIS_WORKER_EVENTS
    tenant = tenant.strip()
    if not tenant:
        raise typer.BadParameter("must not be empty", param_hint="--tenant")
    events, rejected = events_from_csv(
        file, tenant=tenant, as_of=_as_of(as_of, file), initial_load=initial_load
    )
    for problem in rejected:
        typer.echo(f"{file}:{problem.line}: {problem.message}", err=True)
    if not dry_run and events:
        asyncio.run(publish(events, bootstrap=bootstrap or settings.kafka_bootstrap, topic=topic))
    counts = Counter(event.event_type.value.lower() for event in events)
    summary = ", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items())) or "none"
    verb = "would send" if dry_run else f"sent to {topic}"
    typer.echo(f"{len(events)} events {verb} ({summary}); {len(rejected)} rows rejected")
    if rejected:
        raise typer.Exit(code=1)


def main() -> None:
    typer.run(run)


if __name__ == "__main__":
    main()
