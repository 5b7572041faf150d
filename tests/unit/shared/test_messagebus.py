"""The message bus and after-commit effects on a real SQLite file: a query reads in a read-only
transaction, a command commits and wakes the relay once, a failing command leaves nothing behind and
runs no effect, a workflow is not applied inside someone else's unit of work, and a consumer handler
applies every command its translator makes of an event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from mentoring.v1 import events_pb2
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import READ_ONLY, Database
from services.shared.envelope import CloudEvent, published_event
from services.shared.messagebus import Command, MessageBus, Query, Workflow
from services.shared.unit_of_work import after_commit

notes_metadata = MetaData()
notes = Table(
    "notes",
    notes_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(64), nullable=False),
)


@dataclass(frozen=True, slots=True)
class AddNote(Command[int]):
    text: str


@dataclass(frozen=True, slots=True)
class AddNoteThenFail(Command[None]):
    text: str


@dataclass(frozen=True, slots=True)
class CountNotes(Query[int]):
    pass


@dataclass(frozen=True, slots=True)
class CountNotesWhileOthersWrite(Query[int]):
    pass


@dataclass(frozen=True, slots=True)
class AddNotesInTwoSteps(Workflow[int]):
    first: str
    second: str


class Calls:
    """A callback that counts how often it ran."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


class Refused(Exception):
    pass


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bus.db'}")
    await db.migrate(tmp_path / "no-service-migrations")
    async with db.engine.begin() as connection:
        await connection.run_sync(notes_metadata.create_all)
    yield db
    await db.dispose()


async def stored_notes(database: Database) -> list[str]:
    async with database.read_transaction() as session:
        return list((await session.execute(select(notes.c.text).order_by(notes.c.id))).scalars())


async def insert_note(session: AsyncSession, text: str) -> int:
    result = await session.execute(notes.insert().values(text=text))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def bus_of(database: Database, effects: Calls, after_write: Callable[[], None]) -> MessageBus:
    async def add_note(session: AsyncSession, command: AddNote) -> int:
        note_id = await insert_note(session, command.text)
        after_commit(session, effects)
        return note_id

    async def add_note_then_fail(session: AsyncSession, command: AddNoteThenFail) -> None:
        await insert_note(session, command.text)
        after_commit(session, effects)
        raise Refused

    async def count_notes(session: AsyncSession, query: CountNotes) -> int:
        connection = (await session.connection()).sync_connection
        assert connection is not None
        assert connection.get_execution_options().get(READ_ONLY) is True, "a session of read_sessions"
        return len(list((await session.execute(select(notes.c.id))).scalars()))

    async def count_notes_while_others_write(session: AsyncSession, query: CountNotesWhileOthersWrite) -> int:
        before = len(list((await session.execute(select(notes.c.id))).scalars()))
        # The query's transaction is open and has read: a writer must still get the database at once.
        async with database.transaction() as writer:
            await insert_note(writer, "written during a read")
        return before

    async def add_notes_in_two_steps(db: Database, workflow: AddNotesInTwoSteps) -> int:
        async with db.transaction() as session:
            await insert_note(session, workflow.first)
        async with db.transaction() as session:
            return await insert_note(session, workflow.second)

    return MessageBus(
        database,
        {
            AddNote: add_note,
            AddNoteThenFail: add_note_then_fail,
            CountNotes: count_notes,
            CountNotesWhileOthersWrite: count_notes_while_others_write,
            AddNotesInTwoSteps: add_notes_in_two_steps,
        },
        after_write,
    )


async def test_a_query_runs_in_a_read_only_transaction_that_blocks_no_writer(database: Database) -> None:
    wakes = Calls()
    bus = bus_of(database, Calls(), wakes)
    await bus.execute(AddNote("first"))
    assert await bus.execute(CountNotes()) == 1
    before = await asyncio.wait_for(bus.execute(CountNotesWhileOthersWrite()), timeout=10)
    assert before == 1
    assert await stored_notes(database) == ["first", "written during a read"]
    assert wakes.count == 1, "a read wakes no relay"


