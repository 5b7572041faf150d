"""The health of a relationship: the rules (missed cadence, both sides' ratings dropping), and through
the handlers on a real SQLite file the transitions (at risk once, recovered when a session is held),
their events, and HR's list that names reasons, never words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import events_pb2
from sqlalchemy import select

from services.session.adapters.health_store import relationship_health
from services.session.bootstrap import MIGRATIONS
from services.session.domain.health import Health, HealthFacts, RiskReason, assess, ratings_dropped
from services.session.domain.programs import ProgramTerms
from services.session.service_layer import commands
from services.shared.access import DenialReason, PermissionDenied
from services.shared.db import Database
from services.shared.outbox import outbox_table
from tests.unit.session.callers import person
from tests.unit.session.handler_runs import HandlerRun

NOW = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
COHORT_START = datetime(2030, 1, 7, tzinfo=UTC)
MENTOR, MENTEE = person("E-1"), person("E-2")
HR = person("H-1", "hr_admin")
HEALTH_TYPE = "mentoring.session.relationship.health_changed.v1"


def test_a_missed_cadence_counts_from_the_last_session_or_the_start() -> None:
    start = datetime(2030, 1, 7, tzinfo=UTC)
    facts = HealthFacts(every_days=7, started_at=start, last_completed=None)
    assert assess(Health(), facts, start + timedelta(days=10, hours=12)) is None  # exactly 1.5 weeks
    late = start + timedelta(days=10, hours=13)
    assert assess(Health(), facts, late) == Health((RiskReason.MISSED_CADENCE,), late)
    held = HealthFacts(every_days=7, started_at=start, last_completed=start + timedelta(days=9))
    assert assess(Health((RiskReason.MISSED_CADENCE,), late), held, late) == Health((), late)


def test_ratings_drop_on_both_sides_or_it_is_no_risk() -> None:
    assert ratings_dropped([5, 5, 5, 4])
    assert not ratings_dropped([5, 4, 5, 4.5])  # type: ignore[list-item]
    assert not ratings_dropped([3])
    assert ratings_dropped([2, 5, 5, 5, 4])  # only the three before the latest count
    start = datetime(2030, 1, 7, tzinfo=UTC)
    one_side = HealthFacts(7, start, start, mentor_ratings=[5, 3], mentee_ratings=[4, 4])
    assert assess(Health(), one_side, start) is None
    both = HealthFacts(7, start, start, mentor_ratings=[5, 3], mentee_ratings=[4, 2])
    assert assess(Health(), both, start) == Health((RiskReason.RATINGS_DROPPED,), start)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    program = ProgramTerms(
        "prog-1", "acme", COHORT_START, None, manager_ids=("PM-1",), every_days=7, session_minutes=60
    )
    await run(db, commands.RememberProgram(program))
    await run(db, commands.RememberProgram(ProgramTerms("prog-2", "acme", None, None, manager_ids=("PM-2",))))
    await run(db, commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",), tenant="acme"))
    yield db
    await db.dispose()


run = HandlerRun(NOW)


async def health_events(database: Database) -> list[events_pb2.RelationshipHealthChanged]:
    async with database.transaction() as uow:
        rows = await uow.execute(
            select(outbox_table.c.payload)
            .where(outbox_table.c.ce_type == HEALTH_TYPE)
            .order_by(outbox_table.c.id)
        )
        return [events_pb2.RelationshipHealthChanged.FromString(payload) for payload in rows.scalars()]


async def test_a_missed_cadence_is_published_once_and_a_held_session_clears_it(database: Database) -> None:
    # Weekly, from the cohort's start (7 January, after the relationship's): at risk after 10.5 days.
    assert await run(database, commands.AssessHealth(), datetime(2030, 1, 17, 9, tzinfo=UTC)) == 0
    late = datetime(2030, 1, 18, 9, tzinfo=UTC)
    assert await run(database, commands.AssessHealth(), late) == 1
    assert await run(database, commands.AssessHealth(), late + timedelta(hours=1)) == 0
    page = await run(database, commands.ListRelationshipsAtRisk(caller=HR))
    assert [(item.match_id, item.health) for item in page.items] == [
        ("m-1", Health((RiskReason.MISSED_CADENCE,), late))
    ]
    planned = await run(
        database, commands.ScheduleSession("m-1", late + timedelta(hours=3), 60, caller=MENTEE), late
    )
    await run(
        database,
        commands.CompleteSession(planned.session_id, "notes", caller=MENTOR),
        late + timedelta(hours=4),
    )
    assert (await run(database, commands.ListRelationshipsAtRisk(caller=HR))).items == []
    published = await health_events(database)
    assert [(event.match_id, event.at_risk, list(event.reasons)) for event in published] == [
        ("m-1", True, [events_pb2.RELATIONSHIP_RISK_MISSED_CADENCE]),
        ("m-1", False, []),
    ]


async def test_both_sides_rating_lower_puts_it_at_risk(database: Database) -> None:
    moment = datetime(2030, 1, 8, 9, tzinfo=UTC)
    for day, (mentor_rating, mentee_rating) in enumerate([(5, 5), (3, 4)]):
        at = moment + timedelta(days=day)
        held = await run(
            database, commands.ScheduleSession("m-1", at + timedelta(hours=1), 60, caller=MENTOR), at
        )
        later = at + timedelta(hours=2)
        await run(database, commands.CompleteSession(held.session_id, caller=MENTOR), later)
        await run(
            database,
            commands.SubmitFeedback("m-1", held.session_id, "E-1", mentor_rating, caller=MENTOR),
            later,
        )
        await run(
            database,
            commands.SubmitFeedback("m-1", held.session_id, "E-2", mentee_rating, caller=MENTEE),
            later,
        )
    page = await run(
        database,
        commands.ListRelationshipsAtRisk(program_id="prog-1", caller=person("PM-1", "program_manager")),
    )
    assert [item.health.reasons for item in page.items] == [(RiskReason.RATINGS_DROPPED,)]


async def test_only_hr_and_the_programs_managers_list_relationships_at_risk(database: Database) -> None:
    with pytest.raises(PermissionDenied) as raised:
        await run(
            database,
            commands.ListRelationshipsAtRisk(program_id="prog-1", caller=person("PM-2", "program_manager")),
        )
    assert raised.value.reason is DenialReason.NOT_MANAGED
    with pytest.raises(PermissionDenied):
        await run(database, commands.ListRelationshipsAtRisk(caller=person("PM-1", "program_manager")))
    with pytest.raises(PermissionDenied):
        await run(database, commands.ListRelationshipsAtRisk(program_id="prog-1", caller=MENTOR))
    other_tenant = await run(
        database, commands.ListRelationshipsAtRisk(caller=person("H-9", "hr_admin", tenant="globex"))
    )
    assert other_tenant.items == [] and other_tenant.total_size == 0


async def test_a_relationship_the_service_held_before_it_kept_health_is_flagged_in_time(
    database: Database,
) -> None:
    # A relationship activated before health was kept has no record of its start: the first assessment
    # records it, and the cadence is counted from then.
    async with database.transaction() as uow:
        await uow.execute(relationship_health.delete())
    first = datetime(2030, 1, 10, 9, tzinfo=UTC)
    assert await run(database, commands.AssessHealth(), first) == 0
    assert await run(database, commands.AssessHealth(), first + timedelta(days=11)) == 1
