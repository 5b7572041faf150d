"""A fresh enrollment database (real SQLite file, migrated) for each test that asks for one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.enrollment.bootstrap import MIGRATIONS
from services.shared.db import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'enrollment.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()
