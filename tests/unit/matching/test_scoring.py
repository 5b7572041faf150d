"""Soft score: each component, and the vectorised scores equal to the one-pair reference everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from services.matching.domain import (
    SCORE_SCALE,
    Delivery,
    ProgramFormat,
    Role,
    ScoringWeights,
    score_pair,
    score_peers,
)
from services.matching.domain.candidates import CandidateEvaluator, candidate_matrix
from services.matching.domain.encoding import MenteeBlock, MentorIndex
from services.matching.domain.reasons import gate


def test_skills_and_goals_are_coverage_of_the_mentee_needs(make_person, make_settings):
    mentee = make_person(
        "e",
        skills_wanted=frozenset({"sql", "python", "ml", "design"}),
        goal_skill_tags=frozenset({"ml", "finance"}),
    )
    narrow = make_person("m", Role.MENTOR, skills_offered=frozenset({"sql", "python"}))
    broad = make_person(
        "b", Role.MENTOR, skills_offered=frozenset({"sql", "python", "ml", "design", "finance", "x"})
    )
    program = make_settings(
        weights=ScoringWeights(skills=40, goals=20, nomination=0, diversity=0, seniority_gap=0)
    )
    assert score_pair(narrow, mentee, program).points["skills"] == pytest.approx(20.0)
    assert score_pair(narrow, mentee, program).points["goals"] == 0
    # Offering more never costs points (coverage, not Jaccard).
    assert score_pair(broad, mentee, program).points == {
        "skills": 40.0,
        "goals": 20.0,
        "nomination": 0,
        "diversity": 0,
        "seniority_gap": 0,
        "repeat_pairing": 0,
    }


def test_full_coverage_never_exceeds_the_weight(make_person, make_settings):
    mentee = make_person("e", skills_wanted=frozenset({"a", "b", "c"}))
    mentor = make_person("m", Role.MENTOR, skills_offered=frozenset({"a", "b", "c"}))
    points = score_pair(mentor, mentee, make_settings()).points["skills"]
    assert 35 - 0.003 <= points <= 35


@pytest.mark.parametrize(("rank", "points"), [(0, 20.0), (1, 18.0), (9, 2.0)])
def test_nomination_is_rank_weighted(make_person, make_settings, rank, points):
    others = [f"X{k}" for k in range(10)]
    others[rank] = "E-m"
    mentee = make_person("e", nominations=tuple(others))
    assert score_pair(make_person("m", Role.MENTOR), mentee, make_settings()).points["nomination"] == points


def test_diversity_counts_when_either_asks_and_departments_differ(make_person, make_settings):
    program = make_settings()
    asks = make_person("e", department="it", prefers_other_department=True)
    assert (
        score_pair(make_person("m", Role.MENTOR, department="ops"), asks, program).points["diversity"] == 10
    )
    assert score_pair(make_person("m", Role.MENTOR, department="it"), asks, program).points["diversity"] == 0
    assert score_pair(make_person("m", Role.MENTOR, department=""), asks, program).points["diversity"] == 0
    quiet = make_person("e", department="it")
    assert (
        score_pair(make_person("m", Role.MENTOR, department="ops"), quiet, program).points["diversity"] == 0
    )
    mentor_asks = make_person("m", Role.MENTOR, department="ops", prefers_other_department=True)
    assert score_pair(mentor_asks, quiet, program).points["diversity"] == 10


@pytest.mark.parametrize(("gap", "points"), [(1, 10.0), (3, 10.0), (4, 7.5), (5, 5.0), (7, 0.0), (9, 0.0)])
def test_seniority_gap_prefers_one_to_three_grades(make_person, make_settings, gap, points):
    mentor = make_person("m", Role.MENTOR, grade=2 + gap)
    assert score_pair(mentor, make_person("e", grade=2), make_settings()).points["seniority_gap"] == points


def test_reverse_gap_is_measured_the_other_way(make_person, make_settings):
    program = make_settings(format=ProgramFormat.REVERSE, reverse_skills=frozenset({"ai"}))
    assert (
        score_pair(make_person("m", Role.MENTOR, grade=3), make_person("e", grade=5), program).points[
            "seniority_gap"
        ]
        == 10
    )


def test_repeat_pairing_is_a_penalty_either_way(make_person, make_settings):
    program = make_settings()
    mentee = make_person("e", past_partner_ids=frozenset({"E-m"}))
    assert score_pair(make_person("m", Role.MENTOR), mentee, program).points["repeat_pairing"] == -30
    mentor = make_person("m", Role.MENTOR, past_partner_ids=frozenset({"E-e"}))
    assert score_pair(mentor, make_person("e"), program).points["repeat_pairing"] == -30


def test_total_is_the_sum_of_the_components(make_person, make_settings):
    mentee = make_person(
        "e", skills_wanted=frozenset({"sql"}), nominations=("E-m",), prefers_other_department=True
    )
    mentor = make_person("m", Role.MENTOR, skills_offered=frozenset({"sql"}), department="x")
    breakdown = score_pair(mentor, mentee, make_settings())
    assert breakdown.units == sum(breakdown.component_units.values())
    assert breakdown.total == pytest.approx(sum(breakdown.points.values()))


def test_peer_score_is_symmetric(make_person, make_settings):
    program = make_settings(format=ProgramFormat.PEER)
    a = make_person("a", Role.PEER, skills_offered=frozenset({"sql"}), skills_wanted=frozenset({"ml"}))
    b = make_person("b", Role.PEER, skills_offered=frozenset({"ml"}), skills_wanted=frozenset({"sql", "x"}))
    assert score_peers(a, b, program) == score_peers(b, a, program)
    assert (
        score_peers(a, b, program).units == score_pair(a, b, program).units + score_pair(b, a, program).units
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("program_format", list(ProgramFormat))
def test_vectorised_scores_and_breakdowns_equal_the_reference(make_pool, make_settings, seed, program_format):
    program = make_settings(
        format=program_format,
        delivery=Delivery.HYBRID,
        reverse_skills=frozenset({"python"}) if program_format is ProgramFormat.REVERSE else frozenset(),
        weights=ScoringWeights(
            skills=33.3, goals=21.7, nomination=17, diversity=9.9, seniority_gap=11, repeat_pairing=7
        ),
    )
    pool = make_pool(seed, 8, 5, peers=6)
    mentors, mentees, _ = gate(pool.participants, program, None)
    index = MentorIndex(mentors, program)
    evaluator = CandidateEvaluator(MenteeBlock(mentees, index), index, program)
    scores = evaluator.scores()
    masked = candidate_matrix(evaluator, chunk=3)
    rows, cols = np.meshgrid(np.arange(len(mentees)), np.arange(len(mentors)), indexing="ij")
    breakdowns = evaluator.breakdowns(rows.ravel(), cols.ravel())
    for k, (row, col) in enumerate(zip(rows.ravel(), cols.ravel(), strict=True)):
        reference = score_pair(mentors[col], mentees[row], program)
        assert int(scores[row, col]) == reference.units
        assert breakdowns[k] == reference
        assert masked[row, col] in (reference.units, np.iinfo(np.int32).min)
    assert reference.total == reference.units / SCORE_SCALE
