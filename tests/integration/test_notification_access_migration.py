"""Migration notification_0002 (preferences and match participants keyed by tenant) on a real
PostgreSQL server, over rows written by notification_0001: the same checks as on SQLite."""

from __future__ import annotations

import pytest

from services.shared.db import Database
from tests.support.postgres import PostgresServer
from tests.unit.notification.test_tenant_migration import check_old_rows_take_the_one_tenant_delivered_in

pytestmark = pytest.mark.integration


async def test_old_rows_take_the_one_tenant_delivered_in_on_postgres(postgres_server: PostgresServer) -> None:
    database = Database(await postgres_server.create_database("notification"))
    try:
        await check_old_rows_take_the_one_tenant_delivered_in(database)
    finally:
        await database.dispose()
