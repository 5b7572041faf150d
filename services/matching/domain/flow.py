"""Capacitated assignment as min-cost flow (OR-Tools), exact, with a proof of optimality on the full graph.

The network: source -> mentee (capacity 1) -> mentor (capacity 1 per pair) -> sink (the mentor's remaining
capacity), plus a source -> sink bypass at cost 0 so that leaving someone unmatched is always possible.
Each pair arc has cost ``-gain`` where the gain encodes the objective lexicographically in one integer:

- most matched, then best score: ``gain = score + M`` with ``M = n * (max score - min score) + 1``: one
  more match is worth more than any change of total score;
- best score, then most matched: ``gain = score * (n + 1) + 1``, pairs with a negative score dropped.

Scores are integer milli-points, so the optimum is exact (no floating point anywhere in the solver).
For "most matched first" OR-Tools' max-flow-with-min-cost is handed the plain scores (same optimum,
no big-M costs, shorter cost scaling); the gain above is still what the duals below are written in.

Speed comes from pricing: solve first on the best ``k`` pairs of each mentee and the best ``k`` per
unit of capacity of each mentor, then build LP dual prices (u per mentee, v per mentor) from the
optimal flow and check every feasible pair of the FULL graph: if all satisfy ``u_i + v_j >= gain_ij``
the duals are feasible for the full problem and their objective equals the flow's, so the flow is
optimal on the full graph (LP duality; the bipartite b-matching polytope is integral). Otherwise the
next working graph is every pair within ``PRICING_MARGIN`` of tight under the current prices (the
current solution, every violator, the likeliest next entrants) and the flow is solved again. The result
is the exact full-graph optimum, proven, while OR-Tools only ever sees a few percent of the arcs (on
10,000 x 2,000: ~320,000 of ~9.8 million feasible pairs, two rounds).

How the duals are built (complementary slackness): an unmatched mentee has ``u = 0``; a mentor with free
capacity has ``v = 0``; a matched pair is tight. That leaves ``v`` as the least solution of difference
constraints ``v_j >= v_k + gain_ij - gain_ik`` (mentee i matched to k, arc i->j) and
``v_j >= gain_ij`` (i unmatched), i.e. longest paths in a graph over mentors; they exist (no positive
cycle) exactly when the flow is optimal, and are found by a vectorised Bellman-Ford.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from services.matching.domain.encoding import INFEASIBLE, BoolArray, Int32Array, IntArray
from services.matching.domain.model import SCORE_SCALE, Objective

MAX_PRICING_ROUNDS: Final = 12
# Between pricing rounds the working graph is every pair within this many points of tight.
PRICING_MARGIN: Final = 10 * SCORE_SCALE
WORKING_ARCS_PER_MENTEE: Final = 32
_PRICING_CHUNK: Final = 256


class GainRule(enum.Enum):
    MATCHED_THEN_SCORE = "matched_then_score"
    SCORE_THEN_MATCHED = "score_then_matched"
    CARDINALITY = "cardinality"

    @staticmethod
    def of(objective: Objective) -> GainRule:
        if objective is Objective.MAX_SCORE:
            return GainRule.SCORE_THEN_MATCHED
        return GainRule.MATCHED_THEN_SCORE


@dataclass(frozen=True, slots=True)
class Gain:
    """``gain = score * scale + offset`` for pairs with ``score >= floor``; others are never used."""

    scale: int
    offset: int
    floor: int

    @staticmethod
    def build(rule: GainRule, *, max_units: int, low: int, high: int) -> Gain:
        if rule is GainRule.CARDINALITY:
            return Gain(0, 1, np.iinfo(np.int32).min + 1)
        if rule is GainRule.SCORE_THEN_MATCHED:
            return Gain(max_units + 1, 1, 0)
        spread = max(high, 0) - min(low, 0)
        return Gain(1, max_units * spread + 1, np.iinfo(np.int32).min + 1)

    def of(self, scores: npt.NDArray[np.int32] | IntArray) -> IntArray:
        return scores.astype(np.int64) * self.scale + self.offset


def max_gain_flow(
    n_left: int,
    n_right: int,
    tails: IntArray,
    heads: IntArray,
    gains: IntArray,
    left_caps: IntArray,
    right_caps: IntArray,
    *,
    left_unit_bonus: IntArray | None = None,
    most_arcs_first: bool = False,
) -> BoolArray:
    """Selects arcs (each at most once) maximising the total gain under node capacities, exactly.

    ``most_arcs_first``: maximise the number of arcs, then the gain (OR-Tools' max-flow-with-min-cost;
    gains may then be any sign and need no big-M term, which keeps cost scaling short).
    ``left_unit_bonus[k]`` (non-increasing) is added for a left node's (k+1)-th selected arc: a concave
    reward that spreads arcs evenly over left nodes (used by speed mentoring for fairness).
    """
    if tails.size == 0:
        return np.zeros(0, dtype=np.bool_)
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = n_left + n_right, n_left + n_right + 1
    active_left = np.flatnonzero(np.bincount(tails, minlength=n_left))
    caps = left_caps[active_left]
    if left_unit_bonus is None:
        src_tails, src_heads = np.full(active_left.size, source), active_left
        src_caps, src_costs = caps, np.zeros(active_left.size, dtype=np.int64)
    else:
        levels = [(active_left[caps > k], -int(left_unit_bonus[k])) for k in range(int(caps.max(initial=0)))]
        src_heads = np.concatenate([nodes for nodes, _ in levels])
        src_tails = np.full(src_heads.size, source)
        src_caps = np.ones(src_heads.size, dtype=np.int64)
        src_costs = np.concatenate([np.full(nodes.size, cost, dtype=np.int64) for nodes, cost in levels])
    active_right = np.flatnonzero(np.bincount(heads, minlength=n_right))
    supply = int(src_caps.sum())
    bypass = [] if most_arcs_first else [[source]]  # leaving a unit unplaced is free (not in max-flow mode)
    all_tails = np.concatenate([src_tails, tails, n_left + active_right, *bypass]).astype(np.int32)
    all_heads = np.concatenate(
        [src_heads, n_left + heads, np.full(active_right.size, sink), *([[sink]] if bypass else [])]
    )
    all_caps = np.concatenate(
        [src_caps, np.ones(tails.size), right_caps[active_right], *([[supply]] if bypass else [])]
    )
    all_costs = np.concatenate([src_costs, -gains, np.zeros(active_right.size), *([[0]] if bypass else [])])
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        all_tails, all_heads.astype(np.int32), all_caps.astype(np.int64), all_costs.astype(np.int64)
    )
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve_max_flow_with_min_cost() if most_arcs_first else flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    pair_arcs = np.asarray(arcs)[src_tails.size : src_tails.size + tails.size].astype(np.int32)
    return np.asarray(flow.flows(pair_arcs)) > 0


@dataclass(frozen=True, slots=True)
class AssignmentOutcome:
    """``mentor_of[i]`` is mentee i's mentor position or -1. ``proven_optimal``: optimal on the full
    candidate matrix (LP dual certificate, or the full graph was solved)."""

    mentor_of: IntArray
    score_units: int
    matched: int
    proven_optimal: bool
    pricing_rounds: int
    arcs_solved: int
    dual_bound_gain: int | None


def top_candidates(
    usable_scores: Int32Array, mentor_caps: IntArray, per_mentee: int, per_mentor: int
) -> tuple[IntArray, IntArray]:
    """About the best ``per_mentee`` feasible pairs of each mentee and the best ``per_mentor`` per unit of
    capacity of each mentor (the scarce side needs candidates in proportion to what it can take).

    Only a starting graph: pricing adds whatever it lacks, so thresholds may be approximate (ties kept,
    mentor thresholds estimated on a sample of mentees).
    """
    n_rows, n_cols = usable_scores.shape
    k = min(per_mentee, n_cols)
    row_threshold = np.full(n_rows, np.iinfo(np.int32).max, dtype=np.int32)
    if k:
        for start in range(0, n_rows, _PRICING_CHUNK):
            block = usable_scores[start : start + _PRICING_CHUNK]
            row_threshold[start : start + block.shape[0]] = np.partition(block, n_cols - k, axis=1)[
                :, n_cols - k
            ]
    col_threshold = np.full(n_cols, np.iinfo(np.int32).max, dtype=np.int32)
    if per_mentor:
        sample_size = min(n_rows, max(2000, 40 * per_mentor * int(mentor_caps.max(initial=1))))
        sample = np.linspace(0, n_rows - 1, sample_size).astype(np.int64)
        ranked = np.sort(np.ascontiguousarray(usable_scores[sample].T), axis=1)
        wanted = np.minimum(per_mentor * mentor_caps * sample_size // n_rows + 1, sample_size)
        col_threshold = ranked[np.arange(n_cols), sample_size - wanted].astype(np.int32)
    rows_out: list[IntArray] = []
    cols_out: list[IntArray] = []
    for start in range(0, n_rows, _PRICING_CHUNK):
        block = usable_scores[start : start + _PRICING_CHUNK]
        keep = block >= row_threshold[start : start + block.shape[0], None]
        keep |= block >= col_threshold[None, :]
        keep &= block != INFEASIBLE
        rows, cols = np.nonzero(keep)
        rows_out.append(rows + start)
        cols_out.append(cols)
    return np.concatenate(rows_out).astype(np.int64), np.concatenate(cols_out).astype(np.int64)


def _least_prices(
    n_cols: int, tails: IntArray, heads: IntArray, weights: IntArray, start: IntArray
) -> IntArray | None:
    """Least v >= start with v[head] >= v[tail] + weight for every arc (longest paths); None if the
    constraints have a positive cycle (the flow was not optimal)."""
    order = np.argsort(tails, kind="stable")
    tails, heads, weights = tails[order], heads[order], weights[order]
    indptr = np.searchsorted(tails, np.arange(n_cols + 1))
    prices = start.copy()
    frontier = np.arange(n_cols)
    for _ in range(n_cols + 1):
        starts = indptr[frontier]
        lengths = indptr[frontier + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return prices
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        arcs = offsets + np.arange(total)
        candidate = prices[tails[arcs]] + weights[arcs]
        better = candidate > prices[heads[arcs]]
        if not better.any():
            return prices
        improved = heads[arcs][better]
        np.maximum.at(prices, improved, candidate[better])
        frontier = np.unique(improved)
    return None


def _dual_prices(
    n_rows: int,
    n_cols: int,
    tails: IntArray,
    heads: IntArray,
    gains: IntArray,
    selected: BoolArray,
    mentor_caps: IntArray,
) -> tuple[IntArray, IntArray] | None:
    """Optimal LP duals (u per mentee, v per mentor) of the solved graph, or None if not optimal."""
    mentor_of = np.full(n_rows, -1, dtype=np.int64)
    mentor_of[tails[selected]] = heads[selected]
    matched_gain = np.zeros(n_rows, dtype=np.int64)
    matched_gain[tails[selected]] = gains[selected]
    load = np.bincount(heads[selected], minlength=n_cols)
    start = np.zeros(n_cols, dtype=np.int64)
    free_tail = mentor_of[tails] < 0
    np.maximum.at(start, heads[free_tail], gains[free_tail])
    other = ~free_tail & ~selected
    prices = _least_prices(
        n_cols,
        mentor_of[tails[other]],
        heads[other],
        gains[other] - matched_gain[tails[other]],
        start,
    )
    if prices is None or np.any(prices[load < mentor_caps] != 0):
        return None
    matched = mentor_of >= 0
    mentee_prices = np.where(matched, matched_gain - prices[np.maximum(mentor_of, 0)], 0)
    if np.any(mentee_prices < 0):
        return None
    primal = int(matched_gain.sum())
    dual = int(mentee_prices.sum()) + int((prices * mentor_caps).sum())
    return (mentee_prices, prices) if primal == dual else None


def _priced_arcs(
    usable_scores: Int32Array, gain: Gain, mentee_prices: IntArray, mentor_prices: IntArray, margin: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Pairs of the full graph whose reduced gain ``gain - u_i - v_j`` exceeds ``-margin``, with that
    reduced gain (> 0: a violated dual constraint, the pair could improve the solution).

    Written as ``score * scale - v_j > u_i - offset - margin`` to stay at three passes over the matrix.
    """
    rows_out: list[IntArray] = []
    cols_out: list[IntArray] = []
    slack_out: list[IntArray] = []
    n_rows = usable_scores.shape[0]
    tight = mentee_prices - gain.offset
    near = tight - margin
    # INFEASIBLE * scale must stay below every threshold, or feasibility is checked explicitly.
    explicit = gain.scale == 0 or int(INFEASIBLE) * gain.scale - int(mentor_prices.max(initial=0)) >= int(
        near.min(initial=0)
    )
    for start in range(0, n_rows, _PRICING_CHUNK):
        block = usable_scores[start : start + _PRICING_CHUNK]
        reduced = block.astype(np.int64)
        if gain.scale != 1:
            reduced *= gain.scale
        reduced -= mentor_prices[None, :]
        close = reduced > near[start : start + block.shape[0], None]
        if explicit:
            close &= block != INFEASIBLE
        rows, cols = np.nonzero(close)
        rows_out.append(rows + start)
        cols_out.append(cols)
        slack_out.append(reduced[rows, cols] - tight[start + rows])
    return (
        np.concatenate(rows_out).astype(np.int64),
        np.concatenate(cols_out).astype(np.int64),
        np.concatenate(slack_out),
    )


