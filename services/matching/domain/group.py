"""Group mentoring: each mentor leads one group of ``group_min_size``..``group_max_size`` mentees (bounded
by the mentor's remaining capacity) or none at all.

1. Drop the minimum size and the problem is a b-matching: exact min-cost flow (``flow``). If every group
   it opens already has the minimum, that optimum is feasible, hence optimal, and proven so. In tight
   programs (more mentees than seats) this is the usual case and takes milliseconds.
2. Otherwise a feasible grouping is built from it (the constructive step: close the smallest undersized
   group, re-solve the flow, repeat), and the exact MILP of ``group_milp`` (HiGHS) improves it,
   lexicographically in two phases (most mentees, then best score; or the reverse), each certified on
   the full graph by LP pricing and reduced-cost fixing, or reported with a proven bound and its gap.
   The flow relaxation's optimum is a proven bound before any MILP runs.

No wall-clock limit anywhere: HiGHS runs with a node limit, so the same input gives the same groups.
"""

from __future__ import annotations

import numpy as np

from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE, BoolArray, Int32Array, IntArray
from services.matching.domain.flow import AssignmentOutcome, GainRule, solve_assignment, top_candidates
from services.matching.domain.group_milp import Completion, Floor, GroupArcs, PhaseOutcome, solve_phase
from services.matching.domain.model import (
    MatchingResult,
    Objective,
    Optimality,
    ProgramSettings,
    QualityReport,
    Unmatched,
)
from services.matching.domain.program import PreparedProgram, build_matches, mentee_reasons, mentor_reasons

# Each mentee's best arcs HiGHS starts from (pricing and reduced-cost fixing add whatever is missing).
WORKING_ARCS_PER_MENTEE = 12


def _relaxation(
    matrix: Int32Array, room: IntArray, settings: ProgramSettings, closed: BoolArray
) -> AssignmentOutcome:
    """Best assignment without the minimum group size (a b-matching: exact min-cost flow)."""
    return solve_assignment(
        matrix,
        np.where(closed, 0, room),
        GainRule.of(settings.objective),
        per_mentee=settings.candidates_per_mentee,
        per_mentor=settings.candidates_per_mentor,
    )


def _undersized(mentor_of: IntArray, n_cols: int, minimum: int) -> IntArray:
    load = np.bincount(mentor_of[mentor_of >= 0], minlength=n_cols)
    return np.flatnonzero((load > 0) & (load < minimum))


def _repair(
    matrix: Int32Array,
    room: IntArray,
    settings: ProgramSettings,
    start: AssignmentOutcome,
    closed: BoolArray | None = None,
) -> IntArray:
    """A feasible grouping from the relaxation: close the smallest undersized group, re-solve, repeat
    (``closed``: mentors closed from the start)."""
    n_cols = matrix.shape[1]
    closed = np.zeros(n_cols, dtype=np.bool_) if closed is None else closed.copy()
    outcome = start
    for _ in range(n_cols):
        small = _undersized(outcome.mentor_of, n_cols, settings.group_min_size)
        if not small.size:
            return outcome.mentor_of
        load = np.bincount(outcome.mentor_of[outcome.mentor_of >= 0], minlength=n_cols)
        closed[small[np.argmin(load[small])]] = True
        outcome = _relaxation(matrix, room, settings, closed)
    return np.full(matrix.shape[0], -1, dtype=np.int64)


def _arcs(matrix: Int32Array, room: IntArray, settings: ProgramSettings, usable: BoolArray) -> GroupArcs:
    rows, cols = np.nonzero(usable)
    n_rows, n_cols = matrix.shape
    return GroupArcs(
        rows.astype(np.int64), cols.astype(np.int64), n_rows, n_cols, room, settings.group_min_size
    )


def _arc_mask(arcs: GroupArcs, rows: IntArray, cols: IntArray) -> BoolArray:
    """The arcs among ``arcs`` that are the pairs (rows[k], cols[k]) (pairs not in ``arcs`` ignored)."""
    keys = arcs.rows * arcs.n_cols + arcs.cols
    wanted = rows.astype(np.int64) * arcs.n_cols + cols.astype(np.int64)
    mask = np.zeros(keys.size, dtype=np.bool_)
    at = np.searchsorted(keys, wanted)
    inside = at < keys.size
    hit = at[inside][keys[at[inside]] == wanted[inside]]
    mask[hit] = True
    return mask


