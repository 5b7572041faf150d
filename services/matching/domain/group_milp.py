"""Exact group formation as a MILP (HiGHS through ``scipy.optimize.milp``), certified on the full graph.

Variables: ``x_k`` (arc k = mentee i joins mentor j's group) and ``y_j`` (mentor j leads a group)::

    sum_j x_ij <= 1                       each mentee in at most one group
    L * y_j <= sum_i x_ij <= room_j * y_j  an open group has L..room mentees, a closed one none
    x_ij <= y_j                           (valid and tightening: a fractional y_j cannot host a
                                           whole mentee, so the LP bound is far better than the flow's)
    sum_k c_k x_k >= floor                the previous lexicographic phase's optimum

Two certificates make an answer found on a few arcs exact on the FULL graph:

1. LP pricing (column generation): the LP starts from a working set of arcs (each mentee's best, the
   flow relaxation's, the repaired grouping's); its duals, extended with a zero dual for the link row
   of every absent arc, are dual feasible for the full LP when no absent arc has a negative reduced
   cost; otherwise those arcs join and the LP is solved again. The full LP's optimum ``U`` is then a
   proven bound of every grouping.
2. Reduced-cost fixing: any integer solution that uses arc k is worth at most ``U - rc_k``. HiGHS
   first gets the arcs of smallest reduced cost (with the LP's rounding as a first incumbent); once its
   optimum ``Z`` there is known, only arcs with ``U - rc_k >= Z + 1/2`` (objectives are integers) can
   carry a better grouping. When HiGHS had them all, ``Z`` is the full optimum; otherwise they join
   and HiGHS runs again (a few rounds at most). What is left open is reported as a proven bound.

Every limit is a work limit (HiGHS nodes, pricing rounds), never a wall clock, and HiGHS runs single
threaded and seeded: the same input gives the same groups on any machine and load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from services.matching.domain.encoding import BoolArray, IntArray

MILP_NODE_LIMIT: Final = 2_000
MAX_PRICING_ROUNDS: Final = 30
# An absent arc that could lift the optimum by less than this (objective units) cannot improve it:
# objectives are integers, and the margin absorbs the LP's floating-point tolerances.
_IMPROVEMENT: Final = 0.5
_REDUCED_COST_TOLERANCE: Final = 1e-7
# HiGHS first sees this many arcs per mentee (those of smallest reduced cost).
FIRST_ARCS_PER_MENTEE: Final = 4
MAX_FIXING_ROUNDS: Final = 6


@dataclass(frozen=True, slots=True)
class GroupArcs:
    """Every feasible (mentee, mentor) arc of a group program, with the group size bounds."""

    rows: IntArray
    cols: IntArray
    n_rows: int
    n_cols: int
    room: IntArray
    minimum: int


@dataclass(frozen=True, slots=True)
class Floor:
    """A lexicographic floor: ``sum_k coefficients[k] * x_k >= value`` over all arcs."""

    coefficients: IntArray
    value: int


@dataclass(frozen=True, slots=True)
class PhaseOutcome:
    chosen: BoolArray | None  # over all arcs; None when HiGHS found no grouping within its limits
    value: int | None
    bound: int  # proven upper bound of the phase objective on the full graph
    proven: bool  # value == bound, certified on the full graph
    working_arcs: int
    lp_rounds: int
    milp_rounds: int
    nodes: int


def _matrices(
    arcs: GroupArcs, working: IntArray, floors: list[Floor]
) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """``A_ub`` and ``b_ub`` over variables [x of the working arcs, y of every mentor]."""
    k, m = working.size, arcs.n_cols
    rows, cols = arcs.rows[working], arcs.cols[working]
    x = np.arange(k)
    mentee = sp.csr_matrix((np.ones(k), (rows, x)), shape=(arcs.n_rows, k + m))
    load = sp.csr_matrix((np.ones(k), (cols, x)), shape=(m, k + m))
    lead = sp.csr_matrix((np.ones(m), (np.arange(m), k + np.arange(m))), shape=(m, k + m))
    upper = load - sp.diags(arcs.room.astype(np.float64)) @ lead
    lower = arcs.minimum * lead - load
    link = sp.csr_matrix(
        (np.concatenate([np.ones(k), -np.ones(k)]), (np.concatenate([x, x]), np.concatenate([x, k + cols]))),
        shape=(k, k + m),
    )
    blocks = [mentee, upper, lower, link]
    rhs = [np.ones(arcs.n_rows), np.zeros(m), np.zeros(m), np.zeros(k)]
    for floor in floors:
        coefficients = np.zeros(k + m)
        coefficients[:k] = -floor.coefficients[working]
        blocks.append(sp.csr_matrix(coefficients[None, :]))
        rhs.append(np.array([-(floor.value - _IMPROVEMENT)]))
    return sp.vstack(blocks, format="csr"), np.concatenate(rhs), k + m


def _reduced_costs(
    arcs: GroupArcs, gains: IntArray, floors: list[Floor], working: IntArray, marginals: np.ndarray
) -> np.ndarray:
    """Reduced cost (maximisation sign: >= 0 means 'no gain from entering') of every arc; an absent
    arc's link row has a zero dual."""
    n, m = arcs.n_rows, arcs.n_cols
    # HiGHS reports marginals of the minimisation (<= 0 for <= rows); the price of a row is -marginal.
    price = -marginals
    mentee, upper, lower = price[:n], price[n : n + m], price[n + m : n + 2 * m]
    floor_prices = price[price.size - len(floors) :] if floors else np.zeros(0)
    cost = mentee[arcs.rows] + upper[arcs.cols] - lower[arcs.cols] - gains
    links = price[n + 2 * m : n + 2 * m + working.size]
    cost[working] += links
    for floor, floor_price in zip(floors, floor_prices, strict=True):
        cost -= floor_price * floor.coefficients
    return np.asarray(cost, dtype=np.float64)