def solve_assignment(
    masked_scores: Int32Array,
    mentor_caps: IntArray,
    rule: GainRule,
    *,
    per_mentee: int = 16,
    per_mentor: int = 4,
    certify: bool = True,
    score_floor: int | None = None,
) -> AssignmentOutcome:
    """Optimal one-mentor-per-mentee assignment on ``masked_scores`` (``INFEASIBLE`` = forbidden pair).

    With ``per_mentee == 0`` the full graph is solved directly; otherwise the pruned graph is solved and,
    when ``certify``, priced out against the full graph until the dual certificate holds.
    ``score_floor``: a known lower bound of every feasible score (saves a pass over the matrix).
    """
    n_rows, n_cols = masked_scores.shape
    if n_rows == 0 or n_cols == 0:
        return AssignmentOutcome(np.full(n_rows, -1, dtype=np.int64), 0, 0, True, 0, 0, 0)
    row_best = masked_scores.max(axis=1)
    any_row = row_best != INFEASIBLE
    if not any_row.any():
        return AssignmentOutcome(np.full(n_rows, -1, dtype=np.int64), 0, 0, True, 0, 0, 0)
    any_col = masked_scores.max(axis=0) != INFEASIBLE
    max_units = int(min(int(any_row.sum()), int(mentor_caps[any_col].sum())))
    high = int(row_best.max())
    if score_floor is None:
        low = int(masked_scores.min(initial=np.iinfo(np.int32).max, where=masked_scores != INFEASIBLE))
    else:
        low = score_floor
    gain = Gain.build(rule, max_units=max_units, low=low, high=high)
    usable = masked_scores
    if gain.floor > INFEASIBLE + 1:
        usable = masked_scores.copy()
        np.copyto(usable, INFEASIBLE, where=usable < gain.floor)
    if per_mentee <= 0:
        rows, cols = np.nonzero(usable != INFEASIBLE)
        full_graph = True
    else:
        rows, cols = top_candidates(usable, mentor_caps, per_mentee, per_mentor)
        full_graph = False
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    unit_caps = np.ones(n_rows, dtype=np.int64)
    rounds = 0
    proven = full_graph
    bound: int | None = None
    while True:
        rounds += 1
        arc_scores = usable[rows, cols]
        gains = gain.of(arc_scores)
        if gain.scale <= 1:  # most matched first: the flow needs no big-M term
            flow_gains = arc_scores.astype(np.int64) * gain.scale
            selected = max_gain_flow(
                n_rows, n_cols, rows, cols, flow_gains, unit_caps, mentor_caps, most_arcs_first=True
            )
        else:
            selected = max_gain_flow(n_rows, n_cols, rows, cols, gains, unit_caps, mentor_caps)
        if full_graph:  # every feasible pair was in the graph: OR-Tools' optimum is the proof
            proven = True
            bound = int(gains[selected].sum())
            break
        if not certify:
            break
        prices = _dual_prices(n_rows, n_cols, rows, cols, gains, selected, mentor_caps)
        if prices is None:
            break
        margin = PRICING_MARGIN * max(gain.scale, 1)
        near_rows, near_cols, reduced = _priced_arcs(usable, gain, *prices, margin=margin)
        if not (reduced > 0).any():
            proven = True
            bound = int(prices[0].sum() + (prices[1] * mentor_caps).sum())
            break
        if rounds >= MAX_PRICING_ROUNDS:
            rows, cols = np.nonzero(usable != INFEASIBLE)
            rows, cols = rows.astype(np.int64), cols.astype(np.int64)
            full_graph = True
            continue
        # Next working graph: every pair within the margin of tight under the current prices. It holds
        # the current solution (tight pairs), every violator, and the pairs most likely to become tight
        # once prices move; pairs far from tight leave the graph (pricing brings back any that must).
        budget = WORKING_ARCS_PER_MENTEE * n_rows
        if reduced.size > budget:  # many near-ties: tighten the margin, always keeping every violator
            cut = min(int(np.partition(reduced, reduced.size - budget)[reduced.size - budget]), 0)
            keep = reduced >= cut
            near_rows, near_cols = near_rows[keep], near_cols[keep]
        rows, cols = near_rows, near_cols
    mentor_of = np.full(n_rows, -1, dtype=np.int64)
    mentor_of[rows[selected]] = cols[selected]
    score_units = int(usable[rows[selected], cols[selected]].astype(np.int64).sum())
    return AssignmentOutcome(
        mentor_of=mentor_of,
        score_units=score_units,
        matched=int(selected.sum()),
        proven_optimal=proven,
        pricing_rounds=rounds,
        arcs_solved=int(rows.size),
        dual_bound_gain=bound,
    )


