"""What an erasure needs of the database file itself (SQLite): freed space zeroed on every connection,
and the write-ahead log emptied once the erasure committed, so that no older page version holding the
person's data is left in the ``-wal`` file. PostgreSQL has neither (see the service's README)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select

from services.shared.db import Database
from services.shared.outbox import outbox_table


def zero_freed_space(database: Database) -> None:
    """``PRAGMA secure_delete = ON`` on every connection SQLite opens: a per-connection setting, so that
    set in one transaction left the relay's deletes and the retention sweeps on other pooled
    connections without it."""
    if not database.is_sqlite:
        return

    @event.listens_for(database.engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()


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
