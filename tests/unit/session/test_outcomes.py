"""A program's outcomes as counts without personal data (sessions held vs planned, at risk, ended early
and why, goals attained, satisfaction told only over enough relationships, the mentors' benefits), the
closing reviews they are counted from, and the feedback each side reads: what the other side said to
them, never another mentee's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.session.adapters.review_store import closing_reviews
from services.session.adapters.translate import outcomes_to_wire
from services.session.bootstrap import MIGRATIONS
from services.session.domain.model import Goal, Role
from services.session.domain.outcomes import MIN_GROUP, EndCause
from services.session.domain.programs import ProgramTerms
from services.session.domain.reviews import MentorBenefit
from services.session.service_layer import commands
from services.shared.access import DenialReason, PermissionDenied
from services.shared.db import Database
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from tests.unit.session.callers import person
from tests.unit.session.handler_runs import HandlerRun

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
COHORT_END = datetime(2030, 3, 29, tzinfo=UTC)
HR = person("H-1", "hr_admin")


run = HandlerRun(NOW)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    program = ProgramTerms(
        "prog-1", "acme", NOW, COHORT_END, manager_ids=("PM-1",), every_days=14, session_minutes=60
    )
    await run(db, commands.RememberProgram(program))
    await run(db, commands.RememberProgram(ProgramTerms("prog-2", "acme", None, None, manager_ids=("PM-2",))))
    yield db
    await db.dispose()


async def held(
    database: Database, match_id: str, mentor: str, mentee: str, ratings: tuple[int, int | None]
) -> None:
    """A session held in the relationship, rated by the mentee and (when given) by the mentor."""
    at = NOW + timedelta(hours=1)
    planned = await run(database, commands.ScheduleSession(match_id, at, 60, caller=person(mentor)))
    later = at + timedelta(hours=2)
    await run(database, commands.CompleteSession(planned.session_id, caller=person(mentor)), later)
    by_mentee, by_mentor = ratings
    await run(
        database,
        commands.SubmitFeedback(
            match_id, planned.session_id, mentee, by_mentee, "Kind", caller=person(mentee)
        ),
        later,
    )
    if by_mentor is not None:
        await run(
            database,
            commands.SubmitFeedback(
                match_id, planned.session_id, mentor, by_mentor, "Keen", caller=person(mentor)
            ),
            later,
        )


async def test_a_programs_outcomes_are_counts_and_means_over_enough_relationships(database: Database) -> None:
    for k in range(MIN_GROUP + 1):
        match_id, mentor, mentee = f"m-{k}", f"M-{k}", f"E-{k}"
        await run(
            database, commands.ActivateRelationship(match_id, "prog-1", mentor, (mentee,), tenant="acme")
        )
        await held(database, match_id, mentor, mentee, (4 if k % 2 else 5, 3 if k < 2 else None))
    await run(
        database,
        commands.EndRelationship("m-0", "prog-1", "M-0", ("E-0",), cause=EndCause.AT_WILL),
        NOW + timedelta(days=3),
    )
    await run(
        database, commands.EndRelationship("m-1", "prog-1", "M-1", ("E-1",)), COHORT_END + timedelta(days=2)
    )
    outcomes = await run(
        database, commands.GetProgramOutcomes("prog-1", caller=person("PM-1", "program_manager"))
    )
    assert (outcomes.relationships, outcomes.active, outcomes.ended, outcomes.ended_early) == (6, 4, 2, 1)
    assert outcomes.ended_early_by_cause == {EndCause.AT_WILL: 1}
    assert (outcomes.sessions_held, outcomes.sessions_scheduled) == (6, 0)
    # Every two weeks from Monday 7 January to the cohort's end (29 March 2030): 7 and 21 January, 4 and
    # 18 February, 4 and 18 March; six occurrences in each of six plans.
    assert outcomes.sessions_planned == 6 * 6
    assert (outcomes.by_mentees.ratings, outcomes.by_mentees.relationships, outcomes.by_mentees.mean) == (
        6,
        6,
        4.5,
    )
    assert (outcomes.by_mentors.ratings, outcomes.by_mentors.mean) == (2, None), "two mentors' mean is theirs"
    wire = outcomes_to_wire(outcomes).SerializeToString()
    assert b"E-" not in wire and b"M-" not in wire and b"m-" not in wire and b"Kind" not in wire


async def test_outcomes_are_for_hr_and_the_programs_managers(database: Database) -> None:
    with pytest.raises(PermissionDenied) as raised:
        await run(database, commands.GetProgramOutcomes("prog-1", caller=person("PM-2", "program_manager")))
    assert raised.value.reason is DenialReason.NOT_MANAGED
    with pytest.raises(PermissionDenied):
        await run(database, commands.GetProgramOutcomes("prog-1", caller=person("E-1")))
    with pytest.raises(NotFound):
        await run(database, commands.GetProgramOutcomes("prog-9", caller=HR))
    with pytest.raises(NotFound):
        await run(
            database, commands.GetProgramOutcomes("prog-1", caller=person("H-9", "hr_admin", tenant="globex"))
        )
    empty = await run(database, commands.GetProgramOutcomes("prog-2", caller=HR))
    assert (empty.relationships, empty.sessions_planned, empty.by_mentees.mean) == (0, 0, None)


async def test_each_side_reads_what_the_other_said_to_them(database: Database) -> None:
    await run(database, commands.ActivateRelationship("m-g", "prog-1", "M-1", ("E-1", "E-2"), tenant="acme"))
    await held(database, "m-g", "M-1", "E-1", (5, 4))
    for_mentor = await run(database, commands.ListFeedbackReceived("m-g", caller=person("M-1")))
    assert [(f.by, f.rating, f.comment) for f in for_mentor] == [(Role.MENTEE, 5, "Kind")]
    for mentee in ("E-1", "E-2"):
        for_mentee = await run(database, commands.ListFeedbackReceived("m-g", caller=person(mentee)))
        assert [(f.by, f.rating, f.comment) for f in for_mentee] == [(Role.MENTOR, 4, "Keen")], (
            "a mentee reads the mentor's, never another mentee's"
        )
    for stranger in (person("E-9"), HR):
        with pytest.raises(PermissionDenied):
            await run(database, commands.ListFeedbackReceived("m-g", caller=stranger))


async def test_closing_reviews_come_at_the_end_once_each_and_count_in_the_outcomes(
    database: Database,
) -> None:
    await run(database, commands.RememberEnrolmentGoals("prog-1", "E-1", (Goal("g1", "", "Lead a review"),)))
    await run(database, commands.ActivateRelationship("m-r", "prog-1", "M-1", ("E-1",), tenant="acme"))
    mentee, mentor = person("E-1"), person("M-1")
    with pytest.raises(FailedPrecondition) as early:
        await run(database, commands.SubmitClosingReview("m-r", "E-1", 4, ("g1",), caller=mentee))
    assert early.value.rule == "relationship_not_ended"
    await run(database, commands.EndRelationship("m-r", "prog-1", "M-1", ("E-1",), cause=EndCause.AT_WILL))
    with pytest.raises(InvalidArgument) as benefits:
        await run(
            database,
            commands.SubmitClosingReview(
                "m-r", "E-1", 4, benefits=(MentorBenefit.NEW_PERSPECTIVES,), caller=mentee
            ),
        )
    assert benefits.value.field == "benefits"
    with pytest.raises(InvalidArgument):
        await run(database, commands.SubmitClosingReview("m-r", "E-1", 4, ("g-404",), caller=mentee))
    with pytest.raises(PermissionDenied):
        await run(database, commands.SubmitClosingReview("m-r", "M-1", 4, caller=mentee))
    given = await run(
        database, commands.SubmitClosingReview("m-r", "E-1", 4, ("g1",), comment="Grew a lot", caller=mentee)
    )
    assert (given.by, given.goals_attained) == (Role.MENTEE, ("g1",))
    with pytest.raises(AlreadyExists):
        await run(database, commands.SubmitClosingReview("m-r", "E-1", 5, caller=mentee))
    drawn = (MentorBenefit.SEEING_OTHERS_DEVELOP, MentorBenefit.SKILLS_STRENGTHENED)
    await run(database, commands.SubmitClosingReview("m-r", "M-1", 5, benefits=drawn, caller=mentor))
    outcomes = await run(database, commands.GetProgramOutcomes("prog-1", caller=HR))
    assert (outcomes.goals_total, outcomes.goals_attained) == (1, 1)
    assert (outcomes.closing_by_mentees.ratings, outcomes.closing_by_mentees.mean) == (1, None)
    assert outcomes.mentor_benefits == {"seeing_others_develop": 1, "skills_strengthened": 1}
    wire = outcomes_to_wire(outcomes).SerializeToString()
    assert b"E-1" not in wire and b"Grew" not in wire


async def test_when_the_program_is_over_a_live_relationship_is_reviewed_and_erasure_forgets_it(
    database: Database,
) -> None:
    await run(database, commands.ActivateRelationship("m-o", "prog-1", "M-2", ("E-2",), tenant="acme"))
    over = COHORT_END + timedelta(days=1, minutes=1)
    await run(database, commands.SubmitClosingReview("m-o", "E-2", 3, caller=person("E-2")), over)
    await run(database, commands.EraseEmployee("E-2", tenant="acme"))
    async with database.transaction() as uow:
        left = (await uow.execute(select(closing_reviews.c.employee_id))).scalars().all()
    assert left == []