def _lp(
    arcs: GroupArcs, gains: IntArray, floors: list[Floor], working: IntArray
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """(LP optimum, reduced cost of every arc, LP values of the working arcs and then of every y_j)."""
    matrix, rhs, size = _matrices(arcs, working, floors)
    objective = np.zeros(size)
    objective[: working.size] = -gains[working]
    result = linprog(objective, A_ub=matrix, b_ub=rhs, bounds=(0, 1), method="highs-ds")
    if result.status != 0:
        return None
    reduced = _reduced_costs(arcs, gains, floors, working, result.ineqlin.marginals)
    return float(-result.fun), reduced, np.asarray(result.x)


def _milp(
    arcs: GroupArcs, gains: IntArray, floors: list[Floor], working: IntArray, node_limit: int
) -> tuple[BoolArray | None, float, int]:
    """(chosen working arcs or None, proven bound on the working graph, nodes)."""
    matrix, rhs, size = _matrices(arcs, working, floors)
    objective = np.zeros(size)
    objective[: working.size] = -gains[working]
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, -np.inf, rhs),
        integrality=np.ones(size),
        bounds=Bounds(0, 1),
        options={"node_limit": node_limit, "mip_rel_gap": 0.0},
    )
    nodes = int(getattr(result, "mip_node_count", 0) or 0)
    bound = getattr(result, "mip_dual_bound", None)
    bound_value = float("inf") if bound is None or not np.isfinite(bound) else float(-bound)
    if result.x is None:
        return None, bound_value, nodes
    return np.asarray(result.x[: working.size] > 0.5), bound_value, nodes


def valid_grouping(arcs: GroupArcs, chosen: BoolArray, floors: list[Floor]) -> bool:
    """Whether the chosen arcs form valid groups and meet every floor (integer arithmetic)."""
    per_mentee = np.bincount(arcs.rows[chosen], minlength=arcs.n_rows)
    load = np.bincount(arcs.cols[chosen], minlength=arcs.n_cols)
    sizes_ok = bool(np.all((load == 0) | ((load >= arcs.minimum) & (load <= arcs.room))))
    floors_ok = all(int(floor.coefficients[chosen].sum()) >= floor.value for floor in floors)
    return bool(per_mentee.max(initial=0) <= 1) and sizes_ok and floors_ok


Completion = Callable[[BoolArray], BoolArray]


@dataclass(slots=True)
class _Best:
    arcs: GroupArcs
    gains: IntArray
    floors: list[Floor]
    chosen: BoolArray | None = None
    value: int | None = None

    def offer(self, chosen: BoolArray | None) -> None:
        if chosen is None or not valid_grouping(self.arcs, chosen, self.floors):
            return
        value = int(self.gains[chosen].sum())
        if self.value is None or value > self.value:
            self.chosen, self.value = chosen, value


