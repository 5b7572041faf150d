"""Speed mentoring: schedule constraints, exact meetings and relevance, fairness, edge colouring."""

from __future__ import annotations

import random
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linprog

from services.matching.domain import (
    Delivery,
    Objective,
    Pool,
    ProgramFormat,
    Role,
    UnmatchedCode,
    check_pair,
    score_pair,
    solve,
)
from services.matching.domain.speed import colour_bipartite_edges


def _program(make_settings, rounds=3, objective=Objective.MAX_MATCHED_THEN_SCORE):
    return make_settings(
        format=ProgramFormat.SPEED,
        delivery=Delivery.HYBRID,
        min_overlap_minutes=60,
        speed_rounds=rounds,
        objective=objective,
    )


def _check_schedule(pool, program, result):
    by_id = {p.participant_id: p for p in pool.participants}
    pairs = [(m.mentor_id, m.mentee_id) for m in result.matches]
    assert len(pairs) == len(set(pairs)), "a pair met twice"
    for round_index in range(program.speed_rounds):
        in_round = [m for m in result.matches if m.round_index == round_index]
        assert len({m.mentor_id for m in in_round}) == len(in_round), "mentor double-booked"
        assert len({m.mentee_id for m in in_round}) == len(in_round), "mentee double-booked"
    assert all(0 <= m.round_index < program.speed_rounds for m in result.matches)
    for mentor_id, mentee_id in pairs:
        assert check_pair(by_id[mentor_id], by_id[mentee_id], program) == []


def _independent_max_meetings(pool, program) -> int:
    graph = nx.DiGraph()
    for mentee in pool.with_role(Role.MENTEE):
        graph.add_edge("s", mentee.participant_id, capacity=program.speed_rounds)
        for mentor in pool.with_role(Role.MENTOR):
            if not check_pair(mentor, mentee, program):
                graph.add_edge(mentee.participant_id, mentor.participant_id, capacity=1)
    for mentor in pool.with_role(Role.MENTOR):
        graph.add_edge(mentor.participant_id, "t", capacity=program.speed_rounds)
    if "t" not in graph:
        return 0
    return int(nx.maximum_flow_value(graph, "s", "t"))


def _independent_best_relevance(pool, program) -> float:
    """LP over the bipartite b-matching polytope (integral), maximising relevance of non-negative pairs."""
    mentees, mentors = pool.with_role(Role.MENTEE), pool.with_role(Role.MENTOR)
    pairs = [
        (i, j, score_pair(m, e, program).units)
        for i, e in enumerate(mentees)
        for j, m in enumerate(mentors)
        if not check_pair(m, e, program) and score_pair(m, e, program).units >= 0
    ]
    if not pairs:
        return 0.0
    rows = np.zeros((len(mentees) + len(mentors), len(pairs)))
    for k, (i, j, _) in enumerate(pairs):
        rows[i, k] = 1
        rows[len(mentees) + j, k] = 1
    result = linprog(
        c=[-units for _, _, units in pairs],
        A_ub=rows,
        b_ub=np.full(rows.shape[0], program.speed_rounds),
        bounds=(0, 1),
        method="highs",
    )
    return -result.fun


@pytest.mark.parametrize("seed", range(6))
def test_schedule_is_valid_and_has_the_most_meetings(make_pool, make_settings, seed):
    pool = make_pool(600 + seed, 12, 5, dense=True)
    program = _program(make_settings, rounds=3)
    result = solve(pool, program)
    _check_schedule(pool, program, result)
    assert result.quality.matched == len(result.matches) == _independent_max_meetings(pool, program)
    assert result.quality.max_matchable == result.quality.matched


@pytest.mark.parametrize("seed", range(6))
def test_max_score_schedule_reaches_the_lp_optimum(make_pool, make_settings, seed):
    pool = make_pool(700 + seed, 10, 4, dense=True)
    program = _program(make_settings, rounds=2, objective=Objective.MAX_SCORE)
    result = solve(pool, program)
    _check_schedule(pool, program, result)
    assert result.quality.total_score * 1000 == pytest.approx(_independent_best_relevance(pool, program))
    assert result.quality.max_matchable == _independent_max_meetings(pool, program)


def test_scarce_mentor_time_is_spread_evenly(make_person, make_settings):
    program = _program(make_settings, rounds=3)
    mentors = [make_person(f"m{k}", Role.MENTOR, skills_offered=frozenset({"sql"})) for k in range(2)]
    # Two mentees would score higher with every mentor; fairness still gives everyone one meeting.
    mentees = [
        make_person(f"e{k}", skills_wanted=frozenset({"sql"}) if k < 2 else frozenset()) for k in range(6)
    ]
    result = solve(Pool((*mentors, *mentees)), program)
    _check_schedule(Pool((*mentors, *mentees)), program, result)
    assert Counter(m.mentee_id for m in result.matches) == {f"e{k}": 1 for k in range(6)}
    assert result.quality.details["fairness_in_objective"] == 1
    partial = {u.participant_id for u in result.unmatched if u.code is UnmatchedCode.PARTIAL_SCHEDULE}
    assert partial == {f"e{k}" for k in range(6)}


@pytest.mark.parametrize("seed", range(20))
def test_edge_colouring_uses_at_most_the_max_degree(seed):
    rng = random.Random(seed)
    colours = rng.randint(1, 5)
    degree_left: Counter[int] = Counter()
    degree_right: Counter[int] = Counter()
    edges = []
    candidates = [(a, b) for a in range(12) for b in range(8)]
    rng.shuffle(candidates)
    for a, b in candidates:
        if degree_left[a] < colours and degree_right[b] < colours:
            edges.append((a, b))
            degree_left[a] += 1
            degree_right[b] += 1
    left = np.array([a for a, _ in edges], dtype=np.int64)
    right = np.array([b for _, b in edges], dtype=np.int64)
    colour = colour_bipartite_edges(left, right, colours)
    assert colour.min(initial=0) >= 0 and colour.max(initial=0) < colours
    assert len(set(zip(left.tolist(), colour.tolist(), strict=True))) == len(edges)
    assert len(set(zip(right.tolist(), colour.tolist(), strict=True))) == len(edges)
