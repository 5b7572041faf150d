"""Migration notification_0002 on a real SQLite file holding rows of notification_0001: preferences and
match participants get the one tenant the service delivered to them in, or none when that is unclear.
(tests/integration/test_notification_access_migration.py runs the same on PostgreSQL.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Executable, select, text

from services.notification.adapters.store import match_participants, preferences
from services.notification.bootstrap import MIGRATIONS
from services.shared.db import SHARED_MIGRATIONS, Database


def _upgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(SHARED_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", f"{SHARED_MIGRATIONS / 'versions'}:{MIGRATIONS}")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(database: Database, revision: str) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def insert(database: Database, statement: str, rows: list[dict[str, Any]]) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text(statement), rows)


async def rows(database: Database, query: Executable) -> list[tuple[Any, ...]]:
    """Read through the store's tables, so values come back typed alike on every database."""
    async with database.engine.begin() as connection:
        return [tuple(row) for row in (await connection.execute(query)).all()]


async def check_old_rows_take_the_one_tenant_delivered_in(database: Database) -> None:
    await migrate(database, "notification_0001")
    await insert(
        database,
        "INSERT INTO notifications VALUES (:id, :recipient, :tenant, 'enrolled', 'in_app', 't', 'b', "
        "'delivered', 1, '', false, '2030-01-01 12:00:00+00', NULL)",
        [
            {"id": "n-1", "recipient": "E-1", "tenant": "acme"},
            {"id": "n-2", "recipient": "E-1", "tenant": "acme"},
            {"id": "n-3", "recipient": "E-2", "tenant": "acme"},
            {"id": "n-4", "recipient": "E-2", "tenant": "globex"},  # a namesake: whose preferences?
        ],
    )
    await insert(
        database,
        "INSERT INTO preferences VALUES "
        "(:recipient, false, true, '', '[\"enrolled\"]', '2030-01-01 12:00:00+00')",
        [{"recipient": recipient} for recipient in ("E-1", "E-2", "E-3")],
    )
    await insert(
        database,
        "INSERT INTO match_participants VALUES (:match, :employee, 'mentor', 'prog-1')",
        [
            {"match": "m-1", "employee": "E-1"},
            {"match": "m-1", "employee": "E-9"},  # never notified: their mentor's tenant is the match's
            {"match": "m-2", "employee": "E-2"},
        ],
    )

    await migrate(database, "heads")

    p = preferences.c
    assert await rows(
        database, select(p.tenant, p.recipient_id, p.email, p.muted_templates).order_by(p.recipient_id)
    ) == [
        ("acme", "E-1", False, ["enrolled"]),
        ("", "E-2", False, ["enrolled"]),
        ("", "E-3", False, ["enrolled"]),
    ]
    m = match_participants.c
    assert await rows(
        database, select(m.match_id, m.employee_id, m.tenant).order_by(m.match_id, m.employee_id)
    ) == [
        ("m-1", "E-1", "acme"),
        ("m-1", "E-9", "acme"),
        ("m-2", "E-2", ""),
    ]
    # The same recipient id may now hold preferences in two tenants.
    await insert(
        database,
        "INSERT INTO preferences (tenant, recipient_id, email, in_app, webhook_url, muted_templates, "
        "updated_at) VALUES (:tenant, 'E-1', true, true, '', '[]', '2030-01-02 12:00:00+00')",
        [{"tenant": "globex"}],
    )
    assert await rows(database, select(p.tenant).where(p.recipient_id == "E-1").order_by(p.tenant)) == [
        ("acme",),
        ("globex",),
    ]


async def test_old_rows_take_the_one_tenant_delivered_in(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    try:
        await check_old_rows_take_the_one_tenant_delivered_in(database)
    finally:
        await database.dispose()
