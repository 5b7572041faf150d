"""The session service and the enrollment events it now consumes, on a real SQLite file: sessions lie
within their program's cohort and record how they are delivered; an erased person leaves nothing
readable in the relationships they were in, nor in the outbox rows about them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import common_pb2, events_pb2
from sqlalchemy import delete, select

from services.session.adapters.store import feedback, goal_progress, goals, participants, sessions
from services.session.bootstrap import MIGRATIONS
from services.session.domain.model import Session
from services.session.domain.programs import Delivery, ProgramTerms
from services.session.entrypoints.consumers import translators
from services.session.service_layer import commands
from services.shared.db import Database
from services.shared.envelope import published_event
from services.shared.erasure import ErasureFollowUp
from services.shared.errors import FailedPrecondition, InvalidArgument
from services.shared.outbox import outbox_table
from services.shared.timestamps import timestamp
from services.shared.topics import ENROLLMENT_EVENTS
from tests.unit.session.callers import person
from tests.unit.session.handler_runs import HandlerRun

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
COHORT_START = datetime(2030, 3, 5, tzinfo=UTC)
COHORT_END = datetime(2030, 3, 14, tzinfo=UTC)  # the last day: sessions may end at midnight after it
MENTOR, MENTEE = person("E-1"), person("E-2")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


run = HandlerRun(NOW)


async def open_relationship(database: Database, delivery: Delivery) -> None:
    program = ProgramTerms("prog-1", "acme", COHORT_START, COHORT_END, delivery)
    await run(database, commands.RememberProgram(program))
    await run(database, commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",), tenant="acme"))


def schedule(starts_at: datetime, **delivery: str | Delivery) -> commands.ScheduleSession:
    return commands.ScheduleSession("m-1", starts_at, 60, "Career plan", "", **delivery, caller=MENTOR)  # type: ignore[arg-type]


def test_program_events_become_program_terms() -> None:
    program = common_pb2.Program(
        program_id="prog-1",
        tenant="acme",
        delivery=common_pb2.DELIVERY_IN_PERSON,
        cohort=common_pb2.DateRange(start=timestamp(COHORT_START), end=timestamp(COHORT_END)),
    )
    for message in (events_pb2.ProgramCreated(program=program), events_pb2.ProgramUpdated(program=program)):
        event = published_event("enrollment", message, tenant="acme")
        command = translators()[ENROLLMENT_EVENTS][type(message)](event)
        assert command == commands.RememberProgram(
            ProgramTerms("prog-1", "acme", COHORT_START, COHORT_END, Delivery.IN_PERSON)
        )


async def test_a_session_lies_within_the_programs_cohort(database: Database) -> None:
    await open_relationship(database, Delivery.REMOTE)
    for too_early_or_late in (COHORT_START - timedelta(hours=2), COHORT_END + timedelta(days=1, minutes=30)):
        with pytest.raises(FailedPrecondition) as raised:
            await run(database, schedule(too_early_or_late))
        assert raised.value.rule == "outside_program"
    last_slot = await run(database, schedule(COHORT_END + timedelta(hours=23)))
    first_slot = await run(database, schedule(COHORT_START))
    assert last_slot and first_slot


async def test_a_session_records_its_delivery_and_in_person_needs_a_place(database: Database) -> None:
    await open_relationship(database, Delivery.IN_PERSON)
    with pytest.raises(InvalidArgument) as raised:
        await run(database, schedule(COHORT_START + timedelta(hours=10)))
    assert raised.value.field == "location"
    planned = await run(database, schedule(COHORT_START + timedelta(hours=10), location="Berlin, room 4"))
    assert isinstance(planned, Session)
    assert (planned.delivery, planned.location) == (Delivery.IN_PERSON, "Berlin, room 4")
    remote = await run(
        database,
        schedule(
            COHORT_START + timedelta(days=1), delivery=Delivery.REMOTE, meeting_link="https://meet.example/x"
        ),
    )
    assert isinstance(remote, Session) and remote.delivery is Delivery.REMOTE
    with pytest.raises(InvalidArgument) as raised:
        await run(
            database,
            schedule(COHORT_START + timedelta(days=2), delivery=Delivery.REMOTE, meeting_link="http://x"),
        )
    assert raised.value.field == "meeting_link"


async def test_an_erased_person_leaves_nothing_readable_in_their_relationships(
    database: Database, tmp_path: Path
) -> None:
    await open_relationship(database, Delivery.REMOTE)
    planned = await run(database, schedule(COHORT_START + timedelta(hours=10)))
    assert isinstance(planned, Session)
    after_it = COHORT_START + timedelta(hours=12)
    await run(
        database,
        commands.CompleteSession(planned.session_id, "Talked about leaving Acme", caller=MENTOR),
        after_it,
    )
    await run(database, commands.SetGoal("m-1", "g-1", "Become a team lead", caller=MENTEE))
    await run(
        database, commands.RecordGoalProgress("m-1", "g-1", 0.5, "Shy in meetings", caller=MENTEE), after_it
    )
    await run(
        database, commands.SubmitFeedback("m-1", planned.session_id, "E-2", 5, "Open and kind", caller=MENTEE)
    )
    await run(
        database,
        commands.SubmitFeedback("m-1", planned.session_id, "E-1", 4, "E-2 was candid", caller=MENTOR),
    )

    erased = await run(database, commands.EraseEmployee("E-2", tenant="acme"))

    assert erased == 1
    async with database.read_transaction() as uow:
        session_row = (await uow.execute(select(sessions))).one()
        assert (session_row.agenda, session_row.notes) == ("", "")
        assert (await uow.execute(select(goals))).all() == [], "the only mentee's goals"
        assert (await uow.execute(select(goal_progress))).all() == []
        assert [(row.employee_id, row.comment) for row in (await uow.execute(select(feedback))).all()] == [
            ("E-1", "")
        ]
        people = [row.employee_id for row in (await uow.execute(select(participants))).all()]
        assert "E-2" not in people and "E-1" in people
        about_them = (
            await uow.execute(select(outbox_table.c.id).where(outbox_table.c.forget_after_publish.is_(False)))
        ).all()
        assert about_them == [], "every outbox row about the relationship's sessions and goals is forgotten"
    assert await ErasureFollowUp("session", database, forget_wait_seconds=0.1).follow_up() is False, (
        "the rows about them not yet published are still waiting for the relay"
    )
    async with database.transaction() as uow:  # what the relay does once the broker has them
        await uow.execute(delete(outbox_table).where(outbox_table.c.forget_after_publish))
    assert await ErasureFollowUp("session", database, forget_wait_seconds=0.1).follow_up()
    files = b"".join(path.read_bytes() for path in tmp_path.glob("session.db*"))
    for said in (
        b"Talked about leaving",
        b"Shy in meetings",
        b"Open and kind",
        b"was candid",
        b"Become a team",
    ):
        assert said not in files, said
