"""What an erasure leaves in a service's own SQLite database, and how it goes.

Every SQLite connection zeroes what it frees (``secure_delete``, set in ``services.shared.db``). The
write-ahead log still keeps older versions of pages (a person's row as it was before the erasure) until
it is overwritten, so once an erasure's transaction has committed :class:`ErasureFollowUp` checkpoints
the log and truncates it. It first waits, for a bounded time, until the relay has deleted the outbox
rows about the person that were still unpublished at the erasure. PostgreSQL keeps dead row versions
until ``VACUUM FULL``, and its own WAL and backups for their retention (see the enrollment README).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from services.shared.db import Database
from services.shared.logging import get_logger
from services.shared.metrics import ERASURE_CHECKPOINTS
from services.shared.outbox import outbox_table

log = get_logger(__name__)


async def rows_to_forget(database: Database) -> int:
    """Outbox rows about erased people still waiting for the relay (it deletes them once published)."""
    async with database.read_transaction() as session:
        found = await session.execute(
            select(func.count()).select_from(outbox_table).where(outbox_table.c.forget_after_publish)
        )
        return int(found.scalar_one())


async def checkpoint_and_truncate_wal(database: Database) -> bool:
    """Copy every committed page into the database file and truncate the ``-wal`` file to zero bytes.
    Returns False when a reader or writer kept it from finishing (SQLite's ``busy``): try again."""
    if not database.is_sqlite:
        return True
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        # The driver's own connection: outside any transaction (a checkpoint cannot run inside one).
        driver: Any = raw.driver_connection
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            busy, _log_frames, _checkpointed = await cursor.fetchone()
        finally:
            await cursor.close()
    return int(busy) == 0


class ErasureFollowUp:
    """A background job: after each erasure commits (:meth:`erased`), empty the write-ahead log."""

    def __init__(
        self,
        service: str,
        database: Database,
        *,
        forget_wait_seconds: float = 30.0,
        retry_seconds: float = 0.5,
        max_attempts: int = 20,
    ) -> None:
        self._service = service
        self._database = database
        self._forget_wait_seconds = forget_wait_seconds
        self._retry_seconds = retry_seconds
        self._max_attempts = max_attempts
        self._pending = asyncio.Event()
        for outcome in ("done", "busy"):
            ERASURE_CHECKPOINTS.labels(service, outcome)

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
            return True  # nothing to checkpoint: PostgreSQL keeps dead rows until VACUUM FULL
        deadline = time.monotonic() + self._forget_wait_seconds
        while (waiting := await rows_to_forget(self._database)) and time.monotonic() < deadline:
            await asyncio.sleep(self._retry_seconds)
        for _ in range(self._max_attempts):
            if await checkpoint_and_truncate_wal(self._database):
                ERASURE_CHECKPOINTS.labels(self._service, "done").inc()
                return waiting == 0
            ERASURE_CHECKPOINTS.labels(self._service, "busy").inc()
            await asyncio.sleep(self._retry_seconds)
        log.warning("erasure_checkpoint_busy", attempts=self._max_attempts)
        return False