def _assigned(mentor_of: IntArray) -> tuple[IntArray, IntArray]:
    rows = np.flatnonzero(mentor_of >= 0)
    return rows, mentor_of[rows]


def _working_set(
    arcs: GroupArcs, matrix: Int32Array, usable: BoolArray, settings: ProgramSettings, *starts: IntArray
) -> BoolArray:
    scores = np.where(usable, matrix, INFEASIBLE).astype(np.int32)
    per_mentee = max(settings.candidates_per_mentee, WORKING_ARCS_PER_MENTEE)
    rows, cols = top_candidates(scores, arcs.room, per_mentee, max(settings.candidates_per_mentor, 2))
    working = _arc_mask(arcs, rows, cols)
    for mentor_of in starts:
        working |= _arc_mask(arcs, *_assigned(mentor_of))
    return working


def _score_ceiling(arcs: GroupArcs, scores: IntArray) -> int:
    """Every mentee at its best arc (negative ones counted as zero): a bound of any grouping's score."""
    best = np.zeros(arcs.n_rows, dtype=np.int64)
    np.maximum.at(best, arcs.rows, scores)
    return int(best.sum())


def _completion(matrix: Int32Array, room: IntArray, settings: ProgramSettings, arcs: GroupArcs) -> Completion:
    """Rounds an LP: the flow on the mentors it opens, repaired into valid groups."""

    def complete(open_mentors: BoolArray) -> BoolArray:
        closed = ~open_mentors
        relaxed = _relaxation(matrix, room, settings, closed)
        return _arc_mask(arcs, *_assigned(_repair(matrix, room, settings, relaxed, closed)))

    return complete


def _phases(
    arcs: GroupArcs,
    complete: Completion,
    scores: IntArray,
    working: BoolArray,
    start: BoolArray,
    relaxed: AssignmentOutcome,
    score_first: bool,
) -> tuple[PhaseOutcome, PhaseOutcome]:
    """The two lexicographic phases; each keeps the previous phase's grouping when it finds no better."""
    ones = np.ones(arcs.rows.size, dtype=np.int64)
    if score_first:
        first = solve_phase(
            arcs, scores, [], working, fallback=start, fallback_bound=relaxed.score_units, complete=complete
        )
        floor = Floor(scores, first.value if first.value is not None else 0)
        count_bound = int(np.unique(arcs.rows).size)
        second = solve_phase(
            arcs, ones, [floor], working, fallback=first.chosen, fallback_bound=count_bound, complete=complete
        )
        return first, second
    reached = int(start.sum())
    if reached == relaxed.matched:  # the flow's count bounds every grouping's: the maximum is proven
        first = PhaseOutcome(start, reached, reached, True, int(working.sum()), 0, 0, 0)
    else:
        first = solve_phase(
            arcs, ones, [], working, fallback=start, fallback_bound=relaxed.matched, complete=complete
        )
    floor = Floor(ones, first.value if first.value is not None else 0)
    ceiling = relaxed.score_units if first.value == relaxed.matched else _score_ceiling(arcs, scores)
    second = solve_phase(
        arcs, scores, [floor], working, fallback=first.chosen, fallback_bound=ceiling, complete=complete
    )
    return first, second


def _max_groupable(
    arcs: GroupArcs, complete: Completion, working: BoolArray, start: BoolArray, relaxed_count: int
) -> int | None:
    """The most mentees valid groups can take (score ignored), when proven."""
    if int(start.sum()) == relaxed_count:
        return relaxed_count
    ones = np.ones(arcs.rows.size, dtype=np.int64)
    outcome = solve_phase(
        arcs, ones, [], working, fallback=start, fallback_bound=relaxed_count, complete=complete
    )
    return outcome.value if outcome.proven else None


