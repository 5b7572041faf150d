"""After an erasure, the person's data is gone from the SQLite file itself, not only from query results:
the directory row, the enrollment's profile and the published events that carried it (SQLite
``secure_delete`` zeroes what they leave behind)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from services.enrollment.domain import Goal, Profile, Role
from services.shared.db import Database
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
