"""The audit trail: who did what, for which tenant, when, and how it ended, recorded at the gRPC edge of
every service (``grpc_server.py`` hooks it in, ``audit_rpc.py`` learns the caller and the access rule).

Recorded: every call of an RPC whose access rule is ``audited`` (reads of contact data, HR actions),
whatever its outcome, and every call of any RPC refused as UNAUTHENTICATED or PERMISSION_DENIED. A record
names the caller by opaque ids only (employee id, service name, token subject; nothing for a call
without a valid token, whose token is never read) and the ids the request named: fields called ``tenant``,
``*_id`` or ``*_ids``, never free text, names or e-mails.

The call never waits for its record and never fails because of it: :meth:`AuditTrail.record` puts the
record on a bounded queue, and a writer stores queued records in batches, each batch in one transaction
with its ``AuditRecorded`` events in the outbox (``audit_store.py``). A failed write is counted, logged
without personal data and retried (a couple of minutes at most); a record the full queue cannot take,
given up, or still unwritten when the service stops, is counted as lost
(``mentoring_audit_failures_total``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import prometheus_client
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from mentoring.v1 import events_pb2 as ev

from services.shared.audit_store import AuditRecord, Ids, append, delete_older_than
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.logging import get_logger
from services.shared.topics import check_producer

log = get_logger(__name__)

AUDIT_RECORDS = prometheus_client.Counter(
    "mentoring_audit_records_total",
    "Audit records stored (with their AuditRecorded event in the outbox), by the call's status code name.",
    ["service", "outcome"],
)
AUDIT_FAILURES = prometheus_client.Counter(
    "mentoring_audit_failures_total",
    "Audit records not stored at once, by reason: write_error (a write failed; retried); lost: gave_up "
    "(refused at every try), queue_full, shutdown, build_error.",
    ["service", "reason"],
)
FAILURE_REASONS = ("write_error", "gave_up", "queue_full", "shutdown", "build_error")

# Refusals recorded on every RPC; an audited RPC has every outcome recorded.
REFUSALS = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})

MAX_ID_CHARS = 128  # an id longer than this is no id of ours: cut, so a record stays small
MAX_IDS_PER_FIELD = 100
MAX_DEPTH = 3  # nested messages looked into (CreateProgramRequest.program.manager_ids)
MAX_RETRY_SECONDS = 5.0
# A batch the database keeps refusing is given up after this many tries (about two minutes): the writer
# must not stall behind it for good. Values are fitted to their columns first, so that it takes an outage.
MAX_WRITE_ATTEMPTS = 30
LOG_EVERY_SECONDS = 10.0  # at most one log line per reason in this time, with the count since the last


def worth_recording(outcome: str, audited: bool) -> bool:
    return audited or outcome in REFUSALS


def _is_id(name: str) -> bool:
    return name == "tenant" or name.endswith(("_id", "_ids"))


def _fit(value: str, length: int) -> str:
    """``value`` without control characters (PostgreSQL refuses NUL in text), cut to ``length``."""
    if not value.isprintable():
        value = "".join(char if char.isprintable() else "?" for char in value)
    return value if len(value) <= length else value[: length - 1] + "…"


def _clip(value: str) -> str:
    return _fit(value, MAX_ID_CHARS)


def request_ids(request: object) -> Ids:
    """The opaque ids ``request`` names: its string fields called ``tenant``, ``*_id`` or ``*_ids``, in
    it and in its nested (non-repeated) messages; dotted names for nested ones. None of anything that is
    not a protobuf message (a generic handler's bytes)."""
    found: list[tuple[str, tuple[str, ...]]] = []
    if isinstance(request, Message):
        _collect(request, "", 0, found)
    return tuple(found)


def _collect(message: Message, prefix: str, depth: int, found: list[tuple[str, tuple[str, ...]]]) -> None:
    for field, value in message.ListFields():
        name = prefix + field.name
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if not field.is_repeated and depth < MAX_DEPTH:
                _collect(value, name + ".", depth + 1, found)
            continue
        if field.type != FieldDescriptor.TYPE_STRING or not _is_id(field.name):
            continue
        values = list(value)[:MAX_IDS_PER_FIELD] if field.is_repeated else [value]
        kept = tuple(_clip(text) for text in values if text)
        if kept:
            found.append((name, kept))


@dataclass(frozen=True, slots=True)
class Call:
    """What the gRPC edge saw of one call."""

    grpc_service: str
    grpc_method: str
    outcome: str  # the status code name
    reason: str  # the ErrorInfo reason of the status, if any
    caller: Principal | None  # None: not authenticated
    request: object  # the decoded request message; None when it did not decode
    audited: bool
    metadata_tenant: str = ""  # the tenant the call's metadata names (a service account's look-up)


def _nothing() -> None:
    return None


class AuditTrail:
    """Records calls (:meth:`record`) in the service's ``audit_log`` table and on ``audit.events.v1``."""

    def __init__(
        self,
        service: str,
        database: Database,
        *,
        retention: timedelta | None,
        after_write: Callable[[], None] = _nothing,
        queue_size: int = 10_000,
        batch_size: int = 500,
        chunk_size: int = 5_000,
    ) -> None:
        check_producer(service, ev.AuditRecorded)  # a service the registry does not list fails at once
        self._service = service
        self._database = database
        self._retention = retention
        self._after_write = after_write
        self._queue: asyncio.Queue[AuditRecord] = asyncio.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._chunk_size = chunk_size
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unlogged: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}
        for reason in FAILURE_REASONS:
            AUDIT_FAILURES.labels(service, reason)

    @property
    def retention(self) -> timedelta | None:
        return self._retention

    def record(self, call: Call) -> None:
        """Queue a record of ``call`` if the trail keeps it; never raises, never waits."""
        if not worth_recording(call.outcome, call.audited):
            return
        try:
            record = self._record_of(call)
        except Exception as error:  # noqa: BLE001 -- a request we cannot read must not fail the call
            self.lost("build_error", 1, error)
            return
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.lost("queue_full", 1, None)

    def _record_of(self, call: Call) -> AuditRecord:
        ids = request_ids(call.request)
        caller = call.caller
        named_tenant = next((values[0] for field, values in ids if field == "tenant"), call.metadata_tenant)
        tenant = caller.tenant if caller is not None and caller.tenant else named_tenant
        # Each text fits its column (audit_store.audit_log_table), or one record would fail its batch.
        return AuditRecord(
            audit_id=str(uuid.uuid4()),
            recorded_at=datetime.now(UTC),
            service=self._service,
            grpc_service=_fit(call.grpc_service, 200),
            grpc_method=_fit(call.grpc_method, 100),
            outcome=_fit(call.outcome, 40),
            reason=_fit(call.reason, 100),
            tenant=_fit(tenant, 100),
            actor_employee_id=_fit((caller.employee_id or "") if caller is not None else "", 200),
            actor_service=_fit((caller.service or "") if caller is not None else "", 100),
            actor_subject=_fit(caller.subject if caller is not None else "", 200),
            ids=ids,
            audited=call.audited,
        )

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-audit-writer")

    async def stop(self) -> None:
        """Store what is queued (one more try each), then stop; what is still unstored is counted lost."""
        self._stopping = True
        if self._task is not None:
            await self.flush()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            batch = self._take_batch()
            await self._write(batch)

    async def flush(self) -> None:
        """Return once every record queued so far is stored (or counted lost)."""
        if self._task is None or self._task.done():
            while not self._queue.empty():
                await self._write(self._take_batch())
            return
        await self._queue.join()

    def _take_batch(self) -> list[AuditRecord]:
        batch: list[AuditRecord] = []
        while len(batch) < self._batch_size and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            batch += self._take_batch()
            delay = 0.1
            for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
                if await self._write(batch, last=attempt == MAX_WRITE_ATTEMPTS):
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _write(self, batch: list[AuditRecord], last: bool = True) -> bool:
        """Store ``batch`` in one transaction; False when it failed and is to be tried again (unless
        ``last`` or the trail is stopping: then it is counted lost)."""
        try:
            async with self._database.transaction() as session:
                await append(session, batch)
        except Exception as error:  # noqa: BLE001 -- the database is down or busy: tried again
            final = last or self._stopping
            reason = "shutdown" if self._stopping else "gave_up" if last else "write_error"
            self.lost(reason, len(batch), error)
            if not final:
                return False
        else:
            self._after_write()
            for record in batch:
                AUDIT_RECORDS.labels(self._service, record.outcome).inc()
        for _ in batch:
            self._queue.task_done()
        return True

    def lost(self, reason: str, count: int, error: BaseException | None) -> None:
        """Count and log ``count`` records not stored (at once, for ``write_error``)."""
        AUDIT_FAILURES.labels(self._service, reason).inc(count)
        self._unlogged[reason] += count
        now = time.monotonic()
        if now - self._logged_at.get(reason, -LOG_EVERY_SECONDS) < LOG_EVERY_SECONDS:
            return  # a flood of refused calls must not become a flood of log lines
        self._logged_at[reason] = now
        # The exception's type only: its text may quote the statement's parameters.
        log.warning(
            "audit_records_not_stored",
            reason=reason,
            records=self._unlogged.pop(reason),
            error=type(error).__name__ if error is not None else "",
        )

    async def prune(self, now: datetime | None = None) -> int:
        """Delete the records older than the retention, in chunks of short transactions."""
        if self._retention is None:
            return 0
        cutoff = (now or datetime.now(UTC)) - self._retention
        total = 0
        while True:
            async with self._database.transaction() as session:
                deleted = await delete_older_than(session, cutoff, self._chunk_size)
            total += deleted
            if deleted < self._chunk_size:
                break
            await asyncio.sleep(0)  # let RPCs and consumers in between chunks
        if total:
            log.info("audit_records_pruned", records=total)
        return total
