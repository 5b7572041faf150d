"""A mentor's cap across programs belongs to the person and is kept by the store: a run that read the
pool before another program's run took the last seat leaves its mentee unmatched (changed during the
run) instead of oversubscribing; a program stating a larger cap does not lift the person's smaller one.
On a real temporary SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.matching.bootstrap import MIGRATIONS
from services.matching.domain import solve
from services.matching.domain.runs import RunReport
from services.matching.service_layer import runs
from services.matching.service_layer.commands import RunMatching
from services.shared.db import Database
from tests.unit.matching.principals import hr
from tests.unit.matching.test_service_handlers import MENTEE, MENTOR, POLICY, enrol, enrolled, program, setup


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


async def two_programs_sharing(db: Database, caps: tuple[int, int]) -> None:
    for program_id, cap in zip(("p1", "p2"), caps, strict=True):
        await setup(
            db,
            program(program_id, mentor_capacity_default=3),
            enrolled("M1", MENTOR, 8, program_id=program_id, cap_across=cap),
        )
        for k in range(3):
            await enrol(db, enrolled(f"E{program_id}{k}", MENTEE, 4, program_id=program_id))


async def prepared(db: Database, program_id: str) -> runs.PreparedRun:
    async with db.transaction() as session:
        return await runs.prepare_run(
            session, hr(), program_id, f"run-{program_id}", dry_run=False, policy=POLICY
        )


async def stored(db: Database, run: runs.PreparedRun) -> RunReport:
    result = solve(run.pool, run.view.settings)
    async with db.transaction() as session:
        report = await runs.store_run(
            session, run, result, f"run-{run.view.program.program_id}", policy=POLICY, now=datetime.now(UTC)
        )
    assert isinstance(report, RunReport)
    return report


async def test_a_run_that_read_the_pool_before_another_took_the_last_seat_proposes_nobody_to_that_mentor(
    db: Database,
) -> None:
    await two_programs_sharing(db, (1, 1))
    first, second = await prepared(db, "p1"), await prepared(db, "p2")  # both see M1 free
    report_one = await stored(db, first)
    report_two = await stored(db, second)
    assert [r.mentor_employee_id for r in report_one.matches] == ["M1"]
    assert report_two.matches == (), "M1's one seat across programs is taken"
    assert len(report_two.changed_during_run) == 1, "the mentee is reported unmatched, changed during the run"


async def test_the_cap_across_programs_is_the_strictest_the_person_states(db: Database) -> None:
    await two_programs_sharing(db, (6, 2))
    held = []
    for program_id in ("p1", "p2"):
        report = await runs.run_matching(
            db, RunMatching(program_id, f"r-{program_id}", caller=hr()), policy=POLICY
        )
        assert isinstance(report, RunReport)
        held += [r for r in report.matches if r.mentor_employee_id == "M1"]
    assert len(held) == 2, "program p1 saying 6 does not lift the 2 the person's other enrolment says"
