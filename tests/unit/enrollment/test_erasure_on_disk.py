"""After an erasure, the person's data is gone from the SQLite file itself, not only from query results:
the directory row, the enrollment's profile and the published events that carried it (SQLite
``secure_delete`` zeroes what they leave behind); and, while the database is still open, from the
write-ahead log too (the erasure's follow-up checkpoints and truncates it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from services.enrollment.bootstrap import MIGRATIONS
from services.enrollment.domain import Goal, Profile, Role
from services.shared.db import Database
from services.shared.erasure import ErasureFollowUp
from tests.unit.enrollment.test_handlers import Clock, create_program, enrol, feed, hire, mark_all_published

MARKERS = (b"erased.person.marker@", b"ErasedTitleMarker", b"ErasedGoalMarker")


def file_contents(path: Path) -> bytes:
    """The database file once every committed page is in it (WAL checkpointed and truncated)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path.read_bytes()


async def test_the_erased_persons_data_is_not_left_in_the_file(database: Database, tmp_path: Path) -> None:
    clock = Clock()
    for index in range(30):  # neighbours on the same pages
        await hire(database, clock, f"N{index}")
    await hire(database, clock, "E1", email="erased.person.marker@example.com", title="ErasedTitleMarker")
    program_id = await create_program(database)
    goal = Goal("ErasedGoalMarker: lead a design review", "reviews led", "2")
    await enrol(database, program_id, "E1", Role.MENTEE, Profile(goals=(goal,)))
    await mark_all_published(database)
    path = tmp_path / "enrollment.db"
    before = file_contents(path)
    assert all(marker in before for marker in MARKERS)

    await feed(database, "erase", {"employeeNumber": "E1", "type": "ERASED"}, clock)
    await database.dispose()

    after = file_contents(path)
    assert [marker for marker in MARKERS if marker in after] == []
    assert b"n29@example.com" in after  # the neighbours are still there


def files_holding(directory: Path, markers: tuple[bytes, ...]) -> list[tuple[str, bytes]]:
    """The markers found in each of the database's files, read as bytes as they are (nothing
    checkpointed for the test)."""
    found = []
    for name in ("enrollment.db", "enrollment.db-wal", "enrollment.db-shm"):
        path = directory / name
        contents = path.read_bytes() if path.exists() else b""
        found.extend((name, marker) for marker in markers if marker in contents)
    return found


async def test_nor_in_the_write_ahead_log_while_the_database_is_open(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'enrollment.db'}")
    await database.migrate(MIGRATIONS)
    try:
        clock = Clock()
        for index in range(30):
            await hire(database, clock, f"N{index}")
        await hire(database, clock, "E1", email="erased.person.marker@example.com", title="ErasedTitleMarker")
        program_id = await create_program(database)
        goal = Goal("ErasedGoalMarker: lead a design review", "reviews led", "2")
        await enrol(database, program_id, "E1", Role.MENTEE, Profile(goals=(goal,)))
        await mark_all_published(database)
        await feed(database, "erase", {"employeeNumber": "E1", "type": "ERASED"}, clock)
        assert {name for name, _ in files_holding(tmp_path, MARKERS)} == {"enrollment.db-wal"}

        assert await ErasureFollowUp("enrollment", database, forget_wait_seconds=1.0).follow_up()

        assert files_holding(tmp_path, MARKERS) == []
        assert files_holding(tmp_path, (b"n29@example.com",)) == [("enrollment.db", b"n29@example.com")]
    finally:
        await database.dispose()
