"""Must-haves and the do-not-pair list: hard rules in ``check_pair``, its vectorised twin, the solvers,
the unmatched reasons and the audit file."""

from __future__ import annotations

import dataclasses
import random

import pytest

from services.matching.domain import Delivery, HardRule, Pool, ProgramFormat, Role, check_pair, solve
from services.matching.domain.audit import load_program, run_audit
from services.matching.domain.audit_export import export_program
from services.matching.domain.candidates import CandidateEvaluator
from services.matching.domain.encoding import MenteeBlock, MentorIndex
from services.matching.domain.reasons import gate
from services.shared.errors import InvalidArgument


def test_each_must_have_is_its_own_rule(make_person, make_settings):
    program = make_settings()
    mentor = make_person(
        "m", Role.MENTOR, skills_offered=frozenset({"python"}), languages=frozenset({"english"}), grade=7
    )
    assert check_pair(mentor, make_person("e", must_have_skills=frozenset({"Python"})), program) == []
    assert check_pair(mentor, make_person("e", must_have_skills=frozenset({"python", "sql"})), program) == [
        HardRule.MUST_HAVE_SKILL
    ]
    assert check_pair(mentor, make_person("e", must_have_languages=frozenset({"german"})), program) == [
        HardRule.MUST_HAVE_LANGUAGE
    ]
    assert check_pair(mentor, make_person("e", must_have_min_grade=8), program) == [HardRule.MUST_HAVE_GRADE]
    assert check_pair(mentor, make_person("e", must_have_min_grade=7), program) == []


def test_must_share_location_is_honoured_even_for_remote_delivery(make_person, make_settings):
    program = make_settings(delivery=Delivery.REMOTE)
    mentor = make_person("m", Role.MENTOR, location="Berlin")
    assert check_pair(mentor, make_person("e", location="paris"), program) == []
    assert check_pair(mentor, make_person("e", location="paris", must_share_location=True), program) == [
        HardRule.MUST_HAVE_LOCATION
    ]
    assert check_pair(mentor, make_person("e", location="berlin", must_share_location=True), program) == []
    nowhere = make_person("m2", Role.MENTOR, location="")
    assert check_pair(nowhere, make_person("e", location="", must_share_location=True), program) == [
        HardRule.MUST_HAVE_LOCATION
    ]


def test_do_not_pair_binds_either_way(make_person, make_settings):
    program = make_settings()
    mentor = make_person("m", Role.MENTOR)
    assert check_pair(mentor, make_person("e", do_not_pair_ids=frozenset({"E-m"})), program) == [
        HardRule.DO_NOT_PAIR
    ]
    listed = make_person("m", Role.MENTOR, do_not_pair_ids=frozenset({"E-e"}))
    assert check_pair(listed, make_person("e"), program) == [HardRule.DO_NOT_PAIR]


def _with_must_haves(pool: Pool, seed: int) -> Pool:
    rng = random.Random(seed)
    ids = [p.employee_id for p in pool.participants]
    people = []
    for person in pool.participants:
        people.append(
            dataclasses.replace(
                person,
                must_have_skills=frozenset(rng.sample(["python", "sql", "ml", "unknown"], rng.randint(0, 1))),
                must_have_languages=frozenset(rng.sample(["english", "german"], rng.randint(0, 1))),
                must_share_location=rng.random() < 0.3,
                must_have_min_grade=rng.choice([None, None, 5, 7]),
                do_not_pair_ids=frozenset(rng.sample(ids, rng.randint(0, 3))),
            )
        )
    return Pool(tuple(people))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("program_format", "delivery"), [(f, d) for f in ProgramFormat for d in Delivery])
def test_vectorised_must_haves_agree_with_check_pair(
    make_pool, make_settings, seed, program_format, delivery
):
    program = make_settings(
        format=program_format,
        delivery=delivery,
        reverse_skills=frozenset({"python", "ml"})
        if program_format is ProgramFormat.REVERSE
        else frozenset(),
        group_min_size=2,
        group_max_size=3,
    )
    pool = _with_must_haves(make_pool(seed, 9, 6, peers=7, dense=True), seed)
    mentors, mentees, _ = gate(pool.participants, program, None)
    index = MentorIndex(mentors, program)
    evaluator = CandidateEvaluator(MenteeBlock(mentees, index), index, program)
    feasible = evaluator.feasible()
    checks = evaluator.rule_checks()
    for row, mentee in enumerate(mentees):
        for col, mentor in enumerate(mentors):
            expected = set(check_pair(mentor, mentee, program))
            assert {str(rule) for rule, ok in checks if not ok[row, col]} == expected, (mentor, mentee)
            assert bool(feasible[row, col]) == (not expected)


@pytest.mark.parametrize(
    "program_format", [ProgramFormat.ONE_ON_ONE, ProgramFormat.GROUP, ProgramFormat.PEER]
)
@pytest.mark.parametrize("seed", range(3))
def test_solvers_never_form_a_pair_that_misses_a_must_have(make_pool, make_settings, seed, program_format):
    program = make_settings(
        format=program_format, group_min_size=1, group_max_size=3, candidates_per_mentee=0
    )
    pool = _with_must_haves(make_pool(seed, 30, 12, peers=20, dense=True), seed)
    by_id = {p.participant_id: p for p in pool.participants}
    result = solve(pool, program)
    assert result.matches
    for match in result.matches:
        mentor, mentee = by_id[match.mentor_id], by_id[match.mentee_id]
        assert check_pair(mentor, mentee, program, mentor_current_load=0) in ([], [HardRule.CAPACITY])
        if program_format is ProgramFormat.PEER:
            assert not check_pair(mentee, mentor, program) or check_pair(mentee, mentor, program) == [
                HardRule.CAPACITY
            ]


def test_unmatched_mentee_is_told_which_must_have_excluded_most(make_person, make_settings):
    program = make_settings()
    mentors = [
        make_person(f"m{k}", Role.MENTOR, skills_offered=frozenset({"sql"}), grade=6 + (k == 0))
        for k in range(4)
    ]
    mentee = make_person("e", must_have_skills=frozenset({"python"}), must_have_min_grade=7)
    result = solve(Pool((*mentors, mentee)), program)
    assert not result.matches
    (reason,) = [u for u in result.unmatched if u.participant_id == "e"]
    assert reason.dominant_rule == HardRule.MUST_HAVE_SKILL
    assert reason.rule_counts == {HardRule.MUST_HAVE_SKILL: 4, HardRule.MUST_HAVE_GRADE: 3}
    assert "must_have_skill" in reason.text


def test_audit_file_carries_must_haves_and_refuses_a_wrong_type(make_person, make_settings):
    program = make_settings()
    mentor = make_person("m", Role.MENTOR, location="berlin")
    mentee = make_person(
        "e",
        must_share_location=True,
        must_have_min_grade=3,
        must_have_skills=frozenset({"sql"}),
        do_not_pair_ids=frozenset({"E-x"}),
    )
    document = export_program(Pool((mentor, mentee)), program)
    pool, _ = load_program(document)
    assert pool.participants[1] == mentee
    report = run_audit(document)
    assert report["unmatched"][0]["dominant_rule"] == "must_have_skill"
    document["participants"][1]["must_share_location"] = "yes"
    with pytest.raises(InvalidArgument) as error:
        load_program(document)
    assert error.value.field == "participants[1].must_share_location"
