"""Session handlers on a real SQLite file (no broker): what they store and stage in the outbox, in one
transaction, and the rules that need the store (idempotency, overlap, stale activations, paging)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.session.bootstrap import MIGRATIONS
from services.session.service_layer import commands, handlers
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, InvalidArgument, NotFound
from services.shared.outbox import outbox_table
from tests.unit.session.callers import person

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
MENTOR = person("E-1")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",), tenant="acme"), NOW
        )
    yield db
    await db.dispose()


async def staged_types(db: Database) -> list[str]:
    async with db.transaction() as uow:
        rows = await uow.execute(select(outbox_table.c.ce_type).order_by(outbox_table.c.id))
    return list(rows.scalars())


async def schedule(db: Database, days: float, minutes: int = 60, request_id: str = "") -> str:
    async with db.transaction() as uow:
        planned = await handlers.schedule_session(
            uow,
            commands.ScheduleSession(
                "m-1", NOW + timedelta(days=days), minutes, "", request_id, caller=MENTOR
            ),
            NOW,
        )
    return planned.session_id


async def test_schedule_stages_one_event_and_a_retry_changes_nothing(database: Database) -> None:
    first = await schedule(database, 1, request_id="r-1")
    assert await schedule(database, 1, request_id="r-1") == first
    assert await staged_types(database) == ["mentoring.session.session.scheduled.v1"]


async def test_a_request_id_of_another_match_is_refused(database: Database) -> None:
    await schedule(database, 1, request_id="r-1")
    async with database.transaction() as uow:
        await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-2", "p", "E-3", ("E-4",)), NOW
        )
    with pytest.raises(InvalidArgument) as raised:
        async with database.transaction() as uow:
            await handlers.schedule_session(
                uow,
                commands.ScheduleSession("m-2", NOW + timedelta(days=3), 60, "", "r-1", caller=person("E-3")),
                NOW,
            )
    assert raised.value.field == "request_id"


async def test_overlap_is_found_in_the_store_and_nothing_is_staged(database: Database) -> None:
    await schedule(database, 1, minutes=120)
    with pytest.raises(FailedPrecondition) as raised:
        await schedule(database, 1 + 1 / 24)
    assert raised.value.rule == "session_overlap"
    assert await staged_types(database) == ["mentoring.session.session.scheduled.v1"]


async def test_nobody_is_in_two_sessions_at_once_across_their_relationships(database: Database) -> None:
    await schedule(database, 1, minutes=60)
    async with database.transaction() as uow:
        # E-1 mentors in m-1 and m-2; E-5 has nothing to do with m-1.
        await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-2", "prog-2", "E-1", ("E-3",), tenant="acme"), NOW
        )
        await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-3", "prog-2", "E-5", ("E-6",), tenant="acme"), NOW
        )

    async def schedule_in(match_id: str, hours_after: float, by: str = "E-1") -> str:
        starts_at = NOW + timedelta(days=1, hours=hours_after)
        async with database.transaction() as uow:
            planned = await handlers.schedule_session(
                uow, commands.ScheduleSession(match_id, starts_at, 60, "", "", caller=person(by)), NOW
            )
        return planned.session_id

    with pytest.raises(FailedPrecondition) as raised:
        await schedule_in("m-2", 0.5)
    assert raised.value.rule == "participant_busy"
    assert "m-1" not in raised.value.message and "E-" not in raised.value.message
    assert await schedule_in("m-2", 1.0), "back to back is not at once"
    assert await schedule_in("m-3", 0.5, by="E-5"), "other people are free at that time"


async def test_only_a_started_session_can_be_completed(database: Database) -> None:
    session_id = await schedule(database, 8)
    with pytest.raises(FailedPrecondition) as raised:
        async with database.transaction() as uow:
            await handlers.complete_session(
                uow, commands.CompleteSession(session_id, "done", caller=MENTOR), NOW
            )
    assert raised.value.rule == "session_not_started"
    async with database.transaction() as uow:
        done = await handlers.complete_session(
            uow,
            commands.CompleteSession(session_id, "done", caller=MENTOR),
            NOW + timedelta(days=8, minutes=5),
        )
    assert done.notes == "done"


async def test_ending_cancels_future_sessions_and_a_stale_activation_cannot_reopen(
    database: Database,
) -> None:
    await schedule(database, 1)
    await schedule(database, 2)
    end = commands.EndRelationship("m-1", "prog-1", "E-1", ("E-2",), reason="done")
    async with database.transaction() as uow:
        cancelled = await handlers.end_relationship(uow, end, NOW)
    assert [session.status for session in cancelled] == ["cancelled", "cancelled"]
    async with database.transaction() as uow:
        assert await handlers.end_relationship(uow, end, NOW) == [], "a second end changes nothing"
        reopened = await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",)), NOW
        )
    assert reopened is False
    with pytest.raises(FailedPrecondition) as raised:
        await schedule(database, 3)
    assert raised.value.rule == "relationship_not_active"
    assert (await staged_types(database)).count("mentoring.session.session.cancelled.v1") == 2


async def test_an_end_for_an_unknown_match_blocks_a_later_activation(database: Database) -> None:
    async with database.transaction() as uow:
        await handlers.end_relationship(uow, commands.EndRelationship("m-9", "p", "E-5", ("E-6",)), NOW)
        assert not await handlers.activate_relationship(
            uow, commands.ActivateRelationship("m-9", "p", "E-5", ("E-6",)), NOW
        )


async def test_paging_walks_every_session_once_in_start_order(database: Database) -> None:
    ids = [await schedule(database, day) for day in (5, 1, 3, 2, 4)]
    seen: list[str] = []
    token = ""
    while True:
        async with database.transaction() as uow:
            page = await handlers.list_sessions(
                uow, commands.ListSessions(match_id="m-1", page_size=2, page_token=token, caller=MENTOR)
            )
        assert page.total_size == 5
        seen.extend(session.session_id for session in page.items)
        token = page.next_page_token
        if not token:
            break
    assert seen == [ids[1], ids[3], ids[2], ids[4], ids[0]]


async def test_listing_needs_exactly_one_scope_and_a_known_match(database: Database) -> None:
    async with database.transaction() as uow:
        with pytest.raises(InvalidArgument):
            await handlers.list_sessions(uow, commands.ListSessions(caller=MENTOR))
        with pytest.raises(InvalidArgument):
            await handlers.list_sessions(
                uow, commands.ListSessions(match_id="m-1", employee_id="E-1", caller=MENTOR)
            )
        with pytest.raises(NotFound):
            await handlers.list_sessions(uow, commands.ListSessions(match_id="m-404", caller=MENTOR))
        by_stranger = await handlers.list_sessions(
            uow, commands.ListSessions(employee_id="E-404", caller=person("E-404"))
        )
    assert (list(by_stranger.items), by_stranger.total_size) == ([], 0)
