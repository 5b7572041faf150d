"""Program.manager_ids: HR names a program's managers on create and update; they are stored, returned on
the wire and carried in ProgramCreated / ProgramUpdated (the Program is the payload, other services read
it); a program manager may edit the program that names them, but not its managers nor close it."""

from __future__ import annotations

from typing import Any

import pytest
from mentoring.v1 import common_pb2

from services.enrollment.adapters.translate import program_edit, program_to_wire
from services.enrollment.domain import Program, ProgramStatus
from services.enrollment.service_layer import commands, handlers
from services.shared.access import DenialReason, PermissionDenied
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, InvalidArgument
from tests.unit.enrollment.test_handlers import HR, NOW, TENANT, Clock, feed, hire, outbox, spec

CREATED = "mentoring.enrollment.program.created.v1"
UPDATED = "mentoring.enrollment.program.updated.v1"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def manager(employee_id: str) -> Principal:
    roles = frozenset({"employee", "program_manager"})
    return Principal(f"pm-{employee_id}", TENANT, employee_id, None, roles)


async def create(database: Database, **overrides: Any) -> Program:
    async with database.transaction() as session:
        return await handlers.create_program(
            session, commands.CreateProgram(TENANT, spec(**overrides), caller=HR), now=NOW
        )


async def update(
    database: Database, caller: Principal, program_id: str, wire: Any, paths: list[str]
) -> Program:
    async with database.transaction() as session:
        return await handlers.update_program(
            session, commands.UpdateProgram(program_id, program_edit(wire, paths), caller=caller), now=NOW
        )


async def test_managers_are_stored_returned_and_published(database: Database, clock: Clock) -> None:
    for who in ("PM1", "PM2", "PM3"):
        await hire(database, clock, who)
    program = await create(database, manager_ids=frozenset({"PM1", " PM2 "}))
    assert program.spec.manager_ids == frozenset({"PM1", "PM2"})
    async with database.transaction() as session:
        read = await handlers.get_program(session, commands.GetProgram(program.program_id, caller=HR))
    assert read.spec.manager_ids == frozenset({"PM1", "PM2"})
    assert list(program_to_wire(read).manager_ids) == ["PM1", "PM2"]
    [(ce_type, _, event)] = await outbox(database)
    assert ce_type == CREATED and list(event.program.manager_ids) == ["PM1", "PM2"]

    renamed = common_pb2.Program(manager_ids=["PM3"])
    updated = await update(database, HR, program.program_id, renamed, ["manager_ids"])
    assert updated.spec.manager_ids == frozenset({"PM3"})
    staged = await outbox(database)
    assert staged[-1][0] == UPDATED
    assert list(staged[-1][2].program.manager_ids) == ["PM3"]


async def test_managers_must_be_employees_of_the_tenant_still_employed(
    database: Database, clock: Clock
) -> None:
    for unknown in (" ", "NOBODY"):
        with pytest.raises(InvalidArgument) as raised:
            await create(database, manager_ids=frozenset({unknown}))
        assert raised.value.field == "program.manager_ids"
    await hire(database, clock, "PM1")
    await hire(database, clock, "GONE")
    program = await create(database, manager_ids=frozenset({"PM1", "GONE"}))
    await feed(database, "left", {"employeeNumber": "GONE", "type": "TERMINATED"}, clock)
    kept = await update(database, HR, program.program_id, common_pb2.Program(name="Kept"), ["name"])
    assert kept.spec.manager_ids == frozenset({"PM1", "GONE"})  # named before they left: not re-checked
    with pytest.raises(FailedPrecondition) as refused:
        await create(database, manager_ids=frozenset({"GONE"}))
    assert refused.value.rule == "manager_not_employed"
    with pytest.raises(InvalidArgument):
        await update(
            database, HR, program.program_id, common_pb2.Program(manager_ids=["NOBODY"]), ["manager_ids"]
        )


async def test_a_named_manager_edits_the_program_but_not_its_managers_nor_its_status(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "PM1")
    program = await create(database, manager_ids=frozenset({"PM1"}))
    edited = await update(
        database, manager("PM1"), program.program_id, common_pb2.Program(name="New"), ["name"]
    )
    assert edited.spec.name == "New" and edited.spec.manager_ids == frozenset({"PM1"})

    refusals = [
        (manager("PM2"), common_pb2.Program(name="Theirs"), ["name"], DenialReason.NOT_MANAGED),
        (
            manager("PM1"),
            common_pb2.Program(manager_ids=["PM1", "PM9"]),
            ["manager_ids"],
            DenialReason.ROLE_NOT_ALLOWED,
        ),
        (
            manager("PM1"),
            common_pb2.Program(status=common_pb2.PROGRAM_STATUS_CLOSED),
            ["status"],
            DenialReason.ROLE_NOT_ALLOWED,
        ),
    ]
    for caller, wire, paths, reason in refusals:
        with pytest.raises(PermissionDenied) as raised:
            await update(database, caller, program.program_id, wire, paths)
        assert raised.value.reason is reason, paths
    async with database.transaction() as session:
        kept = await handlers.get_program(session, commands.GetProgram(program.program_id, caller=HR))
    assert (kept.spec.name, kept.spec.manager_ids, kept.status) == (
        "New",
        frozenset({"PM1"}),
        ProgramStatus.OPEN,
    )
    assert [entry[0] for entry in await outbox(database)] == [CREATED, UPDATED]