async def test_a_command_commits_then_wakes_the_relay_once(database: Database) -> None:
    wakes, effects = Calls(), Calls()
    bus = bus_of(database, effects, wakes)
    note_id = await bus.execute(AddNote("kept"))
    assert note_id == 1
    assert await stored_notes(database) == ["kept"]
    assert (wakes.count, effects.count) == (1, 1)


async def test_a_failing_command_rolls_back_and_runs_no_effect(database: Database) -> None:
    wakes, effects = Calls(), Calls()
    bus = bus_of(database, effects, wakes)
    with pytest.raises(Refused):
        await bus.execute(AddNoteThenFail("lost"))
    assert await stored_notes(database) == []
    assert (wakes.count, effects.count) == (0, 0)
    await bus.execute(AddNote("next"))
    assert effects.count == 1, "the failed command's effect does not run with a later commit"


async def test_a_workflow_gets_the_database_and_wakes_the_relay_once(database: Database) -> None:
    wakes = Calls()
    bus = bus_of(database, Calls(), wakes)
    assert await bus.execute(AddNotesInTwoSteps("one", "two")) == 2
    assert await stored_notes(database) == ["one", "two"]
    assert wakes.count == 1


async def test_apply_runs_inside_the_callers_unit_of_work_and_refuses_a_workflow(database: Database) -> None:
    wakes, effects = Calls(), Calls()
    bus = bus_of(database, effects, wakes)
    async with database.transaction() as session:
        await bus.apply(session, AddNote("in the batch"))
        assert effects.count == 0, "not before the caller commits"
        with pytest.raises(TypeError):
            await bus.apply(session, AddNotesInTwoSteps("one", "two"))
    assert await stored_notes(database) == ["in the batch"]
    assert effects.count == 1
    assert wakes.count == 0, "the caller's unit of work wakes the relay, not apply"


async def test_a_command_without_a_handler_is_refused(database: Database) -> None:
    bus = MessageBus(database, {})
    with pytest.raises(LookupError):
        await bus.execute(AddNote("nowhere"))
    assert await stored_notes(database) == []


async def test_after_commit_callbacks_run_once_on_commit_and_never_on_rollback(database: Database) -> None:
    committed, rolled_back, in_savepoint = Calls(), Calls(), Calls()
    async with database.sessions() as session:
        async with session.begin():
            await insert_note(session, "kept")
            after_commit(session, committed)
            async with session.begin_nested():
                after_commit(session, in_savepoint)
            assert (committed.count, in_savepoint.count) == (0, 0), "a released savepoint is no commit"
        assert (committed.count, in_savepoint.count) == (1, 1)
        with pytest.raises(Refused):
            async with session.begin():
                await insert_note(session, "lost")
                after_commit(session, rolled_back)
                raise Refused
        async with session.begin():
            await insert_note(session, "later")
    assert (committed.count, in_savepoint.count, rolled_back.count) == (1, 1, 0)
    assert await stored_notes(database) == ["kept", "later"]


def closed(program_id: str) -> CloudEvent:
    return published_event("enrollment", events_pb2.ProgramClosed(program_id=program_id))


async def test_event_handlers_apply_every_command_a_translator_returns(database: Database) -> None:
    wakes, effects = Calls(), Calls()
    bus = bus_of(database, effects, wakes)

    def notes_of(event: CloudEvent) -> Sequence[Command[int]] | Command[int] | None:
        program_id = event.payload(events_pb2.ProgramClosed).program_id
        if program_id == "none":
            return None
        if program_id == "one":
            return AddNote("single")
        return [AddNote(f"{program_id}-a"), AddNote(f"{program_id}-b")]

    handlers = bus.event_handlers({events_pb2.ProgramClosed: notes_of})
    assert set(handlers) == {events_pb2.ProgramClosed}
    handle = handlers[events_pb2.ProgramClosed]
    async with database.transaction() as session:
        await handle(session, closed("none"))
        await handle(session, closed("one"))
        await handle(session, closed("pair"))
    assert await stored_notes(database) == ["single", "pair-a", "pair-b"]
    assert effects.count == 3