def _priced_lp(
    arcs: GroupArcs, gains: IntArray, floors: list[Floor], working: BoolArray
) -> tuple[float, np.ndarray, np.ndarray, BoolArray, int] | None:
    """Column generation until no absent arc has a negative reduced cost: the full LP's optimum."""
    for rounds in range(1, MAX_PRICING_ROUNDS + 1):
        index = np.flatnonzero(working)
        solved = _lp(arcs, gains, floors, index)
        if solved is None:
            return None
        value, reduced, values = solved
        entering = ~working & (reduced < -_REDUCED_COST_TOLERANCE)
        if not entering.any():
            x = np.zeros(arcs.rows.size)
            x[index] = values[: index.size]
            return value, reduced, x, values[index.size :], rounds
        working = working | entering
    return None


def solve_phase(
    arcs: GroupArcs,
    gains: IntArray,
    floors: list[Floor],
    working: BoolArray,
    *,
    fallback: BoolArray | None,
    fallback_bound: int,
    complete: Completion | None = None,
    node_limit: int = MILP_NODE_LIMIT,
) -> PhaseOutcome:
    """Maximises ``sum gains[k] x_k`` under the floors, certified on the full graph when it can be.

    ``working``: the arcs the LP starts from; ``fallback``: a valid grouping meeting the floors;
    ``fallback_bound``: a proven bound known beforehand (the flow's); ``complete``: fills a set of open
    mentors with a valid grouping (the LP's rounding: mentors with ``y_j >= 1/2`` stay open).
    """
    best = _Best(arcs, gains, floors)
    best.offer(fallback)
    priced = _priced_lp(arcs, gains, floors, working)
    if priced is None:  # no certificate: keep the fallback and the bound known beforehand
        return PhaseOutcome(best.chosen, best.value, fallback_bound, False, int(working.sum()), 0, 0, 0)
    lp_bound, reduced, x, y, lp_rounds = priced
    best.offer(x > 1 - 1e-6 if np.all(np.minimum(x, 1 - x) < 1e-6) else None)
    if complete is not None:
        best.offer(complete(y >= 0.5))
    bound = min(float(fallback_bound), lp_bound)
    # Reduced-cost fixing: a grouping that uses arc k is worth at most lp_bound - reduced[k]. HiGHS
    # first gets the arcs of smallest reduced cost; once the incumbent is close to the LP bound, only
    # arcs within the gap can carry a better grouping, and when HiGHS had all of them the optimum is
    # proven on the full graph.
    order = np.sort(reduced)
    threshold = max(_IMPROVEMENT, float(order[min(order.size, FIRST_ARCS_PER_MENTEE * arcs.n_rows) - 1]))
    nodes = milp_rounds = 0
    subset = np.zeros(arcs.rows.size, dtype=np.bool_)
    while milp_rounds < MAX_FIXING_ROUNDS:
        incumbent = -np.inf if best.value is None else best.value
        promising = lp_bound - reduced >= incumbent + _IMPROVEMENT
        if bound < incumbent + _IMPROVEMENT or not (promising & ~subset).any():
            break
        subset = (reduced <= threshold) | (best.chosen if best.chosen is not None else False)
        index = np.flatnonzero(subset)
        picked, subset_bound, used = _milp(arcs, gains, floors, index, node_limit)
        nodes += used
        milp_rounds += 1
        if picked is not None:
            chosen = np.zeros(arcs.rows.size, dtype=np.bool_)
            chosen[index[picked]] = True
            best.offer(chosen)
        incumbent = -np.inf if best.value is None else best.value
        outside = float(np.max(lp_bound - reduced[~subset], initial=-np.inf))
        bound = min(bound, max(subset_bound, incumbent, outside))
        threshold = max(2 * threshold, lp_bound - incumbent)
    if best.value is not None and not (lp_bound - reduced >= best.value + _IMPROVEMENT).any():
        bound = min(bound, best.value)
    proven = best.value is not None and bound < best.value + _IMPROVEMENT
    final_bound = int(np.floor(bound + 1e-6)) if np.isfinite(bound) else fallback_bound
    if best.value is not None:
        final_bound = best.value if proven else max(final_bound, best.value)
    return PhaseOutcome(
        best.chosen,
        best.value,
        final_bound,
        proven,
        int(subset.sum()),
        lp_rounds,
        milp_rounds,
        nodes,
    )
