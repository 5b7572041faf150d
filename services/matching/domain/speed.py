"""Speed mentoring: a rotation schedule of R rounds, solved exactly over all rounds at once (not greedily
round by round).

1. Choose the meetings: each mentee meets at most R distinct mentors, each mentor at most R mentees
   (one per round), no pair twice. That is a b-matching, solved exactly by min-cost flow. Objective
   (``MAX_MATCHED_THEN_SCORE``): most meetings, then fairness (a concave reward per mentee: the k-th
   meeting of a mentee is worth less than the (k-1)-th, so scarce mentor time is spread evenly), then
   total relevance. ``MAX_SCORE``: total relevance, then meetings.
2. Place them in rounds: a bipartite graph of maximum degree R can always be edge-coloured with R
   colours (Koenig), so the chosen meetings fit in R rounds with nobody double-booked. Colouring by
   alternating-path swaps.
"""

from __future__ import annotations

import numpy as np

from services.matching.domain import reasons
from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE, IntArray
from services.matching.domain.flow import max_gain_flow
from services.matching.domain.model import (
    MatchingResult,
    Objective,
    Optimality,
    QualityReport,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.program import PreparedProgram, build_matches, mentee_reasons, mentor_reasons

_COST_LIMIT = 2**60


def colour_bipartite_edges(left: IntArray, right: IntArray, colours: int) -> IntArray:
    """A proper edge colouring with ``colours`` colours of a bipartite graph of max degree <= colours."""
    at_left: dict[int, dict[int, int]] = {}
    at_right: dict[int, dict[int, int]] = {}
    colour_of = np.full(left.size, -1, dtype=np.int64)

    def table(side: int, node: int) -> dict[int, int]:
        return (at_left if side == 0 else at_right).setdefault(node, {})

    for edge in range(left.size):
        a, b = int(left[edge]), int(right[edge])
        used_a, used_b = table(0, a), table(1, b)
        alpha = next(c for c in range(colours) if c not in used_a)
        if alpha in used_b:
            beta = next(c for c in range(colours) if c not in used_b)
            # Swap alpha/beta on the path from b that alternates alpha, beta, ...; it cannot reach a.
            path: list[int] = []
            side, node, colour = 1, b, alpha
            while colour in table(side, node):
                step = table(side, node)[colour]
                path.append(step)
                side, node = (0, int(left[step])) if side == 1 else (1, int(right[step]))
                colour = beta if colour == alpha else alpha
            for step in path:
                del table(0, int(left[step]))[int(colour_of[step])]
                del table(1, int(right[step]))[int(colour_of[step])]
            for step in path:
                colour_of[step] = beta if colour_of[step] == alpha else alpha
                table(0, int(left[step]))[int(colour_of[step])] = step
                table(1, int(right[step]))[int(colour_of[step])] = step
        colour_of[edge] = alpha
        used_a[alpha] = edge
        used_b[alpha] = edge
    return colour_of


def _gains(
    scores: IntArray, objective: Objective, rounds: int, max_units: int, n_nodes: int
) -> tuple[IntArray, IntArray | None, bool]:
    """Pair gains and the per-mentee concave bonus (or None); whether fairness is part of the objective."""
    if objective is Objective.MAX_SCORE:
        return scores * (max_units + 1) + 1, None, False
    spread = max(int(scores.max(initial=0)), 0) - min(int(scores.min(initial=0)), 0)
    fairness_unit = max_units * spread + 1
    big = max_units * ((rounds - 1) * fairness_unit + spread) + 1
    if (big + spread) * (n_nodes + 2) < _COST_LIMIT:
        bonus = np.arange(rounds - 1, -1, -1, dtype=np.int64) * fairness_unit
        return scores + big, bonus, True
    big = max_units * spread + 1
    return scores + big, None, False


def solve_speed(prepared: PreparedProgram) -> MatchingResult:
    settings = prepared.settings
    evaluator = prepared.evaluator
    n_rows, n_cols = evaluator.shape
    rounds = settings.speed_rounds
    matrix = candidate_matrix(evaluator)
    usable = matrix != INFEASIBLE
    if settings.objective is Objective.MAX_SCORE:
        usable &= matrix >= 0
    rows, cols = np.nonzero(usable)
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    scores = matrix[rows, cols].astype(np.int64)
    mentee_caps = np.full(n_rows, rounds, dtype=np.int64)
    mentor_caps = np.full(n_cols, rounds, dtype=np.int64)
    max_units = int(min(rounds * n_rows, rounds * n_cols, rows.size))
    gains, bonus, fair = _gains(scores, settings.objective, rounds, max_units, n_rows + n_cols)
    chosen = max_gain_flow(n_rows, n_cols, rows, cols, gains, mentee_caps, mentor_caps, left_unit_bonus=bonus)
    sel_rows, sel_cols, sel_scores = rows[chosen], cols[chosen], scores[chosen]
    round_of = colour_bipartite_edges(sel_rows, sel_cols, rounds)
    order = np.lexsort((sel_cols, sel_rows, round_of))
    matches = build_matches(prepared, sel_rows[order], sel_cols[order], round_indexes=round_of[order])
    if settings.objective is Objective.MAX_SCORE:
        all_rows, all_cols = np.nonzero(matrix != INFEASIBLE)
        ones = np.ones(all_rows.size, dtype=np.int64)
        most = max_gain_flow(
            n_rows,
            n_cols,
            all_rows.astype(np.int64),
            all_cols.astype(np.int64),
            ones,
            mentee_caps,
            mentor_caps,
        )
        max_matchable = int(most.sum())
    else:
        max_matchable = int(chosen.sum())
    meetings = np.bincount(sel_rows, minlength=n_rows)
    mentor_meetings = np.bincount(sel_cols, minlength=n_cols)
    room = np.maximum(evaluator.index.room(), 0)
    unmatched: list[Unmatched] = list(prepared.turned_away)
    unmatched += mentee_reasons(prepared, matrix, np.flatnonzero(meetings == 0), mentor_meetings >= rounds)
    for row in np.flatnonzero((meetings > 0) & (meetings < rounds)):
        mentee = prepared.mentees[int(row)]
        options = int(usable[row].sum())
        text = (
            f"meets {int(meetings[row])} of {rounds} rounds: {options} eligible mentors, their time is shared"
        )
        unmatched.append(reasons.simple(mentee, UnmatchedCode.PARTIAL_SCHEDULE, text))
    unmatched += mentor_reasons(prepared, matrix, np.flatnonzero(mentor_meetings == 0), meetings > 0, room)
    total = int(sel_scores.sum()) / 1000
    quality = QualityReport(
        solver="min_cost_flow_rotation",
        objective=settings.objective,
        total_score=total,
        optimum_score=total,
        share_of_optimum=1.0,
        optimality=Optimality.PROVEN_OPTIMAL,
        matched=int(chosen.sum()),
        max_matchable=max_matchable,
        candidates=n_rows,
        blocking_pairs=None,
        solve_seconds=0.0,
        details={
            "rounds": rounds,
            "fairness_in_objective": int(fair),
            "mentees_with_full_schedule": int((meetings == rounds).sum()),
            "fewest_meetings": int(meetings.min(initial=0)),
        },
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)
