"""What an erasure leaves behind, and how it is made unreadable.

- The database file (SQLite): every connection zeroes what it frees (``secure_delete``), and once an
  erasure's transaction has committed :class:`ErasureFollowUp` checkpoints the write-ahead log and
  truncates it, because the ``-wal`` file keeps older versions of the pages (the person's row as it was
  before the tombstone) until it is overwritten. It first waits, for a bounded time, until the relay has
  deleted the outbox rows about the person that were still unpublished at the erasure.
- The copies on Kafka that we cannot delete (the HRIS dead letters): sealed under the person's key
  (:class:`DeadLetterKeys`), which the erasure deletes in its own transaction (``service_layer/hris.py``).
"""

from __future__ import annotations

import asyncio
import time

from services.enrollment import metrics
from services.enrollment.adapters import store
from services.enrollment.adapters.erasure_store import checkpoint_and_truncate_wal, rows_to_forget
from services.enrollment.domain import EmployeeStatus
from services.shared import personal_keys
from services.shared.db import Database
from services.shared.logging import get_logger

log = get_logger(__name__)


class DeadLetterKeys:
    """The key an HRIS dead letter about ``tenant:subject`` is sealed with: the person's, made on first
    use; for a person already erased, a key that is never stored (the letter is unreadable at once)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def key_for_sealing(self, tenant: str, subject: str) -> bytes:
        async with self._database.transaction() as session:
            employee = await store.get_employee(session, tenant, subject)
            if employee is not None and employee.status is EmployeeStatus.ERASED:
                return personal_keys.new_key()
            return await personal_keys.key_for_sealing(session, tenant, subject)

    async def key_for_opening(self, tenant: str, subject: str) -> bytes | None:
        async with self._database.read_transaction() as session:
            return await personal_keys.key_of(session, tenant, subject)


class ErasureFollowUp:
    """A background job: after each erasure batch commits (:meth:`erased`), empty the write-ahead log."""

    def __init__(
        self,
        database: Database,
        *,
        forget_wait_seconds: float = 30.0,
        retry_seconds: float = 0.5,
        max_attempts: int = 20,
    ) -> None:
        self._database = database
        self._forget_wait_seconds = forget_wait_seconds
        self._retry_seconds = retry_seconds
        self._max_attempts = max_attempts
        self._pending = asyncio.Event()

    def erased(self) -> None:
        """Called once an erasure's transaction has committed."""
        self._pending.set()

    async def run(self) -> None:
        # Once at start too: a crash between an erasure's commit and its checkpoint left the log as it was.
        self._pending.set()
        while True:
            await self._pending.wait()
            self._pending.clear()
            if not await self.follow_up():
                self._pending.set()  # frames may still hold the person's data: again, later
                await asyncio.sleep(self._forget_wait_seconds)

    async def follow_up(self) -> bool:
        """Returns True when the log was emptied with no outbox row about an erased person left."""
        if not self._database.is_sqlite:
            return True  # nothing to checkpoint: see the README for what PostgreSQL keeps until vacuum
        deadline = time.monotonic() + self._forget_wait_seconds
        while (waiting := await rows_to_forget(self._database)) and time.monotonic() < deadline:
            await asyncio.sleep(self._retry_seconds)
        for _ in range(self._max_attempts):
            if await checkpoint_and_truncate_wal(self._database):
                metrics.ERASURE_CHECKPOINTS.labels("done").inc()
                return waiting == 0
            metrics.ERASURE_CHECKPOINTS.labels("busy").inc()
            await asyncio.sleep(self._retry_seconds)
        log.warning("erasure_checkpoint_busy", attempts=self._max_attempts)
        return False