def solve_group(prepared: PreparedProgram) -> MatchingResult:
    """Exact when the flow relaxation (no minimum size) already forms valid groups, which it proves;
    otherwise the certified two-phase MILP, started from the repaired relaxation."""
    settings = prepared.settings
    evaluator = prepared.evaluator
    n_rows, n_cols = evaluator.shape
    matrix = candidate_matrix(evaluator)
    room = np.maximum(evaluator.index.room(), 0)
    score_first = settings.objective is Objective.MAX_SCORE
    relaxed = _relaxation(matrix, room, settings, np.zeros(n_cols, dtype=np.bool_))
    details: dict[str, float | int | str] = {"relaxation_valid": 1}
    max_matchable: int | None = relaxed.matched
    if not _undersized(relaxed.mentor_of, n_cols, settings.group_min_size).size:
        mentor_of = relaxed.mentor_of
        exact = relaxed.proven_optimal
        total_units = relaxed.score_units
        optimum: int | None = total_units
        if score_first:
            max_matchable = _max_groupable_all(matrix, room, settings, relaxed)
    else:
        repaired = _repair(matrix, room, settings, relaxed)
        feasible = matrix != INFEASIBLE
        usable = feasible & (matrix >= 0) if score_first else feasible
        arcs = _arcs(matrix, room, settings, usable)
        scores = matrix[arcs.rows, arcs.cols].astype(np.int64)
        working = _working_set(arcs, matrix, usable, settings, relaxed.mentor_of, repaired)
        start = _arc_mask(arcs, *_assigned(repaired))
        complete = _completion(matrix, room, settings, arcs)
        first, second = _phases(arcs, complete, scores, working, start, relaxed, score_first)
        chosen = second.chosen if second.chosen is not None else start
        mentor_of = np.full(n_rows, -1, dtype=np.int64)
        mentor_of[arcs.rows[chosen]] = arcs.cols[chosen]
        exact = first.proven and second.proven
        total_units = int(scores[chosen].sum())
        score_phase = first if score_first else second
        optimum = score_phase.bound
        if score_first:
            max_matchable = _max_groupable_all(matrix, room, settings, relaxed)
        else:
            max_matchable = first.value if first.proven else None
        details = {
            "relaxation_valid": 0,
            "milp_working_arcs": max(first.working_arcs, second.working_arcs),
            "feasible_arcs": int(arcs.rows.size),
            "lp_pricing_rounds": first.lp_rounds + second.lp_rounds,
            "milp_rounds": first.milp_rounds + second.milp_rounds,
            "milp_nodes": first.nodes + second.nodes,
            "count_bound": first.bound if not score_first else second.bound,
            "score_gap": 0.0 if not optimum else max(0.0, 1.0 - total_units / optimum),
        }
    matched_rows, sel_cols = _assigned(mentor_of)
    matches = build_matches(prepared, matched_rows, sel_cols, group=True)
    load = np.bincount(sel_cols, minlength=n_cols)
    unmatched: list[Unmatched] = list(prepared.turned_away)
    unmatched += mentee_reasons(
        prepared, matrix, np.flatnonzero(mentor_of < 0), load >= room, mentor_open=load > 0
    )
    unmatched += mentor_reasons(prepared, matrix, np.flatnonzero(load == 0), mentor_of >= 0, room)
    details["groups"] = int((load > 0).sum())
    quality = QualityReport(
        solver="min_cost_flow_group" if details["relaxation_valid"] else "highs_milp_group",
        objective=settings.objective,
        total_score=total_units / 1000,
        optimum_score=None if optimum is None else optimum / 1000,
        share_of_optimum=None if optimum is None else (1.0 if optimum <= 0 else total_units / optimum),
        optimality=Optimality.PROVEN_OPTIMAL if exact else Optimality.WITHIN_BOUND,
        matched=int(matched_rows.size),
        max_matchable=max_matchable,
        candidates=n_rows,
        blocking_pairs=None,
        solve_seconds=0.0,
        details=details,
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)


def _max_groupable_all(
    matrix: Int32Array, room: IntArray, settings: ProgramSettings, relaxed: AssignmentOutcome
) -> int | None:
    """Score-first programs: the most mentees valid groups can take over every feasible pair."""
    most = solve_assignment(matrix, room, GainRule.CARDINALITY)
    if not _undersized(most.mentor_of, matrix.shape[1], settings.group_min_size).size:
        return most.matched
    repaired = _repair(matrix, room, settings, most)
    arcs = _arcs(matrix, room, settings, matrix != INFEASIBLE)
    working = _working_set(arcs, matrix, matrix != INFEASIBLE, settings, most.mentor_of, repaired)
    complete = _completion(matrix, room, settings, arcs)
    return _max_groupable(arcs, complete, working, _arc_mask(arcs, *_assigned(repaired)), most.matched)
