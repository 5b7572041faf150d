"""One-on-one assignment: the flow solver against an independent brute force, pricing, reasons, quality."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from services.matching.domain import (
    Delivery,
    HardRule,
    Objective,
    Optimality,
    Pool,
    ProgramFormat,
    Role,
    UnmatchedCode,
    check_pair,
    flow,
    score_pair,
    solve,
)
from services.matching.domain.flow import GainRule, solve_assignment


def brute_force(pool: Pool, program) -> tuple[int, int]:
    """Best (matched, score units) by enumerating every assignment, lexicographic per objective."""
    mentors = pool.with_role(Role.MENTOR) if program.format is not ProgramFormat.PEER else ()
    mentees = pool.with_role(Role.MENTEE)
    options = []
    for mentee in mentees:
        allowed = [None]
        for mentor in mentors:
            if mentee.ineligible_reason is None and not check_pair(mentor, mentee, program):
                allowed.append(mentor)
        options.append(allowed)
    best: tuple[int, int] | None = None
    for choice in itertools.product(*options):
        load = Counter(m.participant_id for m in choice if m is not None)
        if any(load[m.participant_id] > m.remaining_capacity for m in mentors):
            continue
        pairs = [(m, e) for m, e in zip(choice, mentees, strict=True) if m is not None]
        units = sum(score_pair(m, e, program).units for m, e in pairs)
        if program.objective is Objective.MAX_SCORE and any(
            score_pair(m, e, program).units < 0 for m, e in pairs
        ):
            continue
        key = (
            (len(pairs), units)
            if program.objective is Objective.MAX_MATCHED_THEN_SCORE
            else (units, len(pairs))
        )
        best = key if best is None or key > best else best
    assert best is not None
    return best if program.objective is Objective.MAX_MATCHED_THEN_SCORE else (best[1], best[0])


def _program(make_settings, objective, **extra):
    fields = {
        "objective": objective,
        "delivery": Delivery.HYBRID,
        "min_overlap_minutes": 60,
        "candidates_per_mentee": 1,
        "candidates_per_mentor": 0,
    }
    return make_settings(**{**fields, **extra})


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(12))
def test_flow_solver_equals_brute_force_optimum(make_pool, make_settings, seed, objective):
    pool = make_pool(seed, 6, 3, max_capacity=2, dense=True)
    program = _program(make_settings, objective)
    expected_matched, expected_units = brute_force(pool, program)
    result = solve(pool, program)
    assert round(result.quality.total_score * 1000) == expected_units
    assert result.quality.matched == expected_matched
    assert result.quality.optimality is Optimality.PROVEN_OPTIMAL
    assert result.quality.share_of_optimum == 1.0
    if objective is Objective.MAX_MATCHED_THEN_SCORE:
        assert result.quality.max_matchable == expected_matched
    for match in result.matches:
        by_id = {p.participant_id: p for p in pool.participants}
        mentor, mentee = by_id[match.mentor_id], by_id[match.mentee_id]
        assert check_pair(mentor, mentee, program) == []
        assert match.score == pytest.approx(sum(match.breakdown.values()))
        assert match.score * 1000 == pytest.approx(score_pair(mentor, mentee, program).units)


def test_brute_force_instances_are_not_trivial(make_pool, make_settings):
    matched = [
        brute_force(make_pool(seed, 6, 3, dense=True), _program(make_settings, Objective.MAX_SCORE))[0]
        for seed in range(12)
    ]
    assert sum(1 for m in matched if m >= 3) >= 6


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(4))
def test_pricing_on_a_pruned_graph_reaches_the_full_graph_optimum(make_pool, make_settings, seed, objective):
    pool = make_pool(100 + seed, 40, 12, max_capacity=3, dense=True)
    full = solve(pool, _program(make_settings, objective, candidates_per_mentee=0))
    pruned = solve(pool, _program(make_settings, objective))
    assert pruned.quality.total_score == pytest.approx(full.quality.total_score, abs=1e-9)
    assert pruned.quality.matched == full.quality.matched
    assert pruned.quality.optimality is Optimality.PROVEN_OPTIMAL
    assert pruned.quality.max_matchable == full.quality.max_matchable


def test_pricing_adds_arcs_when_the_first_graph_is_too_small():
    rng = np.random.default_rng(3)
    scores = rng.integers(-5_000, 90_000, size=(60, 15)).astype(np.int32)
    scores[rng.random(scores.shape) < 0.3] = np.iinfo(np.int32).min
    caps = rng.integers(0, 4, size=15).astype(np.int64)
    for rule in GainRule:
        full = solve_assignment(scores, caps, rule, per_mentee=0)
        priced = solve_assignment(scores, caps, rule, per_mentee=1, per_mentor=0)
        assert priced.proven_optimal and full.proven_optimal
        assert priced.matched == full.matched
        if rule is not GainRule.CARDINALITY:  # pure cardinality ignores scores: ties may differ
            assert priced.score_units == full.score_units
        assert priced.pricing_rounds >= 2
        assert priced.dual_bound_gain == full.dual_bound_gain


def test_after_the_last_pricing_round_the_full_graph_is_solved(monkeypatch):
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 90_000, size=(50, 12)).astype(np.int32)
    caps = rng.integers(1, 3, size=12).astype(np.int64)
    monkeypatch.setattr(flow, "MAX_PRICING_ROUNDS", 1)
    capped = solve_assignment(scores, caps, GainRule.MATCHED_THEN_SCORE, per_mentee=1, per_mentor=0)
    full = solve_assignment(scores, caps, GainRule.MATCHED_THEN_SCORE, per_mentee=0)
    assert capped.proven_optimal and capped.pricing_rounds == 2
    assert (capped.matched, capped.score_units) == (full.matched, full.score_units)
    assert capped.arcs_solved == scores.size


def test_without_certificate_the_pruned_result_is_not_claimed_optimal(make_pool, make_settings):
    pool = make_pool(7, 30, 10, max_capacity=3)
    result = solve(pool, _program(make_settings, Objective.MAX_MATCHED_THEN_SCORE, certify_optimality=False))
    assert result.quality.optimality is Optimality.OPTIMAL_ON_PRUNED_GRAPH
    assert result.quality.share_of_optimum is None


def _blocking_pairs(pool, program, result) -> int:
    by_id = {p.participant_id: p for p in pool.participants}
    partner = {m.mentee_id: m.mentor_id for m in result.matches}
    mentees_of: dict[str, list[str]] = {}
    for match in result.matches:
        mentees_of.setdefault(match.mentor_id, []).append(match.mentee_id)
    count = 0
    for mentee in pool.with_role(Role.MENTEE):
        for mentor in pool.with_role(Role.MENTOR):
            if (
                check_pair(mentor, mentee, program)
                or partner.get(mentee.participant_id) == mentor.participant_id
            ):
                continue
            value = score_pair(mentor, mentee, program).units
            own = partner.get(mentee.participant_id)
            if own is not None and value <= score_pair(by_id[own], mentee, program).units:
                continue
            held = mentees_of.get(mentor.participant_id, [])
            if len(held) >= mentor.remaining_capacity:
                worst = min(score_pair(mentor, by_id[e], program).units for e in held)
                if value <= worst:
                    continue
            count += 1
    return count


@pytest.mark.parametrize("seed", range(5))
def test_blocking_pairs_are_counted_like_the_definition(make_pool, make_settings, seed):
    pool = make_pool(200 + seed, 15, 5)
    program = _program(make_settings, Objective.MAX_MATCHED_THEN_SCORE)
    result = solve(pool, program)
    assert result.quality.blocking_pairs == _blocking_pairs(pool, program, result)


def test_empty_program_returns_a_result(make_settings):
    result = solve(Pool(()), make_settings())
    assert result.matches == () and result.unmatched == ()
    assert result.quality.matched == 0 and result.quality.total_score == 0


def test_program_without_mentors_explains_every_mentee(make_person, make_settings):
    result = solve(Pool((make_person("a"), make_person("b"))), make_settings())
    assert [u.code for u in result.unmatched] == [UnmatchedCode.NO_ELIGIBLE_MENTOR] * 2
    assert "no mentors" in result.unmatched[0].text


def test_unmatched_reasons(make_person, make_settings):
    program = make_settings(delivery=Delivery.REMOTE, min_overlap_minutes=120)
    people = (
        make_person("m1", Role.MENTOR, capacity=1, skills_offered=frozenset({"sql"})),
        make_person("m2", Role.MENTOR, capacity=2, global_cap=2, load_elsewhere=2),
        make_person("m3", Role.MENTOR, timezone="Asia/Tokyo"),
        make_person("e1", skills_wanted=frozenset({"sql"})),
        make_person("e2"),
        make_person("e3", timezone="America/Los_Angeles"),
        make_person("e4", ineligible_reason="probation period"),
        make_person("p1", Role.PEER),
    )
    result = solve(Pool(people), program)
    assert [(m.mentor_id, m.mentee_id) for m in result.matches] == [("m1", "e1")]
    reasons = {u.participant_id: u for u in result.unmatched}
    assert reasons["e2"].code is UnmatchedCode.CAPACITY_EXHAUSTED
    assert reasons["e3"].code is UnmatchedCode.NO_ELIGIBLE_MENTOR
    assert reasons["e3"].dominant_rule == HardRule.TIMEZONE_OVERLAP
    assert reasons["e4"].code is UnmatchedCode.INELIGIBLE and reasons["e4"].text == "probation period"
    assert reasons["m2"].code is UnmatchedCode.NO_REMAINING_CAPACITY
    assert reasons["m3"].code is UnmatchedCode.NO_ELIGIBLE_MENTEE
    assert reasons["m3"].dominant_rule == HardRule.TIMEZONE_OVERLAP
    assert reasons["p1"].code is UnmatchedCode.ROLE_NOT_IN_FORMAT
    assert result.quality.max_matchable == 1


def test_management_chain_dominates_when_every_mentor_is_a_boss(make_person, make_settings):
    mentee = make_person("e", management_chain=("E-b1", "E-b2", "E-b3"))
    bosses = tuple(make_person(f"b{k}", Role.MENTOR) for k in (1, 2, 3))
    result = solve(Pool((mentee, *bosses)), make_settings())
    (reason,) = [u for u in result.unmatched if u.participant_id == "e"]
    assert reason.dominant_rule == HardRule.MANAGEMENT_CHAIN and reason.rule_counts == {"management_chain": 3}


def test_max_score_declines_a_pair_that_only_loses_points(make_person, make_settings):
    program = make_settings(objective=Objective.MAX_SCORE)
    mentor = make_person("m", Role.MENTOR, grade=12, past_partner_ids=frozenset({"E-e"}))
    result = solve(Pool((mentor, make_person("e", grade=1))), program)
    assert result.matches == ()
    assert {u.code for u in result.unmatched} == {UnmatchedCode.SCORE_NOT_BENEFICIAL}
    assert result.quality.max_matchable == 1
    matched_first = solve(Pool((mentor, make_person("e", grade=1))), make_settings())
    assert len(matched_first.matches) == 1 and matched_first.matches[0].score < 0


def test_eligibility_hook_turns_people_away(make_person, make_settings):
    pool = Pool((make_person("m", Role.MENTOR), make_person("e")))
    result = solve(
        pool, make_settings(), eligibility=lambda p: "not in scope" if p.role is Role.MENTOR else None
    )
    assert result.matches == ()
    assert {(u.participant_id, u.code) for u in result.unmatched} == {
        ("m", UnmatchedCode.INELIGIBLE),
        ("e", UnmatchedCode.NO_ELIGIBLE_MENTOR),
    }


def test_reverse_program_matches_junior_mentors(make_person, make_settings):
    program = make_settings(format=ProgramFormat.REVERSE, reverse_skills=frozenset({"ai"}))
    pool = Pool(
        (
            make_person("junior", Role.MENTOR, grade=2, skills_offered=frozenset({"ai"})),
            make_person("vp", grade=10, skills_wanted=frozenset({"ai"})),
            make_person("peer", grade=2, skills_wanted=frozenset({"ai"})),
        )
    )
    result = solve(pool, program)
    assert [(m.mentor_id, m.mentee_id) for m in result.matches] == [("junior", "vp")]
    (reason,) = [u for u in result.unmatched if u.participant_id == "peer"]
    assert reason.dominant_rule == HardRule.SENIORITY
