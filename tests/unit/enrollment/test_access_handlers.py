"""The enrollment handlers' checks of the caller, on a real SQLite file: who may act on which program or
enrolment, reads scoped by the caller's tenant (another tenant's object is NotFound exactly like a
missing one), and the tenant taken from the caller, never from the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from services.enrollment.domain import Profile, Role, hris_event_from_scim
from services.enrollment.service_layer import commands, handlers, hris
from services.shared.access import DenialReason, PermissionDenied
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, NotFound
from tests.unit.enrollment.test_handlers import NOW, spec

ACME, GLOBEX = "acme", "globex"


def person(tenant: str, employee_id: str, *roles: str) -> Principal:
    return Principal(f"{tenant}-{employee_id}", tenant, employee_id, None, frozenset({"employee", *roles}))


def service(*roles: str) -> Principal:
    return Principal("svc", None, None, "notification", frozenset(roles))


HR, GLOBEX_HR = person(ACME, "HR", "hr_admin"), person(GLOBEX, "HR", "hr_admin")
E1, E2 = person(ACME, "E1"), person(ACME, "E2")
PM1, PM2 = person(ACME, "PM1", "program_manager"), person(ACME, "PM2", "program_manager")
G1 = person(GLOBEX, "E1")  # the same employee id in another tenant: another person


READS = (
    handlers.get_program,
    handlers.list_programs,
    handlers.get_enrollment,
    handlers.list_participants,
    handlers.look_up_contact,
)


@dataclass(frozen=True)
class World:
    database: Database
    program: str  # acme's, managed by PM1
    other_program: str  # acme's, managed by PM2
    globex_program: str
    enrollment: str  # E1's in ``program``
    globex_enrollment: str  # globex's E1 in ``globex_program``

    async def run(self, handler: Callable[..., Awaitable[Any]], command: Any) -> Any:
        async with self.database.transaction() as session:
            if handler in READS:
                return await handler(session, command)
            return await handler(session, command, now=NOW)


async def _hire(database: Database, tenant: str, who: str) -> None:
    record = {
        "employeeNumber": who,
        "type": "HIRED",
        "name": f"Person {who}",
        "email": f"{who.lower()}@{tenant}.example.com",
        "grade": 6,
        "department": "Engineering",
        "hireDate": "2020-01-01",
        "effectiveTime": "2029-06-01T00:00:00+00:00",
    }
    event = hris_event_from_scim(record, event_id=f"hire-{tenant}-{who}", tenant=tenant)
    async with database.transaction() as session:
        await hris.apply(session, event, causation_id=event.event_id, now=NOW)


@pytest.fixture
async def world(database: Database) -> World:
    for who in ("E1", "E2", "PM1", "PM2"):
        await _hire(database, ACME, who)
    await _hire(database, GLOBEX, "E1")
    made: list[str] = []
    for caller, managers in ((HR, {"PM1"}), (HR, {"PM2"}), (GLOBEX_HR, set())):
        async with database.transaction() as session:
            program = await handlers.create_program(
                session,
                commands.CreateProgram("", spec(manager_ids=frozenset(managers)), caller=caller),
                now=NOW,
            )
        made.append(program.program_id)
    enrolments = []
    for caller, program_id in ((E1, made[0]), (G1, made[2])):
        async with database.transaction() as session:
            enrollment = await handlers.enrol(
                session, commands.Enrol(program_id, "E1", Role.MENTOR, Profile(), caller=caller), now=NOW
            )
        enrolments.append(enrollment.enrollment_id)
    return World(database, made[0], made[1], made[2], enrolments[0], enrolments[1])


async def refused(world: World, handler: Any, command: Any) -> DenialReason:
    with pytest.raises(PermissionDenied) as raised:
        await world.run(handler, command)
    assert "E1" not in str(raised.value) and "@" not in str(raised.value)  # no personal data
    return raised.value.reason


async def not_found(world: World, handler: Any, command: Any) -> str:
    with pytest.raises(NotFound) as raised:
        await world.run(handler, command)
    return str(raised.value)


def same_shape(message: str, found_id: str, missing: str) -> bool:
    """The refusal of an existing id reads as that of a missing one: nothing else tells them apart."""
    return message.replace(found_id, "<id>") == missing.replace("nope", "<id>")


async def test_programs_are_created_and_closed_by_hr_of_the_callers_tenant(world: World) -> None:
    for caller in (E1, PM1):
        create = commands.CreateProgram(ACME, spec(), caller=caller)
        assert await refused(world, handlers.create_program, create) is DenialReason.ROLE_NOT_ALLOWED
        close = commands.CloseProgram(world.program, caller=caller)
        assert await refused(world, handlers.close_program, close) is DenialReason.ROLE_NOT_ALLOWED
    into_globex = commands.CreateProgram(GLOBEX, spec(), caller=HR)
    assert await refused(world, handlers.create_program, into_globex) is DenialReason.OTHER_TENANT
    created = await world.run(handlers.create_program, commands.CreateProgram("", spec(), caller=HR))
    assert created.tenant == ACME
    missing = await not_found(world, handlers.close_program, commands.CloseProgram("nope", caller=GLOBEX_HR))
    theirs = await not_found(
        world, handlers.close_program, commands.CloseProgram(world.program, caller=GLOBEX_HR)
    )
    assert same_shape(theirs, world.program, missing)
    closed = await world.run(handlers.close_program, commands.CloseProgram(world.program, caller=HR))
    assert closed.program_id == world.program


async def test_programs_are_read_and_listed_in_the_callers_tenant_only(world: World) -> None:
    for caller in (E1, PM2, HR):
        read = await world.run(handlers.get_program, commands.GetProgram(world.program, caller=caller))
        assert read.tenant == ACME
    missing = await not_found(world, handlers.get_program, commands.GetProgram("nope", caller=G1))
    theirs = await not_found(world, handlers.get_program, commands.GetProgram(world.program, caller=G1))
    assert same_shape(theirs, world.program, missing)
    listed = await world.run(handlers.list_programs, commands.ListPrograms("", caller=E1))
    assert {program.program_id for program in listed.items} == {world.program, world.other_program}
    globex = await world.run(handlers.list_programs, commands.ListPrograms(GLOBEX, caller=G1))
    assert [program.program_id for program in globex.items] == [world.globex_program]
    snooping = commands.ListPrograms(GLOBEX, caller=E1)
    assert await refused(world, handlers.list_programs, snooping) is DenialReason.OTHER_TENANT


async def test_an_employee_enrols_themselves_and_hr_anyone_of_the_tenant(world: World) -> None:
    for caller in (E1, PM1):
        for_e2 = commands.Enrol(world.program, "E2", Role.MENTEE, Profile(), caller=caller)
        assert await refused(world, handlers.enrol, for_e2) is DenialReason.NOT_YOURS
    into_globex = commands.Enrol(world.globex_program, "E2", Role.MENTEE, Profile(), caller=E2)
    assert same_shape(
        await not_found(world, handlers.enrol, into_globex),
        world.globex_program,
        await not_found(
            world, handlers.enrol, commands.Enrol("nope", "E2", Role.MENTEE, Profile(), caller=E2)
        ),
    )
    own = await world.run(
        handlers.enrol, commands.Enrol(world.program, "E2", Role.MENTEE, Profile(), caller=E2)
    )
    assert (own.tenant, own.employee_id) == (ACME, "E2")
    by_hr = await world.run(
        handlers.enrol, commands.Enrol(world.other_program, "E2", Role.MENTEE, Profile(), caller=HR)
    )
    assert (by_hr.tenant, by_hr.employee_id) == (ACME, "E2")


async def test_an_enrolment_is_changed_and_withdrawn_by_its_owner_or_hr(world: World) -> None:
    for caller, reason in ((E2, DenialReason.NOT_YOURS), (PM1, DenialReason.NOT_YOURS)):
        change = commands.UpdateEnrollment(world.enrollment, Profile(capacity=2), caller=caller)
        assert await refused(world, handlers.update_enrollment, change) is reason
        withdraw = commands.WithdrawEnrollment(world.enrollment, caller=caller)
        assert await refused(world, handlers.withdraw_enrollment, withdraw) is reason
    # globex's E1 is another person: acme's E1 enrolment is not theirs, and not even visible to them.
    for caller in (G1, GLOBEX_HR):
        missing = await not_found(
            world, handlers.withdraw_enrollment, commands.WithdrawEnrollment("nope", caller=caller)
        )
        theirs = await not_found(
            world, handlers.withdraw_enrollment, commands.WithdrawEnrollment(world.enrollment, caller=caller)
        )
        assert same_shape(theirs, world.enrollment, missing)
        changed = commands.UpdateEnrollment(world.enrollment, Profile(capacity=2), caller=caller)
        await not_found(world, handlers.update_enrollment, changed)
    updated = await world.run(
        handlers.update_enrollment,
        commands.UpdateEnrollment(world.enrollment, Profile(capacity=2), caller=E1),
    )
    assert updated.profile.capacity == 2
    by_hr = await world.run(
        handlers.update_enrollment,
        commands.UpdateEnrollment(world.enrollment, Profile(capacity=3), caller=HR),
    )
    assert by_hr.profile.capacity == 3
    withdrawn = await world.run(
        handlers.withdraw_enrollment, commands.WithdrawEnrollment(world.enrollment, caller=E1)
    )
    assert withdrawn.withdrawal_reason


async def test_an_enrolment_is_read_by_its_owner_hr_and_its_programs_manager(world: World) -> None:
    for caller in (E1, HR, PM1):
        read = await world.run(
            handlers.get_enrollment, commands.GetEnrollment(world.enrollment, caller=caller)
        )
        assert read.enrollment_id == world.enrollment
    get = commands.GetEnrollment(world.enrollment, caller=E2)
    assert await refused(world, handlers.get_enrollment, get) is DenialReason.NOT_YOURS
    get = commands.GetEnrollment(world.enrollment, caller=PM2)
    assert await refused(world, handlers.get_enrollment, get) is DenialReason.NOT_MANAGED
    for caller in (G1, GLOBEX_HR):
        missing = await not_found(
            world, handlers.get_enrollment, commands.GetEnrollment("nope", caller=caller)
        )
        theirs = await not_found(
            world, handlers.get_enrollment, commands.GetEnrollment(world.enrollment, caller=caller)
        )
        assert same_shape(theirs, world.enrollment, missing)
    globex = await world.run(
        handlers.get_enrollment, commands.GetEnrollment(world.globex_enrollment, caller=G1)
    )
    assert globex.tenant == GLOBEX


async def test_participants_are_listed_by_hr_and_the_programs_manager(world: World) -> None:
    for caller in (HR, PM1):
        page = await world.run(
            handlers.list_participants, commands.ListParticipants(world.program, caller=caller)
        )
        assert [participant.employee_id for participant in page.items] == ["E1"]
    listing = commands.ListParticipants(world.program, caller=PM2)
    assert await refused(world, handlers.list_participants, listing) is DenialReason.NOT_MANAGED
    listing = commands.ListParticipants(world.program, caller=E1)
    assert await refused(world, handlers.list_participants, listing) is DenialReason.ROLE_NOT_ALLOWED
    missing = await not_found(
        world, handlers.list_participants, commands.ListParticipants("nope", caller=GLOBEX_HR)
    )
    theirs = await not_found(
        world, handlers.list_participants, commands.ListParticipants(world.program, caller=GLOBEX_HR)
    )
    assert same_shape(theirs, world.program, missing)


async def test_contacts_are_looked_up_by_a_contact_lookup_service_in_the_tenant_it_names(
    world: World,
) -> None:
    for caller, reason in (
        (HR, DenialReason.ROLE_NOT_ALLOWED),
        (E1, DenialReason.ROLE_NOT_ALLOWED),
        (service(), DenialReason.SERVICE_NOT_ALLOWED),
        (service("contact_lookup"), DenialReason.OTHER_TENANT),  # a service must name the tenant
    ):
        lookup = commands.LookUpContact("E1", tenant=ACME if caller.employee_id else "", caller=caller)
        assert await refused(world, handlers.look_up_contact, lookup) is reason
    notification = service("contact_lookup")
    acme = await world.run(
        handlers.look_up_contact, commands.LookUpContact("E1", tenant=ACME, caller=notification)
    )
    globex = await world.run(
        handlers.look_up_contact, commands.LookUpContact("E1", tenant=GLOBEX, caller=notification)
    )
    assert (acme.email, globex.email) == ("e1@acme.example.com", "e1@globex.example.com")
    await not_found(
        world, handlers.look_up_contact, commands.LookUpContact("PM1", tenant=GLOBEX, caller=notification)
    )


async def test_a_draft_is_seen_only_by_those_who_run_programs(world: World) -> None:
    draft = await world.run(
        handlers.create_program, commands.CreateProgram("", spec(), draft=True, caller=HR)
    )
    for caller in (HR, PM2):
        read = await world.run(handlers.get_program, commands.GetProgram(draft.program_id, caller=caller))
        assert read.program_id == draft.program_id
        listed = await world.run(handlers.list_programs, commands.ListPrograms("", caller=caller))
        assert draft.program_id in {program.program_id for program in listed.items} and listed.total_size == 3
    missing = await not_found(world, handlers.get_program, commands.GetProgram("nope", caller=E1))
    hidden = await not_found(world, handlers.get_program, commands.GetProgram(draft.program_id, caller=E1))
    assert same_shape(hidden, draft.program_id, missing)
    listed = await world.run(handlers.list_programs, commands.ListPrograms("", caller=E1))
    assert draft.program_id not in {program.program_id for program in listed.items} and listed.total_size == 2
    enrol = commands.Enrol(draft.program_id, "E2", Role.MENTEE, Profile(), caller=E2)
    assert same_shape(await not_found(world, handlers.enrol, enrol), draft.program_id, missing)
    with pytest.raises(FailedPrecondition) as refused:  # HR sees it: the rule that applies is the domain's
        await world.run(handlers.enrol, replace(enrol, caller=HR))
    assert refused.value.rule == "program_not_open"
