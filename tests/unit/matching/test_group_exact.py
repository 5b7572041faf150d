"""Group programs: the most mentees the rules allow, then the best score, proven, against an independent
full-graph MILP (every feasible pair handed to HiGHS at once, no pricing, no fixing)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from benchmarks.matching_engine import make_pool as make_org
from benchmarks.matching_engine import make_settings as make_org_settings
from services.matching.domain import Delivery, Objective, Optimality, ProgramFormat, check_pair, solve
from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE
from services.matching.domain.program import prepare


def _reference(pool, settings) -> tuple[int, int]:
    """(most mentees, best score at that count) or, for MAX_SCORE, (best score, most mentees at it)."""
    prepared = prepare(pool, settings)
    matrix = candidate_matrix(prepared.evaluator)
    room = np.maximum(prepared.evaluator.index.room(), 0)
    usable = matrix != INFEASIBLE
    if settings.objective is Objective.MAX_SCORE:
        usable &= matrix >= 0
    rows, cols = np.nonzero(usable)
    k, m = rows.size, matrix.shape[1]
    if not k:
        return 0, 0
    scores = matrix[rows, cols].astype(np.float64)
    x = np.arange(k)
    mentee = sp.csr_matrix((np.ones(k), (rows, x)), shape=(matrix.shape[0], k + m))
    load = sp.csr_matrix((np.ones(k), (cols, x)), shape=(m, k + m))
    lead = sp.csr_matrix((np.ones(m), (np.arange(m), k + np.arange(m))), shape=(m, k + m))
    base = [
        LinearConstraint(mentee, -np.inf, 1),
        LinearConstraint(load - sp.diags(room.astype(np.float64)) @ lead, -np.inf, 0),
        LinearConstraint(load - settings.group_min_size * lead, 0, np.inf),
    ]
    count = np.concatenate([np.ones(k), np.zeros(m)])
    score = np.concatenate([scores, np.zeros(m)])
    first, second = (score, count) if settings.objective is Objective.MAX_SCORE else (count, score)
    options = {"mip_rel_gap": 0.0}
    top = milp(-first, constraints=base, integrality=np.ones(k + m), bounds=Bounds(0, 1), options=options)
    best_first = round(-top.fun)
    floor = LinearConstraint(sp.csr_matrix(first[None, :]), best_first - 0.5, np.inf)
    low = milp(
        -second, constraints=[*base, floor], integrality=np.ones(k + m), bounds=Bounds(0, 1), options=options
    )
    return best_first, round(-low.fun)


def _settings(make_settings, objective, **extra):
    fields = {
        "format": ProgramFormat.GROUP,
        "delivery": Delivery.HYBRID,
        "min_overlap_minutes": 60,
        "group_min_size": 3,
        "group_max_size": 5,
        "objective": objective,
    }
    return make_settings(**{**fields, **extra})


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(6))
def test_group_equals_the_full_graph_milp(make_pool, make_settings, seed, objective):
    # More mentors than a group needs: the flow relaxation opens undersized groups, the MILP must fix them.
    pool = make_pool(900 + seed, 24, 30, max_capacity=5, dense=True)
    program = _settings(make_settings, objective)
    result = solve(pool, program)
    quality = result.quality
    first, second = _reference(pool, program)
    units = round(quality.total_score * 1000)
    count_first = objective is Objective.MAX_MATCHED_THEN_SCORE
    got = (quality.matched, units) if count_first else (units, quality.matched)
    assert got == (first, second)
    assert quality.optimality is Optimality.PROVEN_OPTIMAL
    assert quality.share_of_optimum == pytest.approx(1.0)
    people = {p.participant_id: p for p in pool.participants}
    sizes: dict[str, int] = {}
    for match in result.matches:
        assert not check_pair(people[match.mentor_id], people[match.mentee_id], program)
        sizes[match.mentor_id] = sizes.get(match.mentor_id, 0) + 1
    assert all(program.group_min_size <= size <= program.group_max_size for size in sizes.values())


def test_300_mentees_300_mentors_reach_the_maximum_with_a_proof():
    """The issue's shape: more mentors than needed. Every mentee can be placed; the answer is proven."""
    pool = make_org(300, 300, seed=7)
    settings = make_org_settings(format=ProgramFormat.GROUP)
    result = solve(pool, settings)
    quality = result.quality
    assert quality.details["relaxation_valid"] == 0  # the flow alone opens undersized groups here
    assert quality.matched == quality.max_matchable == 300
    assert quality.share_of_optimum is not None and quality.share_of_optimum >= 0.99
    assert quality.optimality is Optimality.PROVEN_OPTIMAL
