"""An erasure deletes the person's dead-letter key in its own transaction, and its follow-up empties the
write-ahead log while the database stays open: neither the person's e-mail nor their key is left in the
``.db``, ``-wal`` or ``-shm`` file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.enrollment.bootstrap import MIGRATIONS
from services.enrollment.domain import HrisEvent, hris_event_from_scim
from services.enrollment.service_layer.erasure import DeadLetterKeys
from services.enrollment.service_layer.hris import HrisIngestion
from services.shared.db import Database
from services.shared.erasure import ErasureFollowUp
from tests.unit.enrollment.test_handlers import TENANT, Clock, feed, hire

EMAIL = b"wal.erased.marker@example.com"


@pytest.fixture
async def service_database(tmp_path: Path) -> AsyncIterator[Database]:
    """Set up as the service's bootstrap does it."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'enrollment.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


def files_holding(directory: Path, marker: bytes) -> list[str]:
    """Which of the database's files hold ``marker``, read as bytes while the database is open."""
    names = ("enrollment.db", "enrollment.db-wal", "enrollment.db-shm")
    paths = [directory / name for name in names]
    return [path.name for path in paths if path.exists() and marker in path.read_bytes()]


async def test_the_erasure_shreds_the_key_and_a_later_letter_gets_one_nobody_keeps(
    service_database: Database,
) -> None:
    keys = DeadLetterKeys(service_database)
    clock = Clock()
    await hire(service_database, clock, "E1")
    key = await keys.key_for_sealing(TENANT, "E1")
    assert await keys.key_for_sealing(TENANT, "E1") == key, "one key per person"
    assert await keys.key_for_opening(TENANT, "E1") == key
    assert await keys.key_for_opening(TENANT, "E2") is None

    await feed(service_database, "erase-E1", {"employeeNumber": "E1", "type": "ERASED"}, clock)

    assert await keys.key_for_opening(TENANT, "E1") is None
    after = await keys.key_for_sealing(TENANT, "E1")
    assert after != key and await keys.key_for_opening(TENANT, "E1") is None


async def test_the_follow_up_empties_the_wal_while_the_database_is_open(
    service_database: Database, tmp_path: Path
) -> None:
    clock = Clock()
    for index in range(20):
        await hire(service_database, clock, f"N{index}")
    await hire(service_database, clock, "E1", email=EMAIL.decode())
    key = await DeadLetterKeys(service_database).key_for_sealing(TENANT, "E1")
    erased: list[bool] = []
    follow_up = ErasureFollowUp("enrollment", service_database, forget_wait_seconds=1.0)

    await feed(service_database, "erase-E1", {"employeeNumber": "E1", "type": "ERASED"}, clock)
    # Without the follow-up, the log still holds the row as it was before the tombstone.
    assert files_holding(tmp_path, EMAIL) == ["enrollment.db-wal"]
    assert files_holding(tmp_path, key) == ["enrollment.db-wal"]

    erased.append(await follow_up.follow_up())

    assert erased == [True]
    assert files_holding(tmp_path, EMAIL) == []
    assert files_holding(tmp_path, key) == []
    assert (tmp_path / "enrollment.db-wal").stat().st_size == 0
    assert files_holding(tmp_path, b"n19@example.com") == ["enrollment.db"]


async def test_the_follow_up_is_asked_for_once_an_erasure_commits_never_on_rollback(
    service_database: Database,
) -> None:
    clock = Clock()
    await hire(service_database, clock, "E1")
    await hire(service_database, clock, "E2")
    calls: list[str] = []
    ingestion = HrisIngestion(on_erased=lambda: calls.append("erased"))

    def erasure(who: str) -> HrisEvent:
        data = {"employeeNumber": who, "type": "ERASED", "effectiveTime": clock.tick()}
        return hris_event_from_scim(data, event_id=f"erase-{who}", tenant=TENANT)

    with pytest.raises(RuntimeError):
        async with service_database.transaction() as session:
            await ingestion.apply_batch(session, [(erasure("E1"), None)])
            assert calls == []
            raise RuntimeError("rolled back")
    assert calls == []

    async with service_database.transaction() as session:
        update = hris_event_from_scim(
            {"employeeNumber": "E2", "type": "UPDATED", "title": "T", "effectiveTime": clock.tick()},
            event_id="update-E2",
            tenant=TENANT,
        )
        await ingestion.apply_batch(session, [(update, None)])
    assert calls == [], "a batch that erased nobody asks for nothing"

    async with service_database.transaction() as session:
        await ingestion.apply_batch(session, [(erasure("E1"), None)])
        assert calls == []
    assert calls == ["erased"]
