"""Every enrollment handler scenario of ``tests/unit/enrollment/test_handlers.py`` again, on a real
PostgreSQL server chosen by DSN: the store's recursive reporting-line queries, the partial unique index
on live enrollments, keyset paging and the tombstone behave the same as on SQLite."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

from services.enrollment.bootstrap import MIGRATIONS
from services.shared.db import Database
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration

UNIT_CASES = Path(__file__).resolve().parents[1] / "unit" / "enrollment" / "test_handlers.py"


def _load_cases() -> ModuleType:
    spec = importlib.util.spec_from_file_location("enrollment_handler_cases", UNIT_CASES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _load_cases()
SCENARIOS = sorted(
    name for name, value in vars(CASES).items() if name.startswith("test_") and callable(value)
)


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_handler_scenario_on_postgres(postgres_server: PostgresServer, scenario: str) -> None:
    database = Database(await postgres_server.create_database("enrollment"))
    try:
        await database.migrate(MIGRATIONS)
        case = getattr(CASES, scenario)
        arguments: dict[str, object] = {"database": database}
        if "clock" in inspect.signature(case).parameters:
            arguments["clock"] = CASES.Clock()
        await case(**arguments)
    finally:
        await database.dispose()
