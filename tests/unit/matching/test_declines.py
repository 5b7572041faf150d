"""Declines are remembered: a pair declined by either side is never proposed again in that program
(hard rule ``declined``: solver, incremental proposals, a mentee's request, the audit file), unless HR
makes a manual match with an override reason. On a real temporary SQLite database."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.matching.bootstrap import MIGRATIONS
from services.matching.domain import Pool, ProgramFormat, Role, check_pair, solve
from services.matching.domain.audit import run_audit
from services.matching.domain.candidates import CandidateEvaluator
from services.matching.domain.encoding import MenteeBlock, MentorIndex
from services.matching.domain.reasons import gate
from services.matching.domain.runs import RunReport
from services.matching.service_layer import answers, requests, runs
from services.matching.service_layer.commands import (
    CreateManualMatch,
    DeclineMatch,
    RequestNominatedMentor,
    RunMatching,
)
from services.shared.db import Database
from services.shared.errors import FailedPrecondition
from tests.unit.matching.principals import hr, person
from tests.unit.matching.test_incremental_audit import _document
from tests.unit.matching.test_service_handlers import MENTEE, MENTOR, POLICY, enrolled, program, setup


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


async def report_of(database: Database, request_id: str) -> RunReport:
    report = await runs.run_matching(database, RunMatching("p1", request_id, caller=hr()), policy=POLICY)
    assert isinstance(report, RunReport)
    return report


async def decline(database: Database, match_id: str, employee_id: str) -> None:
    async with database.transaction() as session:
        await answers.decline_match(
            session, DeclineMatch(match_id, employee_id, "no", caller=person(employee_id)), policy=POLICY
        )


def mentors_of(report: RunReport) -> list[str]:
    return [record.mentor_employee_id for record in report.matches]


async def test_a_declined_pair_is_not_proposed_again_by_the_next_runs(db: Database) -> None:
    await setup(
        db,
        program(),
        enrolled("M1", MENTOR, 8, offers=("python",)),
        enrolled("M2", MENTOR, 8),
        enrolled("E1", MENTEE, 4, wants=("python",)),
    )
    first = await report_of(db, "r1")
    assert mentors_of(first) == ["M1"], "the best mentor first"
    await decline(db, first.matches[0].match_id, "E1")  # the mentee says no

    second = await report_of(db, "r2")
    assert mentors_of(second) == ["M2"], "never M1 again"
    await decline(db, second.matches[0].match_id, "M2")  # the mentor says no (E1 gets no rematch: none left)

    third = await report_of(db, "r3")
    assert third.matches == ()
    (reason,) = [item for item in third.unmatched if item.participant_id == "p1:E1"]
    assert reason.dominant_rule == "declined"
    assert reason.rule_counts["declined"] == 2


async def test_hr_may_pair_a_declined_pair_only_with_an_override_reason(db: Database) -> None:
    await setup(
        db,
        program(),
        enrolled("M1", MENTOR, 8, offers=("python",)),
        enrolled("E1", MENTEE, 4, wants=("python",), nominations=("M1",)),
    )
    first = await report_of(db, "r1")
    await decline(db, first.matches[0].match_id, "M1")

    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as refused:
            await requests.request_nominated_mentor(
                session, RequestNominatedMentor("p1", "p1:E1", "M1", caller=person("E1")), policy=POLICY
            )
    assert refused.value.rule == "declined", "a mentee's request does not bend the rule"

    manual = CreateManualMatch("p1", "p1:M1", ("p1:E1",), "", "hr-1", caller=hr("hr-1"))
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as soft:
            await requests.create_manual_match(session, manual, policy=POLICY)
    assert soft.value.rule == "declined"

    overridden = dataclasses.replace(manual, override_reason="both asked HR for a second try")
    async with db.transaction() as session:
        record = await requests.create_manual_match(session, overridden, policy=POLICY)
    assert (record.mentor_employee_id, record.mentees[0].employee_id) == ("M1", "E1")
    assert record.override_reason == "both asked HR for a second try"


def test_the_rule_is_in_check_pair_and_in_the_solvers(make_person, make_settings) -> None:
    mentor = make_person("m", Role.MENTOR, employee_id="M")
    mentee = make_person("e", employee_id="E", declined_partner_ids=frozenset({"M"}))
    settings = make_settings()
    assert check_pair(mentor, mentee, settings) == ["declined"]
    either_way = make_person("m", Role.MENTOR, employee_id="M", declined_partner_ids=frozenset({"E"}))
    assert check_pair(either_way, make_person("e", employee_id="E"), settings) == ["declined"]

    result = solve(Pool((mentor, mentee)), settings)
    assert result.matches == ()
    (reason,) = result.unmatched[:1]
    assert reason.dominant_rule == "declined"


def test_the_audit_file_takes_declined_partner_ids_and_reports_the_rule() -> None:
    document = _document()
    document["participants"][1]["declined_partner_ids"] = ["E1"]
    document["proposed_matches"] = [{"mentor_id": "m1", "mentee_id": "e1"}]
    report = run_audit(document)
    assert report["matches"] == []
    reasons = {item["participant_id"]: item for item in report["unmatched"]}
    assert reasons["e1"]["rule_counts"] == {"declined": 1}
    assert report["proposed_matches"][0]["violations"] == ["declined"]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("program_format", list(ProgramFormat))
def test_the_vectorised_rule_agrees_with_check_pair_on_every_pair(
    make_pool, make_settings, seed, program_format
) -> None:
    rng = random.Random(seed)
    pool = make_pool(seed, 9, 6, peers=7)
    ids = [person.employee_id for person in pool.participants]
    declining = Pool(
        tuple(
            dataclasses.replace(person, declined_partner_ids=frozenset(rng.sample(ids, rng.randint(0, 4))))
            for person in pool.participants
        )
    )
    reverse = frozenset({"python"}) if program_format is ProgramFormat.REVERSE else frozenset()
    program = make_settings(format=program_format, group_min_size=2, group_max_size=3, reverse_skills=reverse)
    mentors, mentees, _ = gate(declining.participants, program, None)
    index = MentorIndex(mentors, program)
    evaluator = CandidateEvaluator(MenteeBlock(mentees, index), index, program)
    checks = evaluator.rule_checks()
    declined_pairs = 0
    for row, mentee in enumerate(mentees):
        for col, mentor in enumerate(mentors):
            expected = set(check_pair(mentor, mentee, program))
            vectorised = {str(rule) for rule, satisfied in checks if not satisfied[row, col]}
            assert vectorised == expected, (mentor, mentee)
            declined_pairs += "declined" in expected
    assert declined_pairs, "the random pool exercised the rule"
