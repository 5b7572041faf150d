"""One database per service: SQLite file by default, PostgreSQL by DSN; Alembic migrations.

The shared migration chain (``services/shared/migrations``) creates the outbox and inbox tables; each
service adds its own chain on top of it in ``services/<name>/adapters/migrations``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Dialect,
    MetaData,
    Result,
    TypeDecorator,
    event,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.shared.cancellation import guard_engine

SHARED_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC: SQLite keeps no offset, so UTC is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (the session types it as a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount)


# SQLSTATEs of a transaction the database aborted to resolve a conflict with another writer: retried
# whole, they succeed (deadlock_detected, serialization_failure).
WRITE_CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


def is_write_conflict(error: BaseException) -> bool:
    """PostgreSQL aborted this transaction for a deadlock or a serialization failure."""
    if not isinstance(error, DBAPIError):
        return False
    return getattr(error.orig, "sqlstate", None) in WRITE_CONFLICT_SQLSTATES


# Execution option of read-only sessions (see Database.read_sessions).
READ_ONLY = "mentoring_read_only"

# Tables every service has (outbox, inbox); services declare theirs on a MetaData of their own.
messaging_metadata = MetaData()


class Database:
    """An engine plus a session factory whose ``transaction()`` is the unit of work."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        connect_args: dict[str, Any] = {"timeout": 30} if self.is_sqlite else {}
        if self.is_sqlite:
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, connect_args=connect_args)
        if self.is_sqlite:
            _make_sqlite_transactional(self.engine)
        guard_engine(self.engine, interruptible=self.is_sqlite)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # For reads that write nothing (the relay's polls, gauges): on SQLite they do not take the write
        # lock, so they never make a consumer's transaction wait.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read_transaction(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: on SQLite it takes no write lock; closing it ends the transaction,
        committing nothing."""
        async with self.read_sessions() as session:
            yield session

    async def migrate(self, service_migrations: Path) -> None:
        """Bring the schema to the newest revision of the shared chain plus the service's chain."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade, service_migrations)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _upgrade(connection: Connection, service_migrations: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(SHARED_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", f"{SHARED_MIGRATIONS / 'versions'}:{service_migrations}")
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not pysqlite, open transactions, and open them for writing at once.

    pysqlite defers BEGIN to the first write; BEGIN IMMEDIATE takes the write lock up front, so a
    read-then-write unit of work (inbox check, then apply) never fails half-way on a lock upgrade.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MiB of page cache (the default is 2 MiB): a directory of 100,000 employees stays in memory.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA foreign_keys=ON")
        # What a delete or update frees is zeroed, not left readable in free pages: an erasure must not
        # leave a person's data behind (per connection, so on every connection of the pool).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