def count_blocking_pairs(
    masked_scores: Int32Array, mentor_of: IntArray, mentor_caps: IntArray, *, examples: int = 10
) -> tuple[int, list[tuple[int, int]]]:
    """Pairs (mentee, mentor), feasible, where the mentee prefers the mentor to its own (or to none) and
    the mentor has room or prefers the mentee to its worst current mentee; both rank by pair score."""
    n_rows, n_cols = masked_scores.shape
    if n_rows == 0 or n_cols == 0:
        return 0, []
    never = np.int64(np.iinfo(np.int64).min)
    matched = mentor_of >= 0
    current = np.full(n_rows, never, dtype=np.int64)
    current[matched] = masked_scores[matched.nonzero()[0], mentor_of[matched]]
    load = np.bincount(mentor_of[matched], minlength=n_cols)
    worst = np.full(n_cols, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(worst, mentor_of[matched], current[matched])
    worst[load < mentor_caps] = never
    count = 0
    found: list[tuple[int, int]] = []
    for start in range(0, n_rows, _PRICING_CHUNK):
        block = masked_scores[start : start + _PRICING_CHUNK].astype(np.int64)
        blocking = (block != INFEASIBLE) & (block > current[start : start + block.shape[0], None])
        blocking &= block > worst[None, :]
        count += int(blocking.sum())
        if len(found) < examples:
            rows, cols = np.nonzero(blocking)
            found.extend(
                (int(r) + start, int(c)) for r, c in zip(rows[:examples], cols[:examples], strict=True)
            )
    return count, found[:examples]
