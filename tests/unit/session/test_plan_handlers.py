"""Cadence plans through the handlers, on a real SQLite file: a plan is proposed when a relationship
starts, in the hours its people declared at enrolment, around the mentor's other relationship; its
members accept (a session is booked), move and skip slots; nobody else reads it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select

from services.session.adapters.plan_store import working_hours
from services.session.bootstrap import MIGRATIONS
from services.session.domain.plans import Plan, SlotStatus
from services.session.domain.programs import Delivery, ProgramTerms
from services.session.domain.slots import WorkingHours
from services.session.service_layer import commands
from services.shared.access import PermissionDenied
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, NotFound
from services.shared.outbox import outbox_table
from tests.unit.session.callers import person
from tests.unit.session.handler_runs import HandlerRun

NOW = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
COHORT_START = datetime(2030, 1, 7, tzinfo=UTC)  # a Monday
COHORT_END = datetime(2030, 3, 29, tzinfo=UTC)
MENTOR, MENTEE, OTHER_MENTEE = person("E-1"), person("E-2"), person("E-3")
BERLIN = WorkingHours("Europe/Berlin", 9, 17)
NEW_YORK = WorkingHours("America/New_York", 9, 17)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    program = ProgramTerms(
        "prog-1", "acme", COHORT_START, COHORT_END, Delivery.REMOTE, every_days=7, session_minutes=60
    )
    await run(db, commands.RememberProgram(program))
    await run(db, commands.RememberWorkingHours("prog-1", "E-1", BERLIN))
    await run(db, commands.RememberWorkingHours("prog-1", "E-2", NEW_YORK))
    await run(db, commands.RememberWorkingHours("prog-1", "E-3", BERLIN))
    await run(db, commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",), tenant="acme"))
    yield db
    await db.dispose()


run = HandlerRun(NOW)


def starts(plan: Plan) -> list[datetime]:
    return [slot.starts_at for slot in plan.slots if slot.starts_at is not None]


async def test_a_plan_is_proposed_in_the_hours_both_share_within_the_cohort(database: Database) -> None:
    plan = await run(database, commands.GetPlan("m-1", caller=MENTEE))
    # Every Monday from 7 January to 25 March: twelve (the cohort ends on Friday 29 March).
    assert plan.complete and plan.timezone == "Europe/Berlin" and len(plan.slots) == 12
    for start in starts(plan):
        # Berlin 9-17 and New York 9-17 in winter share 14:00-16:00 UTC.
        assert start >= COHORT_START and start + timedelta(hours=1) <= COHORT_END + timedelta(days=1)
        assert start.hour >= 14 and start + timedelta(hours=1) <= start.replace(hour=16, minute=0)


async def test_the_mentors_second_relationship_is_planned_around_the_first(database: Database) -> None:
    await run(database, commands.ActivateRelationship("m-2", "prog-1", "E-1", ("E-3",), tenant="acme"))
    first = await run(database, commands.GetPlan("m-1", caller=MENTOR))
    second = await run(database, commands.GetPlan("m-2", caller=MENTOR))
    assert second.complete
    taken = [(start, start + timedelta(hours=1)) for start in starts(first)]
    for start in starts(second):
        assert not any(a < start + timedelta(hours=1) and start < b for a, b in taken)


async def test_accepting_books_a_session_and_a_slot_is_accepted_once(database: Database) -> None:
    accepted = await run(
        database, commands.AcceptPlannedSlot("m-1", 0, meeting_link="https://meet.example/x", caller=MENTEE)
    )
    assert accepted.status is SlotStatus.ACCEPTED and accepted.session_id
    page = await run(database, commands.ListSessions(match_id="m-1", caller=MENTOR))
    assert [(s.session_id, s.starts_at) for s in page.items] == [(accepted.session_id, accepted.starts_at)]
    async with database.transaction() as uow:
        types = list((await uow.execute(select(outbox_table.c.ce_type))).scalars())
    assert types == ["mentoring.session.session.scheduled.v1"]
    with pytest.raises(FailedPrecondition) as raised:
        await run(database, commands.AcceptPlannedSlot("m-1", 0, caller=MENTOR))
    assert raised.value.rule == "plan_slot_closed"


async def test_a_move_keeps_the_rules_of_any_session(database: Database) -> None:
    await run(database, commands.ActivateRelationship("m-2", "prog-1", "E-1", ("E-3",), tenant="acme"))
    other = await run(database, commands.AcceptPlannedSlot("m-2", 0, caller=OTHER_MENTEE))
    with pytest.raises(FailedPrecondition) as busy:
        await run(database, commands.MovePlannedSlot("m-1", 1, other.starts_at, caller=MENTEE))
    assert busy.value.rule == "participant_busy"
    with pytest.raises(FailedPrecondition) as outside:
        await run(
            database, commands.MovePlannedSlot("m-1", 1, datetime(2030, 6, 3, 14, tzinfo=UTC), caller=MENTEE)
        )
    assert outside.value.rule == "outside_program"
    target = datetime(2030, 1, 17, 15, tzinfo=UTC)
    moved = await run(database, commands.MovePlannedSlot("m-1", 1, target, caller=MENTEE))
    assert moved.starts_at == target and moved.moved and moved.status is SlotStatus.PROPOSED
    skipped = await run(database, commands.SkipPlannedSlot("m-1", 2, caller=MENTOR))
    assert skipped.status is SlotStatus.SKIPPED
    text = await run(database, commands.ExportPlan("m-1", caller=MENTOR))
    events = list(icalendar.Calendar.from_ical(text).walk("VEVENT"))
    assert len([e for e in events if "RRULE" in e]) == 1
    assert [e.decoded("dtstart").astimezone(UTC) for e in events if "RECURRENCE-ID" in e] == [target]


async def test_nobody_but_the_members_reads_or_changes_the_plan(database: Database) -> None:
    for caller in (person("E-9"), person("H-1", "hr_admin")):
        with pytest.raises(PermissionDenied):
            await run(database, commands.GetPlan("m-1", caller=caller))
        with pytest.raises(PermissionDenied):
            await run(database, commands.SkipPlannedSlot("m-1", 0, caller=caller))
    with pytest.raises(NotFound):
        await run(database, commands.GetPlan("m-1", caller=person("E-1", tenant="globex")))


async def test_no_plan_without_a_known_cadence(database: Database) -> None:
    await run(database, commands.RememberProgram(ProgramTerms("prog-2", "acme", COHORT_START, COHORT_END)))
    await run(database, commands.ActivateRelationship("m-3", "prog-2", "E-1", ("E-3",), tenant="acme"))
    with pytest.raises(NotFound):
        await run(database, commands.GetPlan("m-3", caller=MENTOR))


async def test_an_erased_person_leaves_no_working_hours(database: Database) -> None:
    await run(database, commands.EraseEmployee("E-2", tenant="acme"))
    async with database.transaction() as uow:
        left = list((await uow.execute(select(working_hours.c.employee_id))).scalars())
    assert sorted(left) == ["E-1", "E-3"]


async def test_a_relationship_that_starts_before_its_program_is_known_is_planned_when_it_is(
    database: Database,
) -> None:
    # The matching and enrollment topics are consumed apart: the activation may come first.
    await run(database, commands.ActivateRelationship("m-4", "prog-4", "E-1", ("E-3",), tenant="acme"))
    with pytest.raises(NotFound):
        await run(database, commands.GetPlan("m-4", caller=MENTOR))
    program = ProgramTerms("prog-4", "acme", COHORT_START, COHORT_END, every_days=14, session_minutes=45)
    await run(database, commands.RememberProgram(program))
    plan = await run(database, commands.GetPlan("m-4", caller=MENTOR))
    assert plan.recurrence.interval == 2 and plan.complete
    await run(database, commands.RememberProgram(program))  # the program again: the plan stays as it is
    assert await run(database, commands.GetPlan("m-4", caller=MENTOR)) == plan


async def test_a_cancelled_session_gives_its_slot_back_to_the_plan(database: Database) -> None:
    accepted = await run(database, commands.AcceptPlannedSlot("m-1", 0, caller=MENTEE))
    await run(database, commands.CancelSession(accepted.session_id, "ill", caller=MENTOR))
    slot = (await run(database, commands.GetPlan("m-1", caller=MENTOR))).slot(0)
    assert (slot.status, slot.session_id) == (SlotStatus.PROPOSED, "")
    assert (
        await run(database, commands.SkipPlannedSlot("m-1", 0, caller=MENTOR))
    ).status is SlotStatus.SKIPPED
