"""Mentee-choice programs (deferred acceptance) and one mentor per requested skill area."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from services.matching.domain import (
    Delivery,
    HardRule,
    Objective,
    Pool,
    ProgramFormat,
    Role,
    UnmatchedCode,
    check_pair,
    score_pair,
    solve,
)
from services.matching.domain.choice import deferred_acceptance


def _choice_program(make_settings, **extra):
    return make_settings(mentee_choice=True, delivery=Delivery.HYBRID, min_overlap_minutes=60, **extra)


def _lists(pool, program):
    """Independent preference lists: each mentee's feasible nominations in order; mentor keys by score."""
    mentors = {m.employee_id: m for m in pool.with_role(Role.MENTOR)}
    mentees = pool.with_role(Role.MENTEE)
    ranked = {
        e.participant_id: [
            mentors[n].participant_id
            for n in e.nominations
            if n in mentors and not check_pair(mentors[n], e, program)
        ]
        for e in mentees
    }
    order = {e.participant_id: k for k, e in enumerate(mentees)}
    by_id = {p.participant_id: p for p in pool.participants}

    def key(mentor_id, mentee_id):
        return (score_pair(by_id[mentor_id], by_id[mentee_id], program).units, -order[mentee_id])

    return ranked, key, by_id


def _blocking(pool, program, partner_of) -> list[tuple[str, str]]:
    ranked, key, by_id = _lists(pool, program)
    held: dict[str, list[str]] = {}
    for mentee_id, mentor_id in partner_of.items():
        held.setdefault(mentor_id, []).append(mentee_id)
    found = []
    for mentee_id, listed in ranked.items():
        for mentor_id in listed:
            if partner_of.get(mentee_id) == mentor_id:
                break
            seats = held.get(mentor_id, [])
            if len(seats) < by_id[mentor_id].remaining_capacity or key(mentor_id, mentee_id) > min(
                key(mentor_id, e) for e in seats
            ):
                found.append((mentee_id, mentor_id))
    return found


def _dense_nominating_pool(make_pool, seed, mentees, mentors):
    """Random pool whose mentees nominate mentors of this program (employee ids of mentors)."""
    pool = make_pool(seed, mentees, mentors, max_capacity=2, dense=True)
    rng = np.random.default_rng(seed)
    mentor_ids = [m.employee_id for m in pool.with_role(Role.MENTOR)]
    people = []
    for p in pool.participants:
        if p.role is Role.MENTEE:
            picks = rng.permutation(mentor_ids)[: rng.integers(1, len(mentor_ids) + 1)]
            p = p.__class__(
                **{**{f: getattr(p, f) for f in p.__dataclass_fields__}, "nominations": tuple(picks)}
            )
        people.append(p)
    return Pool(tuple(people))


@pytest.mark.parametrize("seed", range(10))
def test_deferred_acceptance_is_stable_and_respects_choices(make_pool, make_settings, seed):
    pool = _dense_nominating_pool(make_pool, 800 + seed, 12, 4)
    program = _choice_program(make_settings)
    result = solve(pool, program)
    partner_of = {m.mentee_id: m.mentor_id for m in result.matches}
    ranked, _, by_id = _lists(pool, program)
    assert _blocking(pool, program, partner_of) == []
    assert result.quality.blocking_pairs == 0
    assert result.quality.details["stable"] == 1
    for mentee_id, mentor_id in partner_of.items():
        assert mentor_id in ranked[mentee_id]
    for mentor_id, count in Counter(partner_of.values()).items():
        assert count <= by_id[mentor_id].remaining_capacity
    assert result.quality.optimum_score is not None
    assert (
        0
        < result.quality.matched
        <= result.quality.details["optimum_matched"]
        == result.quality.max_matchable
    )
    if result.quality.matched == result.quality.max_matchable:
        assert result.quality.total_score <= result.quality.optimum_score + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_deferred_acceptance_gives_each_mentee_its_best_stable_mentor(make_pool, make_settings, seed):
    pool = _dense_nominating_pool(make_pool, 900 + seed, 5, 3)
    program = _choice_program(make_settings)
    result = solve(pool, program)
    got = {m.mentee_id: m.mentor_id for m in result.matches}
    ranked, _, by_id = _lists(pool, program)
    mentees = list(ranked)
    stable = []
    for choice in itertools.product(*[[None, *ranked[e]] for e in mentees]):
        partner_of = {e: m for e, m in zip(mentees, choice, strict=True) if m is not None}
        if any(n > by_id[m].remaining_capacity for m, n in Counter(partner_of.values()).items()):
            continue
        if not _blocking(pool, program, partner_of):
            stable.append(partner_of)
    assert got in stable
    for mentee_id in mentees:
        position = {m: k for k, m in enumerate(ranked[mentee_id])}
        mine = position.get(got.get(mentee_id), len(position))
        assert all(mine <= position.get(s.get(mentee_id), len(position)) for s in stable)


def test_deferred_acceptance_handles_rejections():
    preferences = [[0, 1], [0], [0, 1]]
    priority = np.array([[5, 1], [9, 0], [7, 8]], dtype=np.int32)
    mentor_of = deferred_acceptance(preferences, priority, np.array([1, 1], dtype=np.int64))
    assert mentor_of.tolist() == [-1, 0, 1]


