"""Goals from enrolment and their check-ins, on a real SQLite file: a relationship starts with the goals
its mentees declared when they enrolled, and every check-in is kept with who made it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import common_pb2, events_pb2

from services.session.bootstrap import MIGRATIONS
from services.session.domain.model import Goal
from services.session.domain.slots import WorkingHours
from services.session.entrypoints.consumers import translators
from services.session.service_layer import commands, handlers
from services.shared.access import DenialReason, PermissionDenied
from services.shared.db import Database
from services.shared.envelope import published_event
from services.shared.topics import ENROLLMENT_EVENTS
from tests.unit.session.callers import person

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
LEAD = Goal("g1", "", "Lead a design review", "reviews", "3", None, ("architecture",))
SPEAK = Goal("g2", "", "Speak at the guild", "talks", "1", None, ())


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


def test_a_mentees_enrolment_becomes_their_goals_and_hours_a_mentors_their_hours() -> None:
    def enrolled(role: common_pb2.Role.ValueType) -> events_pb2.ParticipantEnrolled:
        goal = common_pb2.Goal(goal_id="g1", what="Lead a design review", metric="reviews", target="3")
        goal.skill_tags.append("architecture")
        profile = common_pb2.Profile(goals=[goal])
        participant = common_pb2.Participant(program_id="p-1", employee_id="E-2", role=role, profile=profile)
        return events_pb2.ParticipantEnrolled(participant=participant)

    translate = translators()[ENROLLMENT_EVENTS][events_pb2.ParticipantEnrolled]
    hours = commands.RememberWorkingHours("p-1", "E-2", WorkingHours())
    mentee = translate(published_event("enrollment", enrolled(common_pb2.ROLE_MENTEE), tenant="acme"))
    assert mentee == [hours, commands.RememberEnrolmentGoals("p-1", "E-2", (LEAD,))]
    mentor = translate(published_event("enrollment", enrolled(common_pb2.ROLE_MENTOR), tenant="acme"))
    assert mentor == [hours]


async def test_a_relationship_starts_with_its_mentees_enrolment_goals(database: Database) -> None:
    async with database.transaction() as uow:
        await handlers.remember_enrolment_goals(
            uow, commands.RememberEnrolmentGoals("p-1", "E-2", (LEAD,)), NOW
        )
        await handlers.remember_enrolment_goals(
            uow, commands.RememberEnrolmentGoals("p-1", "E-3", (LEAD, SPEAK)), NOW
        )
        await handlers.remember_enrolment_goals(
            uow, commands.RememberEnrolmentGoals("p-2", "E-2", (SPEAK,)), NOW
        )
        await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-1", "p-1", "E-1", ("E-2", "E-3"), tenant="acme"), NOW
        )
    async with database.read_transaction() as uow:
        page = await handlers.list_goals(uow, commands.ListGoals("m-1", caller=person("E-2")))
    assert [(goal.goal_id, goal.what, goal.match_id) for goal in page.goals] == [
        ("g1", "Lead a design review", "m-1"),
        ("g1~2", "Lead a design review", "m-1"),
        ("g2", "Speak at the guild", "m-1"),
    ], "both mentees' goals of this program, told apart, none of another program"
    assert page.goals[0].skill_tags == ("architecture",)


async def test_every_check_in_is_kept_with_who_made_it(database: Database) -> None:
    async with database.transaction() as uow:
        await handlers.remember_enrolment_goals(
            uow, commands.RememberEnrolmentGoals("p-1", "E-2", (LEAD,)), NOW
        )
        await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-1", "p-1", "E-1", ("E-2",), tenant="acme"), NOW
        )
    # The caller checks in; a request naming nobody is the caller's too.
    checking_in = [(0.25, "E-2", "E-2"), (0.5, "E-1", "E-1"), (0.75, "", "E-2")]
    for hours, (progress, named, caller) in enumerate(checking_in, start=1):
        async with database.transaction() as uow:
            await handlers.record_goal_progress(
                uow,
                commands.RecordGoalProgress(
                    "m-1", "g1", progress, f"step {hours}", named, caller=person(caller)
                ),
                NOW + timedelta(hours=hours),
            )
    with pytest.raises(PermissionDenied) as raised:
        async with database.transaction() as uow:
            await handlers.record_goal_progress(
                uow, commands.RecordGoalProgress("m-1", "g1", 1.0, "", "E-9", caller=person("E-2")), NOW
            )
    assert raised.value.reason is DenialReason.NOT_YOURS
    async with database.read_transaction() as uow:
        page = await handlers.list_goals(uow, commands.ListGoals("m-1", caller=person("E-2")))
    assert [(c.progress, c.recorded_by, c.note) for c in page.check_ins] == [
        (0.25, "E-2", "step 1"),
        (0.5, "E-1", "step 2"),
        (0.75, "E-2", "step 3"),
    ]
    assert [(p.goal_id, p.progress) for p in page.progress] == [("g1", 0.75)], "the latest still on its own"
