"""Property test of the seat bookkeeping (``seat_store`` through ``proposals.take_seats`` and
``match_store.update_match``), on a real SQLite database: for any sequence of proposals (one-on-one,
group, speed, peer), declines by either side, expiries, activations and ends, group members leaving, the
per-person load row always equals an independent count over the stored matches, never exceeds the
person's cap, and a proposal is refused exactly when its seats do not fit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from services.matching.adapters import match_store, seat_store
from services.matching.adapters.tables import match_members, matches
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain import lifecycle
from services.matching.domain.lifecycle import MatchRecord, Member, Status
from services.matching.service_layer.proposals import take_seats
from services.shared.db import SHARED_MIGRATIONS, Database

MENTORS = ("M0", "M1", "M2")
PROGRAMS = ("p1", "p2")
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)

caps = st.dictionaries(st.sampled_from(MENTORS), st.one_of(st.none(), st.integers(0, 3)))
propose = st.tuples(
    st.just("propose"),
    st.sampled_from(MENTORS),
    st.sampled_from(PROGRAMS),
    st.sampled_from(("one_on_one", "one_on_one", "group", "speed", "peer")),
    st.integers(1, 3),
)
answer = st.tuples(
    st.sampled_from(("decline_mentor", "decline_mentee", "expire", "activate", "end", "leave")),
    st.integers(0, 20),
)
operations = st.lists(st.one_of(propose, answer), min_size=1, max_size=25)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("seats") / "matching.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def migrate() -> None:
        database = Database(url)
        await database.migrate(MIGRATIONS)
        await database.dispose()

    asyncio.run(migrate())
    yield url


def record(tenant: str, mentor: str, program_id: str, kind: str, size: int, n: int) -> MatchRecord:
    mentees = size if kind == "group" else 1
    return MatchRecord(
        match_id=uuid.uuid4().hex,
        program_id=program_id,
        tenant=tenant,
        format=kind,
        mentor_enrollment_id=f"{program_id}:{mentor}",
        mentor_employee_id=mentor,
        members=[Member(f"{program_id}:E{n}-{k}", f"E{n}-{k}") for k in range(mentees)],
        score=1.0,
        breakdown={},
        proposed_at=T0,
        respond_by=T0 + timedelta(hours=48),
    )


async def counted(session: Any, tenant: str, mentor: str) -> int:
    """The independent count: current mentees of the mentor's live matches, speed ones aside."""
    query = (
        select(func.count())
        .select_from(matches.join(match_members, match_members.c.match_id == matches.c.match_id))
        .where(
            matches.c.tenant == tenant,
            matches.c.mentor_employee_id == mentor,
            matches.c.status.in_(("proposed", "active")),
            matches.c.format.not_in(("speed", "peer")),
            match_members.c.left_at.is_(None),
        )
    )
    return int((await session.execute(query)).scalar_one())


def answer_match(match: MatchRecord, action: str, now: datetime) -> bool:
    """Apply one answer through the match state machine; False when it does not apply."""
    mentees = match.mentees
    if not match.live or not mentees:
        return False
    if action == "decline_mentor" and match.status is Status.PROPOSED:
        lifecycle.decline(match, match.mentor_employee_id, "no", now)
    elif action == "decline_mentee" and match.status is Status.PROPOSED:
        lifecycle.decline(match, mentees[-1].employee_id, "no", now)
    elif action == "expire" and match.status is Status.PROPOSED:
        lifecycle.expire(match, match.respond_by)
    elif action == "activate" and match.status is Status.PROPOSED:
        for employee in (match.mentor_employee_id, *(m.employee_id for m in mentees)):
            lifecycle.accept(match, employee, now)
    elif action == "end" and match.status is Status.ACTIVE:
        lifecycle.end(match, mentees[0].employee_id, "", now)
    elif action == "leave":
        lifecycle.end_for(match, mentees[-1].employee_id, lifecycle.EndCause.PARTICIPANT_PAUSED, now)
    else:
        return False
    return True


async def play(url: str, cap_of: dict[str, int | None], steps: list[tuple[Any, ...]]) -> None:
    database = Database(url)
    tenant = uuid.uuid4().hex  # each example on its own tenant
    model = dict.fromkeys(MENTORS, 0)  # the seats the test expects each mentor to hold
    stored: list[MatchRecord] = []
    try:
        for n, step in enumerate(steps):
            now = T0 + timedelta(minutes=n)
            async with database.transaction() as session:
                if step[0] == "propose":
                    _, mentor, program_id, kind, size = step
                    proposal = record(tenant, mentor, program_id, kind, size, n)
                    view = SimpleNamespace(caps=cap_of, program=SimpleNamespace(tenant=tenant))
                    kept, lost = await take_seats(session, view, [proposal])  # type: ignore[arg-type]
                    seats = seat_store.seats_of(proposal)
                    cap = cap_of.get(mentor)
                    fits = cap is None or model[mentor] + seats <= cap
                    assert (kept, lost) == (([proposal], []) if fits else ([], [proposal])), (step, model)
                    if fits:
                        await match_store.insert_matches(session, kept)
                        stored.append(proposal)
                        model[mentor] += seats
                else:
                    action, pick = step
                    live = [match for match in stored if match.live]
                    if not live:
                        continue
                    match = live[pick % len(live)]
                    before = seat_store.seats_of(match)
                    if answer_match(match, action, now):
                        await match_store.update_match(session, match)
                        model[match.mentor_employee_id] -= before - seat_store.seats_of(match)
            async with database.read_transaction() as session:
                for mentor in MENTORS:
                    load = await seat_store.live_load(session, tenant, mentor)
                    assert load == await counted(session, tenant, mentor) == model[mentor], (mentor, steps)
                    cap = cap_of.get(mentor)
                    assert cap is None or load <= cap
    finally:
        await database.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cap_of=caps, steps=operations)
def test_the_load_row_always_equals_the_stored_matches_and_never_exceeds_the_cap(
    migrated: str, cap_of: dict[str, int | None], steps: list[tuple[Any, ...]]
) -> None:
    asyncio.run(play(migrated, cap_of, steps))


def test_the_migration_fills_the_load_rows_from_the_live_matches(tmp_path: Path) -> None:
    """A database with matches from before the load rows: the migration counts them."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}"

    def upgrade_to_0002(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(SHARED_MIGRATIONS))
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", f"{SHARED_MIGRATIONS / 'versions'}:{MIGRATIONS}")
        config.attributes["connection"] = connection
        command.upgrade(config, "matching_0002")

    async def scenario() -> None:
        database = Database(url)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(upgrade_to_0002)
            older = [
                record("acme", "M0", "p1", "one_on_one", 1, 1),
                record("acme", "M0", "p2", "group", 2, 2),
                record("acme", "M0", "p2", "speed", 1, 3),
                record("acme", "M1", "p1", "one_on_one", 1, 4),
            ]
            older[3].status = Status.DECLINED
            async with database.transaction() as session:
                await session.execute(
                    matches.insert(),
                    [{"match_id": r.match_id, **match_store._match_values(r)} for r in older],
                )
                await session.execute(
                    match_members.insert(), [row for r in older for row in match_store._member_rows(r)]
                )
            await database.migrate(MIGRATIONS)
            async with database.read_transaction() as session:
                assert await seat_store.live_load(session, "acme", "M0") == 3
                assert await seat_store.live_load(session, "acme", "M1") == 0
        finally:
            await database.dispose()

    asyncio.run(scenario())
