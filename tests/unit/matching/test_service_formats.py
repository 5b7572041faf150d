"""Group, peer and speed programs through the matching service's handlers (real temporary SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mentoring.v1 import common_pb2

from services.matching.adapters.translate import (
    outcome_to_wire,
    participant_from_wire,
    program_from_wire,
    run_to_wire,
)
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.lifecycle import MatchRecord, Status
from services.matching.service_layer import answers, pools, requests, runs
from services.matching.service_layer.commands import (
    AcceptMatch,
    ChangeProgram,
    CreateManualMatch,
    DeclineMatch,
    EnrollParticipant,
    ListMatches,
    PreviewMatching,
    RunMatching,
)
from services.matching.service_layer.policy import Policy
from services.shared.db import Database
from services.shared.errors import FailedPrecondition
from tests.unit.matching import principals

POLICY = Policy()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def person(employee_id: str, role: int, grade: int, **profile: object) -> common_pb2.Participant:
    return common_pb2.Participant(
        enrollment_id=f"p1:{employee_id}",
        program_id="p1",
        employee_id=employee_id,
        role=role,  # type: ignore[arg-type]
        grade=grade,
        department="eng",
        timezone="UTC",
        management_chain_ids=["boss"],
        status=common_pb2.ENROLLMENT_STATUS_ACTIVE,
        profile=common_pb2.Profile(languages=["en"], **profile),  # type: ignore[arg-type]
    )


async def setup(db: Database, program: common_pb2.Program, *people: common_pb2.Participant) -> None:
    async with db.transaction() as session:
        await pools.program_changed(session, ChangeProgram(program_from_wire(program)))
        for participant in people:
            await pools.participant_enrolled(
                session, EnrollParticipant(participant_from_wire(participant), now(), now()), policy=POLICY
            )


async def stored(db: Database) -> list[MatchRecord]:
    async with db.transaction() as session:
        return (
            await answers.list_matches(session, ListMatches(program_id="p1", caller=principals.hr()))
        ).items


def program(**fields: object) -> common_pb2.Program:
    return common_pb2.Program(
        program_id="p1",
        tenant="acme",
        status=common_pb2.PROGRAM_STATUS_OPEN,
        mentor_capacity_default=4,
        **fields,  # type: ignore[arg-type]
    )


async def test_a_group_is_one_match_that_activates_when_everyone_accepted(db: Database) -> None:
    mentees = [person(f"E{k}", common_pb2.ROLE_MENTEE, 3) for k in range(3)]
    await setup(
        db,
        program(format=common_pb2.PROGRAM_FORMAT_GROUP, group_size=common_pb2.GroupSize(min=2, max=3)),
        person("M1", common_pb2.ROLE_MENTOR, 8),
        *mentees,
    )
    run = outcome_to_wire(
        await runs.run_matching(db, RunMatching("p1", "g", caller=principals.hr()), policy=POLICY)
    )
    (group,) = run.matches
    assert sorted(group.mentee_employee_ids) == ["E0", "E1", "E2"]
    record = (await stored(db))[0]
    async with db.transaction() as session:
        # One mentee declines their seat: the group goes on with the others.
        after = await answers.decline_match(
            session,
            DeclineMatch(record.match_id, "E2", "", now(), caller=principals.person("E2")),
            policy=POLICY,
        )
        assert after.status is Status.PROPOSED and [m.employee_id for m in after.mentees] == ["E0", "E1"]
        for employee in ("M1", "E0"):
            await answers.accept_match(
                session, AcceptMatch(record.match_id, employee, now(), caller=principals.person(employee))
            )
        last = await answers.accept_match(
            session, AcceptMatch(record.match_id, "E1", now(), caller=principals.person("E1"))
        )
    assert last.status is Status.ACTIVE
    # The mentee who declined is back in the pool; alone, they cannot make a group of two.
    rerun = outcome_to_wire(
        await runs.run_matching(db, RunMatching("p1", "g2", caller=principals.hr()), policy=POLICY)
    )
    reasons = {u.enrollment_id: u.reason_code for u in rerun.unmatched}
    assert not rerun.matches and "p1:E0" not in reasons and "p1:E2" in reasons


async def test_peers_pair_up_and_either_peer_answers_as_a_peer(db: Database) -> None:
    peers = [person(f"P{k}", common_pb2.ROLE_PEER, 5) for k in range(4)]
    await setup(db, program(format=common_pb2.PROGRAM_FORMAT_PEER), *peers)
    run = outcome_to_wire(
        await runs.run_matching(db, RunMatching("p1", "p", caller=principals.hr()), policy=POLICY)
    )
    assert len(run.matches) == 2
    paired = [m.mentor_employee_id for m in run.matches] + [m.mentee_employee_ids[0] for m in run.matches]
    assert sorted(paired) == ["P0", "P1", "P2", "P3"]
    record = (await stored(db))[0]
    async with db.transaction() as session:
        await answers.accept_match(
            session,
            AcceptMatch(
                record.match_id,
                record.mentor_employee_id,
                now(),
                caller=principals.person(record.mentor_employee_id),
            ),
        )
        active = await answers.accept_match(
            session,
            AcceptMatch(
                record.match_id,
                record.mentees[0].employee_id,
                now(),
                caller=principals.person(record.mentees[0].employee_id),
            ),
        )
    assert active.status is Status.ACTIVE
    again = outcome_to_wire(
        await runs.run_matching(db, RunMatching("p1", "p2", caller=principals.hr()), policy=POLICY)
    )
    assert not again.matches, "peers in live matches are not paired again"


async def test_speed_meetings_are_numbered_by_round(db: Database) -> None:
    await setup(
        db,
        program(format=common_pb2.PROGRAM_FORMAT_SPEED, speed_rounds=2),
        person("M1", common_pb2.ROLE_MENTOR, 8),
        person("M2", common_pb2.ROLE_MENTOR, 8),
        person("E1", common_pb2.ROLE_MENTEE, 3),
        person("E2", common_pb2.ROLE_MENTEE, 3),
    )
    run = outcome_to_wire(
        await runs.run_matching(db, RunMatching("p1", "s", caller=principals.hr()), policy=POLICY)
    )
    meetings = {(m.mentor_employee_id, m.mentee_employee_ids[0]): m.speed_round for m in run.matches}
    assert set(meetings) == {("M1", "E1"), ("M1", "E2"), ("M2", "E1"), ("M2", "E2")}
    for mentor in ("M1", "M2"):
        assert sorted(r for (m, _), r in meetings.items() if m == mentor) == [1, 2], "one meeting per round"


async def test_a_manual_match_in_an_hr_manual_program_while_the_solver_is_refused(db: Database) -> None:
    await setup(
        db,
        program(matching_mode=common_pb2.MATCHING_MODE_HR_MANUAL),
        person("M1", common_pb2.ROLE_MENTOR, 8, skills_offered=["python"]),
        person("E1", common_pb2.ROLE_MENTEE, 4, skills_wanted=["python"]),
    )
    with pytest.raises(FailedPrecondition) as refused:
        outcome_to_wire(
            await runs.run_matching(db, RunMatching("p1", "x", caller=principals.hr()), policy=POLICY)
        )
    assert refused.value.rule == "hr_manual_program"
    suggestion = run_to_wire(
        await runs.preview_matching(db, PreviewMatching("p1", "", caller=principals.hr()), policy=POLICY)
    )
    assert len(suggestion.matches) == 1, "a preview still suggests"
    async with db.transaction() as session:
        record = await requests.create_manual_match(
            session,
            CreateManualMatch("p1", "p1:M1", ("p1:E1",), "", "hr-1", caller=principals.hr("hr-1")),
            policy=POLICY,
        )
    assert record.origin == "manual" and record.override_reason == "" and record.override_by == "hr-1"
