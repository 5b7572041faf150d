"""Who may do what in the session service, on a real SQLite file: the relationship's members do
everything in it; HR and the program's managers list its sessions with their words emptied and read
nothing else; other people are refused; another tenant's relationship is not found, like a missing one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import common_pb2, events_pb2

from services.session.adapters import goal_store
from services.session.bootstrap import MIGRATIONS
from services.session.domain.model import Goal, Session
from services.session.domain.programs import ProgramTerms
from services.session.entrypoints.access import ACCESS
from services.session.entrypoints.consumers import translators
from services.session.entrypoints.grpc_servicer import SessionServicer
from services.session.service_layer import commands
from services.shared.access import DenialReason, PermissionDenied
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.envelope import published_event
from services.shared.errors import NotFound, shown
from services.shared.messagebus import Command
from services.shared.topics import ENROLLMENT_EVENTS
from tests.unit.session.callers import person, service
from tests.unit.session.handler_runs import HandlerRun

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
MENTOR, MENTEE = person("E-1"), person("E-2")
STRANGER = person("E-3")  # of the tenant, in no relationship here (a line manager, a colleague)
HR = person("HR-1", "hr_admin")
MANAGER = person("PM-1", "program_manager")  # manages prog-1
OTHER_MANAGER = person("PM-2", "program_manager")
# The same employee id in another tenant is another person.
OTHER_TENANT_MENTOR = person("E-1", tenant="globex")
OTHER_TENANT_HR = person("HR-1", "hr_admin", tenant="globex")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    await run(db, commands.RememberProgram(ProgramTerms("prog-1", "acme", manager_ids=("PM-1",))))
    await run(db, commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",), tenant="acme"))
    await run(db, commands.ActivateRelationship("m-g", "prog-g", "E-1", ("E-2",), tenant="globex"))
    yield db
    await db.dispose()


run = HandlerRun(NOW)


async def held_session(database: Database, match_id: str = "m-1", by: Principal = MENTOR) -> Session:
    """A session of ``match_id`` that took place, with words in every free-text field."""
    planned = await run(
        database,
        commands.ScheduleSession(
            match_id,
            NOW + timedelta(days=1),
            60,
            "Talk about leaving the team",
            location="Berlin, room 4",
            meeting_link="https://meet.example/secret",
            caller=by,
        ),
    )
    return await run(
        database,
        commands.CompleteSession(planned.session_id, "Wants to quit", caller=by),
        NOW + timedelta(days=1, hours=2),
    )


def without_id(error: NotFound) -> str:
    return str(error).replace(shown(error.entity_id), "<id>")


def every_request(match_id: str, session_id: str, caller: Principal) -> list[Command[object]]:
    """One command of each RPC, all naming ``match_id`` (and its session ``session_id``)."""
    return [
        commands.ScheduleSession(match_id, NOW + timedelta(days=3), 60, caller=caller),
        commands.CompleteSession(session_id, caller=caller),
        commands.CancelSession(session_id, caller=caller),
        commands.ListSessions(match_id=match_id, caller=caller),
        commands.SetGoal(match_id, "g-1", "Lead", caller=caller),
        commands.RecordGoalProgress(match_id, "g-1", 0.5, caller=caller),
        commands.ListGoals(match_id, caller=caller),
        commands.SubmitFeedback(match_id, session_id, caller.employee_id or "", 5, caller=caller),
        commands.ExportCalendar(match_id=match_id, caller=caller),
        commands.GetPlan(match_id, caller=caller),
        commands.AcceptPlannedSlot(match_id, 0, caller=caller),
        commands.MovePlannedSlot(match_id, 0, NOW + timedelta(days=3), caller=caller),
        commands.SkipPlannedSlot(match_id, 0, caller=caller),
        commands.ExportPlan(match_id, caller=caller),
        commands.ListFeedbackReceived(match_id, caller=caller),
        commands.SubmitClosingReview(match_id, caller.employee_id or "", 4, caller=caller),
    ]  # type: ignore[list-item]


def test_the_table_names_every_rpc_admits_people_and_refuses_services() -> None:
    assert getattr(SessionServicer, "access_table", None) is ACCESS
    methods = [method for method, _ in ACCESS.rows()]
    assert len(methods) == 18
    for method in methods:
        if method in ("ListRelationshipsAtRisk", "GetProgramOutcomes"):  # HR and program managers only
            with pytest.raises(PermissionDenied) as refused:
                ACCESS.check(method, MENTOR)
            assert refused.value.reason is DenialReason.ROLE_NOT_ALLOWED
        else:
            ACCESS.check(method, MENTOR)
        with pytest.raises(PermissionDenied) as raised:
            ACCESS.check(method, service("notification", "contact_lookup"))
        assert raised.value.reason is DenialReason.SERVICE_NOT_ALLOWED
    ACCESS.check("ListSessions", Principal("s", "acme", "HR-2", None, frozenset({"hr_admin"})))
    for method in ("ListRelationshipsAtRisk", "GetProgramOutcomes"):
        ACCESS.check(method, Principal("s", "acme", "HR-2", None, frozenset({"hr_admin"})))


async def test_a_person_outside_the_relationship_is_refused_every_rpc(database: Database) -> None:
    held = await held_session(database)
    await run(database, commands.SetGoal("m-1", "g-1", "Lead", caller=MENTEE))
    for command in every_request("m-1", held.session_id, STRANGER):
        with pytest.raises(PermissionDenied) as raised:
            await run(database, command, NOW + timedelta(days=2))
        expected = (
            DenialReason.CONFIDENTIAL
            if isinstance(command, commands.ListGoals | commands.ExportCalendar)
            else DenialReason.NOT_YOURS
        )
        assert raised.value.reason is expected, type(command).__name__
        assert "E-" not in str(raised.value), "the refusal names nobody"


async def test_another_tenants_relationship_is_not_found_like_a_missing_one(database: Database) -> None:
    held = await held_session(database)
    await run(database, commands.SetGoal("m-1", "g-1", "Lead", caller=MENTEE))
    for caller in (OTHER_TENANT_MENTOR, OTHER_TENANT_HR):
        theirs = every_request("m-1", held.session_id, caller)
        missing = every_request("m-404", "s-404", caller)
        for command, of_nothing in zip(theirs, missing, strict=True):
            with pytest.raises(NotFound) as raised:
                await run(database, command, NOW + timedelta(days=2))
            with pytest.raises(NotFound) as missing_raised:
                await run(database, of_nothing, NOW + timedelta(days=2))
            name = type(command).__name__
            assert raised.value.entity == missing_raised.value.entity, name
            assert without_id(raised.value) == without_id(missing_raised.value), name


async def test_the_members_do_everything_in_their_relationship(database: Database) -> None:
    held = await held_session(database, by=MENTEE)
    later = NOW + timedelta(days=2)
    planned = await run(database, commands.ScheduleSession("m-1", NOW + timedelta(days=3), 60, caller=MENTEE))
    assert (await run(database, commands.CancelSession(planned.session_id, caller=MENTOR), later)).status == (
        "cancelled"
    )
    await run(database, commands.SetGoal("m-1", "g-1", "Lead", caller=MENTOR))
    check_in = await run(database, commands.RecordGoalProgress("m-1", "g-1", 0.5, "halfway", caller=MENTEE))
    assert check_in.recorded_by == "E-2", "the check-in is the caller's"
    given = await run(database, commands.SubmitFeedback("m-1", held.session_id, "E-1", 4, caller=MENTOR))
    assert given.employee_id == "E-1"
    page = await run(database, commands.ListGoals("m-1", caller=MENTOR))
    assert [c.note for c in page.check_ins] == ["halfway"]
    listed = await run(database, commands.ListSessions(match_id="m-1", caller=MENTOR))
    assert listed.items[0].agenda == "Talk about leaving the team", "members see their sessions whole"
    calendar = await run(database, commands.ExportCalendar(match_id="m-1", caller=MENTEE))
    assert "Talk about leaving the team" in calendar


async def test_hr_and_the_programs_manager_list_sessions_without_their_words(database: Database) -> None:
    held = await held_session(database)
    for caller in (HR, MANAGER):
        page = await run(database, commands.ListSessions(match_id="m-1", caller=caller))
        [seen] = page.items
        assert (seen.session_id, seen.starts_at, seen.duration_minutes, seen.status) == (
            held.session_id,
            held.starts_at,
            held.duration_minutes,
            held.status,
        )
        assert (seen.agenda, seen.notes, seen.location, seen.meeting_link, seen.cancel_reason) == (
            "",
            "",
            "",
            "",
            "",
        )
        assert page.total_size == 1
    by_person = await run(database, commands.ListSessions(employee_id="E-2", caller=HR))
    assert [(s.session_id, s.agenda, s.notes) for s in by_person.items] == [(held.session_id, "", "")]


async def test_hr_reads_no_goals_no_calendar_and_changes_nothing(database: Database) -> None:
    held = await held_session(database)
    await run(database, commands.SetGoal("m-1", "g-1", "Lead", caller=MENTEE))
    for read in (
        commands.ListGoals("m-1", caller=HR),
        commands.ExportCalendar(match_id="m-1", caller=HR),
        commands.ListGoals("m-1", caller=MANAGER),
    ):
        with pytest.raises(PermissionDenied) as raised:
            await run(database, read)
        assert raised.value.reason is DenialReason.CONFIDENTIAL
    for write in every_request("m-1", held.session_id, HR):
        if isinstance(write, commands.ListSessions | commands.ListGoals | commands.ExportCalendar):
            continue
        with pytest.raises(PermissionDenied) as raised:
            await run(database, write, NOW + timedelta(days=2))
        assert raised.value.reason is DenialReason.NOT_YOURS, type(write).__name__
    with pytest.raises(PermissionDenied) as raised:
        await run(database, commands.ExportCalendar(employee_id="E-2", caller=HR))
    assert raised.value.reason is DenialReason.NOT_YOURS


async def test_a_manager_of_another_program_and_people_listing_others_are_refused(database: Database) -> None:
    await held_session(database)
    with pytest.raises(PermissionDenied) as raised:
        await run(database, commands.ListSessions(match_id="m-1", caller=OTHER_MANAGER))
    assert raised.value.reason is DenialReason.NOT_MANAGED
    for caller in (MENTOR, MANAGER, STRANGER):  # a mentor may not list their mentee's other relationships
        with pytest.raises(PermissionDenied) as raised:
            await run(database, commands.ListSessions(employee_id="E-2", caller=caller))
        assert raised.value.reason is DenialReason.NOT_YOURS


async def test_a_check_in_or_feedback_naming_someone_else_is_refused(database: Database) -> None:
    held = await held_session(database)
    await run(database, commands.SetGoal("m-1", "g-1", "Lead", caller=MENTEE))
    for command in (
        commands.RecordGoalProgress("m-1", "g-1", 0.5, employee_id="E-1", caller=MENTEE),
        commands.SubmitFeedback("m-1", held.session_id, "E-2", 5, caller=MENTOR),
    ):
        with pytest.raises(PermissionDenied) as raised:
            await run(database, command)
        assert raised.value.reason is DenialReason.NOT_YOURS


async def test_an_employee_id_is_a_person_within_one_tenant_only(database: Database) -> None:
    held = await held_session(database)
    busy = await run(database, commands.ScheduleSession("m-1", NOW + timedelta(days=5), 60, caller=MENTOR))
    # E-1 of globex is someone else: free at the time E-1 of acme is busy, and sees none of their sessions.
    theirs = await run(
        database,
        commands.ScheduleSession("m-g", busy.starts_at, 60, "Globex things", caller=OTHER_TENANT_MENTOR),
    )
    own = await run(database, commands.ListSessions(employee_id="E-1", caller=OTHER_TENANT_MENTOR))
    assert [s.session_id for s in own.items] == [theirs.session_id]
    calendar = await run(database, commands.ExportCalendar(employee_id="E-1", caller=OTHER_TENANT_MENTOR))
    assert "Globex things" in calendar and "leaving the team" not in calendar
    by_hr = await run(database, commands.ListSessions(employee_id="E-1", caller=HR))
    assert [s.session_id for s in by_hr.items] == [held.session_id, busy.session_id]


async def test_an_erasure_in_one_tenant_leaves_the_same_id_in_another_alone(database: Database) -> None:
    declared = (Goal("g1", "", "Lead a design review"),)
    await run(database, commands.RememberProgram(ProgramTerms("prog-g", "globex")))
    for program_id in ("prog-1", "prog-g", "prog-unknown"):
        await run(database, commands.RememberEnrolmentGoals(program_id, "E-2", declared))
    await held_session(database)
    await held_session(database, "m-g", by=OTHER_TENANT_MENTOR)

    assert await run(database, commands.EraseEmployee("E-2", tenant="globex")) == 1
    page = await run(database, commands.ListSessions(match_id="m-1", caller=MENTEE))
    assert page.items[0].agenda == "Talk about leaving the team", "acme's E-2 is not globex's"
    theirs = await run(database, commands.ListSessions(match_id="m-g", caller=OTHER_TENANT_MENTOR))
    assert theirs.items[0].agenda == ""
    async with database.read_transaction() as uow:
        kept = [
            program_id
            for program_id in ("prog-1", "prog-g", "prog-unknown")
            if await goal_store.enrolment_goals_of(uow, program_id, "E-2")
        ]
    assert kept == ["prog-1"], "acme's program's goals stay; a program of no known tenant is forgotten"


def test_program_events_carry_their_managers() -> None:
    program = common_pb2.Program(
        program_id="prog-1", tenant="acme", manager_ids=["PM-1", " ", "PM-2", "PM-1"]
    )
    for message in (events_pb2.ProgramCreated(program=program), events_pb2.ProgramUpdated(program=program)):
        command = translators()[ENROLLMENT_EVENTS][type(message)](
            published_event("enrollment", message, tenant="acme")
        )
        assert isinstance(command, commands.RememberProgram)
        assert command.program.manager_ids == ("PM-1", "PM-2")


async def test_a_program_remembers_its_managers(database: Database) -> None:
    await held_session(database)
    await run(database, commands.RememberProgram(ProgramTerms("prog-1", "acme", manager_ids=("PM-2",))))
    assert await run(database, commands.ListSessions(match_id="m-1", caller=OTHER_MANAGER))
    with pytest.raises(PermissionDenied) as raised:
        await run(database, commands.ListSessions(match_id="m-1", caller=MANAGER))
    assert raised.value.reason is DenialReason.NOT_MANAGED