def test_choice_reasons(make_person, make_settings):
    program = _choice_program(make_settings)
    pool = Pool(
        (
            make_person("star", Role.MENTOR, capacity=1, skills_offered=frozenset({"sql"})),
            make_person("boss", Role.MENTOR),
            make_person("quiet", Role.MENTOR, capacity=1),
            make_person("a", nominations=("E-star",), skills_wanted=frozenset({"sql"})),
            make_person("b", nominations=("E-star",)),
            make_person("c", nominations=("E-boss",), management_chain=("E-boss",)),
            make_person("d"),
        )
    )
    result = solve(pool, program)
    assert [(m.mentor_id, m.mentee_id) for m in result.matches] == [("star", "a")]
    reasons = {u.participant_id: u for u in result.unmatched}
    assert reasons["b"].code is UnmatchedCode.NOMINATIONS_FULL
    assert reasons["c"].code is UnmatchedCode.NO_FEASIBLE_NOMINATION
    assert reasons["c"].dominant_rule == HardRule.MANAGEMENT_CHAIN
    assert reasons["d"].code is UnmatchedCode.NO_NOMINATIONS
    assert reasons["quiet"].code is UnmatchedCode.NOT_CHOSEN
    assert result.quality.max_matchable == 3


def test_fallback_to_scores_extends_the_lists(make_person, make_settings):
    program = _choice_program(make_settings, choice_fallback_to_scores=True)
    pool = Pool((make_person("m", Role.MENTOR), make_person("e")))
    assert [(m.mentor_id, m.mentee_id) for m in solve(pool, program).matches] == [("m", "e")]


def _multi_program(make_settings, objective=Objective.MAX_MATCHED_THEN_SCORE):
    return make_settings(
        multi_mentor_per_skill=True, delivery=Delivery.HYBRID, min_overlap_minutes=60, objective=objective
    )


def _multi_brute_force(pool, program) -> tuple[int, int]:
    mentors, mentees = pool.with_role(Role.MENTOR), pool.with_role(Role.MENTEE)
    units = [(e, area) for e in mentees for area in (e.requested_skill_areas or (None,))]
    options = []
    for mentee, area in units:
        allowed = [None]
        for mentor in mentors:
            if not check_pair(mentor, mentee, program) and (area is None or area in mentor.skills_offered):
                allowed.append(mentor)
        options.append(allowed)
    best = None
    for choice in itertools.product(*options):
        picked = [(m, u) for m, u in zip(choice, units, strict=True) if m is not None]
        load = Counter(m.participant_id for m, _ in picked)
        if any(load[m.participant_id] > m.remaining_capacity for m in mentors):
            continue
        if len({(m.participant_id, u[0].participant_id) for m, u in picked}) < len(picked):
            continue
        values = [score_pair(m, u[0], program).units for m, u in picked]
        if program.objective is Objective.MAX_SCORE and any(v < 0 for v in values):
            continue
        key = (
            (len(picked), sum(values))
            if program.objective is Objective.MAX_MATCHED_THEN_SCORE
            else (sum(values), len(picked))
        )
        best = key if best is None or key > best else best
    return best if program.objective is Objective.MAX_MATCHED_THEN_SCORE else (best[1], best[0])


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(8))
def test_one_mentor_per_skill_area_equals_brute_force(make_pool, make_settings, seed, objective):
    pool = make_pool(1000 + seed, 3, 4, max_capacity=2, dense=True)
    program = _multi_program(make_settings, objective)
    result = solve(pool, program)
    matched, units = _multi_brute_force(pool, program)
    assert (result.quality.matched, round(result.quality.total_score * 1000)) == (matched, units)
    by_id = {p.participant_id: p for p in pool.participants}
    pairs = [(m.mentor_id, m.mentee_id) for m in result.matches]
    assert len(pairs) == len(set(pairs)), "same mentor twice for one mentee"
    for match in result.matches:
        mentee = by_id[match.mentee_id]
        if mentee.requested_skill_areas:
            assert match.skill_area in mentee.requested_skill_areas
            assert match.skill_area in by_id[match.mentor_id].skills_offered
        assert check_pair(by_id[match.mentor_id], mentee, program) == []


def test_skill_area_reasons(make_person, make_settings):
    program = _multi_program(make_settings)
    pool = Pool(
        (
            make_person("sql1", Role.MENTOR, skills_offered=frozenset({"sql", "ml"})),
            make_person("e", requested_skill_areas=("sql", "ml", "finance")),
        )
    )
    result = solve(pool, program)
    assert len(result.matches) == 1
    reasons = {u.skill_area: u.code for u in result.unmatched if u.participant_id == "e"}
    assert reasons == {
        "finance": UnmatchedCode.NO_MENTOR_FOR_SKILL_AREA,
        next(
            area for area in ("sql", "ml") if area != result.matches[0].skill_area
        ): UnmatchedCode.CAPACITY_EXHAUSTED,
    }


def test_group_format_ignores_choice_flags(make_person, make_settings):
    program = make_settings(format=ProgramFormat.GROUP, group_min_size=1, mentee_choice=True)
    pool = Pool((make_person("m", Role.MENTOR, capacity=2), make_person("a"), make_person("b")))
    result = solve(pool, program)
    assert result.quality.solver in ("cp_sat_group", "min_cost_flow_group") and len(result.matches) == 2
