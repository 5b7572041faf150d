"""Hard rules: one test per rule through ``check_pair``, and the vectorised twin agreeing on every pair."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from services.matching.domain import (
    Delivery,
    HardRule,
    Participant,
    ProgramFormat,
    Role,
    check_pair,
)
from services.matching.domain.candidates import CandidateEvaluator
from services.matching.domain.encoding import MenteeBlock, MentorIndex
from services.matching.domain.reasons import gate
from services.matching.domain.rules import overlap_minutes, utc_offset_minutes, working_interval_utc
from services.shared.errors import InvalidArgument


def test_a_valid_pair_breaks_no_rule(make_person, make_settings):
    assert check_pair(make_person("m", Role.MENTOR), make_person("e"), make_settings()) == []


def test_self_by_participant_or_employee_id(make_person, make_settings):
    mentor = make_person("m", Role.MENTOR, employee_id="E1")
    same_employee = make_person("e", employee_id="E1")
    assert HardRule.SELF in check_pair(mentor, same_employee, make_settings())
    assert HardRule.SELF not in check_pair(mentor, make_person("e2"), make_settings())


def _chain(prefix: str, depth: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{level}" for level in range(depth))


@pytest.mark.parametrize("depth", [1, 2, 6])
def test_mentor_anywhere_in_the_mentees_chain_is_refused(make_person, make_settings, depth):
    chain = _chain("BOSS", 6)
    mentee = make_person("e", management_chain=chain)
    mentor = make_person("m", Role.MENTOR, employee_id=chain[depth - 1], grade=9)
    assert check_pair(mentor, mentee, make_settings()) == [HardRule.MANAGEMENT_CHAIN]


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_mentee_anywhere_in_the_mentors_chain_is_refused(make_person, make_settings, depth):
    # Reverse programs put a junior mentor under a senior mentee: the chain rule holds either way.
    chain = _chain("BOSS", 6)
    mentor = make_person("m", Role.MENTOR, grade=3, management_chain=chain, skills_offered=frozenset({"ai"}))
    mentee = make_person("e", employee_id=chain[depth - 1], grade=9, skills_wanted=frozenset({"ai"}))
    program = make_settings(format=ProgramFormat.REVERSE, reverse_skills=frozenset({"ai"}))
    assert check_pair(mentor, mentee, program) == [HardRule.MANAGEMENT_CHAIN]


def test_unrelated_chains_do_not_matter(make_person, make_settings):
    mentee = make_person("e", management_chain=("X1", "X2", "TOP"))
    mentor = make_person("m", Role.MENTOR, management_chain=("Y1", "TOP"))
    assert check_pair(mentor, mentee, make_settings()) == []


def test_capacity_in_this_program(make_person, make_settings):
    mentor = make_person("m", Role.MENTOR, capacity=2)
    assert check_pair(mentor, make_person("e"), make_settings(), mentor_current_load=1) == []
    assert check_pair(mentor, make_person("e"), make_settings(), mentor_current_load=2) == [HardRule.CAPACITY]
    assert check_pair(make_person("z", Role.MENTOR, capacity=0), make_person("e"), make_settings()) == [
        HardRule.CAPACITY
    ]


def test_capacity_across_two_programs(make_person, make_settings):
    # A mentor with a global cap of 3 who already has 2 matches in program A has one seat left in B,
    # whatever capacity B offers; with 3 matches in A, B has none.
    in_b = make_person("m", Role.MENTOR, capacity=4, global_cap=3, load_elsewhere=2)
    assert in_b.remaining_capacity == 1
    assert check_pair(in_b, make_person("e"), make_settings()) == []
    assert check_pair(in_b, make_person("e"), make_settings(), mentor_current_load=1) == [HardRule.CAPACITY]
    saturated = make_person("m2", Role.MENTOR, capacity=4, global_cap=3, load_elsewhere=3)
    assert saturated.remaining_capacity == 0
    assert check_pair(saturated, make_person("e"), make_settings()) == [HardRule.CAPACITY]
    overloaded = make_person("m3", Role.MENTOR, capacity=4, global_cap=3, load_elsewhere=5)
    assert overloaded.remaining_capacity == 0


def test_mentee_at_their_own_global_cap(make_person, make_settings):
    busy = make_person("e", global_cap=1, load_elsewhere=1)
    assert check_pair(make_person("m", Role.MENTOR), busy, make_settings()) == [HardRule.CAPACITY]


def test_group_mentor_needs_room_for_a_whole_group(make_person, make_settings):
    program = make_settings(format=ProgramFormat.GROUP, group_min_size=3, group_max_size=5)
    assert check_pair(make_person("m", Role.MENTOR, capacity=2), make_person("e"), program) == [
        HardRule.CAPACITY
    ]
    assert check_pair(make_person("m", Role.MENTOR, capacity=3), make_person("e"), program) == []
    # An existing group of 4 with capacity 8 still has one seat (group max 5).
    big = make_person("b", Role.MENTOR, capacity=8)
    assert check_pair(big, make_person("e"), program, mentor_current_load=4) == []
    assert check_pair(big, make_person("e"), program, mentor_current_load=5) == [HardRule.CAPACITY]


@pytest.mark.parametrize(
    "program_format", [ProgramFormat.ONE_ON_ONE, ProgramFormat.GROUP, ProgramFormat.SPEED]
)
def test_mentor_must_be_strictly_more_senior(make_person, make_settings, program_format):
    program = make_settings(format=program_format, group_min_size=1)
    assert check_pair(make_person("m", Role.MENTOR, grade=5), make_person("e", grade=4), program) == []
    assert check_pair(make_person("m", Role.MENTOR, grade=4), make_person("e", grade=4), program) == [
        HardRule.SENIORITY
    ]
    assert check_pair(make_person("m", Role.MENTOR, grade=3), make_person("e", grade=4), program) == [
        HardRule.SENIORITY
    ]


def test_reverse_mentor_is_junior_and_teaches_the_named_skill(make_person, make_settings):
    program = make_settings(
        format=ProgramFormat.REVERSE, reverse_skills=frozenset({"Generative AI", "tiktok"})
    )
    junior = make_person("m", Role.MENTOR, grade=2, skills_offered=frozenset({"generative ai", "sql"}))
    senior = make_person("e", grade=9, skills_wanted=frozenset({"generative  AI"}))
    assert check_pair(junior, senior, program) == []
    wants_other = make_person("e2", grade=9, skills_wanted=frozenset({"sql"}))
    assert check_pair(junior, wants_other, program) == [HardRule.REVERSE_SKILL]
    same_grade = make_person("e3", grade=2, skills_wanted=frozenset({"generative ai"}))
    assert check_pair(junior, same_grade, program) == [HardRule.SENIORITY]
    not_teaching = make_person("m2", Role.MENTOR, grade=2, skills_offered=frozenset({"tiktok"}))
    assert check_pair(not_teaching, senior, program) == [HardRule.REVERSE_SKILL]


def test_reverse_program_must_name_a_skill():
    with pytest.raises(InvalidArgument) as error:
        from services.matching.domain import ProgramSettings

        ProgramSettings(format=ProgramFormat.REVERSE)
    assert error.value.field == "reverse_skills"


@pytest.mark.parametrize(
    ("difference", "allowed"), [(0, True), (1, True), (2, True), (3, False), (-3, False)]
)
def test_peer_grade_tolerance_edges(make_person, make_settings, difference, allowed):
    program = make_settings(format=ProgramFormat.PEER, peer_grade_tolerance=2)
    a = make_person("a", Role.PEER, grade=5)
    b = make_person("b", Role.PEER, grade=5 + difference)
    expected = [] if allowed else [HardRule.PEER_GRADE]
    assert check_pair(a, b, program) == expected
    assert check_pair(b, a, program) == expected


def test_roles_must_fit_the_format(make_person, make_settings):
    assert check_pair(make_person("m", Role.MENTEE, grade=8), make_person("e"), make_settings()) == [
        HardRule.ROLE
    ]
    peer_program = make_settings(format=ProgramFormat.PEER)
    assert HardRule.ROLE in check_pair(
        make_person("m", Role.MENTOR), make_person("e", Role.PEER), peer_program
    )


def test_ineligible_people_are_refused(make_person, make_settings):
    mentor = make_person("m", Role.MENTOR, ineligible_reason="on leave")
    assert check_pair(mentor, make_person("e"), make_settings()) == [HardRule.ELIGIBILITY]


def test_timezone_overlap_berlin_new_york_in_winter_and_summer(make_person, make_settings):
    berlin = make_person("m", Role.MENTOR, timezone="Europe/Berlin")
    new_york = make_person("e", timezone="America/New_York")
    # Winter: 08-16 UTC vs 14-22 UTC -> 2 hours.
    assert check_pair(berlin, new_york, make_settings(min_overlap_minutes=120)) == []
    assert check_pair(berlin, new_york, make_settings(min_overlap_minutes=121)) == [HardRule.TIMEZONE_OVERLAP]
    summer = date(2025, 7, 1)
    assert utc_offset_minutes(berlin, summer) == 120
    assert utc_offset_minutes(new_york, summer) == -240
    assert check_pair(berlin, new_york, make_settings(min_overlap_minutes=120, reference_date=summer)) == []


def test_overlap_wraps_around_midnight(make_person):
    tokyo = make_person("a", timezone="Asia/Tokyo")  # 09-17 JST = 00-08 UTC
    night_shift = make_person("b", utc_offset_minutes=0, work_start_minute=22 * 60, work_end_minute=2 * 60)
    reference = date(2025, 1, 15)
    assert working_interval_utc(tokyo, reference) == (0, 480)
    assert working_interval_utc(night_shift, reference) == (1320, 1560)
    assert (
        overlap_minutes(working_interval_utc(tokyo, reference), working_interval_utc(night_shift, reference))
        == 120
    )


def test_explicit_offset_wins_over_timezone(make_person):
    someone = make_person("a", timezone="Asia/Tokyo", utc_offset_minutes=-300)
    assert utc_offset_minutes(someone, date(2025, 1, 15)) == -300


def test_unknown_timezone_is_an_invalid_argument(make_person):
    with pytest.raises(InvalidArgument):
        utc_offset_minutes(make_person("a", timezone="Mars/Olympus"), date(2025, 1, 15))


def test_in_person_needs_the_same_known_location(make_person, make_settings):
    program = make_settings(delivery=Delivery.IN_PERSON)
    assert (
        check_pair(
            make_person("m", Role.MENTOR, location="paris"), make_person("e", location="paris"), program
        )
        == []
    )
    assert check_pair(
        make_person("m", Role.MENTOR, location="paris"), make_person("e", location="rome"), program
    ) == [HardRule.LOCATION]
    assert check_pair(make_person("m", Role.MENTOR, location=""), make_person("e", location=""), program) == [
        HardRule.LOCATION
    ]


def test_hybrid_accepts_same_location_or_overlap(make_person, make_settings):
    program = make_settings(delivery=Delivery.HYBRID, min_overlap_minutes=60)
    far = dict(timezone="Asia/Tokyo")
    assert (
        check_pair(
            make_person("m", Role.MENTOR, location="paris", **far),
            make_person("e", location="paris"),
            program,
        )
        == []
    )
    assert (
        check_pair(
            make_person("m", Role.MENTOR, location="rome"), make_person("e", location="paris"), program
        )
        == []
    )
    assert check_pair(
        make_person("m", Role.MENTOR, location="rome", **far), make_person("e", location="paris"), program
    ) == [
        HardRule.LOCATION,
        HardRule.TIMEZONE_OVERLAP,
    ]


def test_at_least_one_shared_language(make_person, make_settings):
    mentor = make_person("m", Role.MENTOR, languages=frozenset({"German", "french"}))
    assert check_pair(mentor, make_person("e", languages=frozenset({"german"})), make_settings()) == []
    assert check_pair(mentor, make_person("e", languages=frozenset({"english"})), make_settings()) == [
        HardRule.LANGUAGE
    ]
    assert check_pair(mentor, make_person("e", languages=frozenset()), make_settings()) == [HardRule.LANGUAGE]


def _program_settings(make_settings, program_format: ProgramFormat, delivery: Delivery):
    return make_settings(
        format=program_format,
        delivery=delivery,
        reverse_skills=frozenset({"python", "ml"})
        if program_format is ProgramFormat.REVERSE
        else frozenset(),
        group_min_size=2,
        group_max_size=3,
        min_overlap_minutes=180,
        peer_grade_tolerance=1,
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("program_format", "delivery"),
    [(f, d) for f in ProgramFormat for d in Delivery],
)
def test_vectorised_rules_agree_with_check_pair_on_every_pair(
    make_pool, make_settings, seed, program_format, delivery
):
    program = _program_settings(make_settings, program_format, delivery)
    pool = make_pool(seed, 9, 6, peers=7)
    mentors, mentees, _ = gate(pool.participants, program, None)
    index = MentorIndex(mentors, program)
    evaluator = CandidateEvaluator(MenteeBlock(mentees, index), index, program)
    feasible = evaluator.feasible()
    checks = evaluator.rule_checks()
    for row, mentee in enumerate(mentees):
        for col, mentor in enumerate(mentors):
            expected = set(check_pair(mentor, mentee, program))
            vectorised = {str(rule) for rule, satisfied in checks if not satisfied[row, col]}
            assert vectorised == expected, (mentor, mentee)
            assert bool(feasible[row, col]) == (not expected)


def test_rule_counts_name_the_rule_that_alone_excludes_most(make_person, make_settings):
    program = make_settings()
    mentee = make_person("e", languages=frozenset({"english"}))
    mentors = [
        make_person("m1", Role.MENTOR, languages=frozenset({"german"})),
        make_person("m2", Role.MENTOR, languages=frozenset({"german"})),
        make_person("m3", Role.MENTOR, grade=1, languages=frozenset({"german"})),
        make_person("m4", Role.MENTOR, grade=1),
    ]
    index = MentorIndex(mentors, program)
    evaluator = CandidateEvaluator(MenteeBlock([mentee], index), index, program)
    totals, alone = evaluator.rule_counts(rows=np.array([0]), axis=1)
    assert totals[HardRule.LANGUAGE][0] == 3 and alone[HardRule.LANGUAGE][0] == 2
    assert totals[HardRule.SENIORITY][0] == 2 and alone[HardRule.SENIORITY][0] == 1


def test_participant_validation_names_the_field():
    with pytest.raises(InvalidArgument) as error:
        Participant("p", "e", Role.MENTEE, 3, nominations=tuple(f"n{k}" for k in range(11)))
    assert error.value.field == "nominations"
    with pytest.raises(InvalidArgument) as error:
        Participant("p", "e", Role.MENTEE, 3, work_start_minute=600, work_end_minute=600)
    assert error.value.field == "work_end_minute"
