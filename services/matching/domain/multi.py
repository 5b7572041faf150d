"""Several mentors per mentee, one per requested skill area, never the same mentor twice for a mentee.

Min-cost flow on a three-layer network, solved exactly on the full graph:
source -> (mentee, area) [1] -> (mentee, mentor) [1] -> mentor [remaining capacity] -> sink, where an
area arc exists when the mentor offers that skill and the pair passes the hard rules. The middle layer
caps each (mentee, mentor) pair at one area. A mentee without requested areas asks for one mentor.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from services.matching.domain import reasons
from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE, BoolArray, IntArray
from services.matching.domain.model import (
    MatchingResult,
    Objective,
    Optimality,
    QualityReport,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.program import PreparedProgram, build_matches, mentor_reasons
from services.matching.domain.rules import HardRule


def _flow(
    unit_of_arc: IntArray,
    pair_of_arc: IntArray,
    pair_mentor: IntArray,
    gains: IntArray,
    n_units: int,
    mentor_caps: IntArray,
) -> BoolArray:
    n_pairs, n_mentors = pair_mentor.size, mentor_caps.size
    source = n_units + n_pairs + n_mentors
    sink = source + 1
    pair_base, mentor_base = n_units, n_units + n_pairs
    tails = np.concatenate(
        [
            np.full(n_units, source),
            unit_of_arc,
            pair_base + np.arange(n_pairs),
            mentor_base + np.arange(n_mentors),
            [source],
        ]
    )
    heads = np.concatenate(
        [
            np.arange(n_units),
            pair_base + pair_of_arc,
            mentor_base + pair_mentor,
            np.full(n_mentors, sink),
            [sink],
        ]
    )
    caps = np.concatenate([np.ones(n_units + unit_of_arc.size + n_pairs), mentor_caps, [n_units]])
    costs = np.concatenate([np.zeros(n_units), -gains, np.zeros(n_pairs + n_mentors + 1)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    flow.set_node_supply(source, n_units)
    flow.set_node_supply(sink, -n_units)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    area_arcs = np.asarray(arcs)[n_units : n_units + unit_of_arc.size].astype(np.int32)
    return np.asarray(flow.flows(area_arcs)) > 0


def _area_arcs(
    prepared: PreparedProgram, usable: BoolArray
) -> tuple[list[tuple[int, str | None]], IntArray, IntArray]:
    """(mentee, area) units and their arcs (unit index, mentor position) to mentors offering the area."""
    index = prepared.evaluator.index
    n_cols = len(index)
    offered = index.offered.tocsc()
    units: list[tuple[int, str | None]] = []
    unit_rows: list[IntArray] = []
    unit_cols: list[IntArray] = []
    for row, mentee in enumerate(prepared.mentees):
        candidates = np.flatnonzero(usable[row])
        for area in mentee.requested_skill_areas or (None,):
            if area is None:
                cols = candidates
            else:
                position = index.skills.get(area)
                offering = np.zeros(n_cols, dtype=np.bool_)
                if position is not None:
                    offering[offered.indices[offered.indptr[position] : offered.indptr[position + 1]]] = True
                cols = candidates[offering[candidates]]
            unit_rows.append(np.full(cols.size, len(units), dtype=np.int64))
            unit_cols.append(cols.astype(np.int64))
            units.append((row, area))
    unit_of_arc = np.concatenate(unit_rows) if unit_rows else np.zeros(0, dtype=np.int64)
    arc_cols = np.concatenate(unit_cols) if unit_cols else np.zeros(0, dtype=np.int64)
    return units, unit_of_arc, arc_cols


def _most_areas(prepared: PreparedProgram, feasible: BoolArray, room: IntArray) -> int:
    """The most (mentee, area) requests the hard rules allow to serve at once."""
    units, unit_of_arc, arc_cols = _area_arcs(prepared, feasible)
    if not unit_of_arc.size:
        return 0
    n_cols = max(len(prepared.mentors), 1)
    arc_rows = np.fromiter((row for row, _ in units), np.int64, len(units))[unit_of_arc]
    pair_keys, pair_of_arc = np.unique(arc_rows * n_cols + arc_cols, return_inverse=True)
    ones = np.ones(unit_of_arc.size, dtype=np.int64)
    return int(_flow(unit_of_arc, pair_of_arc.ravel(), pair_keys % n_cols, ones, len(units), room).sum())


def solve_multi_mentor(prepared: PreparedProgram) -> MatchingResult:
    settings = prepared.settings
    evaluator = prepared.evaluator
    index = evaluator.index
    n_rows, n_cols = evaluator.shape
    matrix = candidate_matrix(evaluator)
    room = np.maximum(index.room(), 0)
    usable = matrix != INFEASIBLE
    if settings.objective is Objective.MAX_SCORE:
        usable &= matrix >= 0
    units, unit_of_arc, arc_cols = _area_arcs(prepared, usable)
    unit_row = np.fromiter((row for row, _ in units), np.int64, len(units))
    arc_rows = unit_row[unit_of_arc]
    pair_keys, pair_of_arc = np.unique(arc_rows * max(n_cols, 1) + arc_cols, return_inverse=True)
    pair_mentor = pair_keys % max(n_cols, 1)
    scores = matrix[arc_rows, arc_cols].astype(np.int64)
    n_units = len(units)
    if settings.objective is Objective.MAX_SCORE:
        gains = scores * (n_units + 1) + 1
    else:
        spread = max(int(scores.max(initial=0)), 0) - min(int(scores.min(initial=0)), 0)
        gains = scores + n_units * spread + 1
    chosen = np.zeros(unit_of_arc.size, dtype=np.bool_)
    if unit_of_arc.size:
        chosen = _flow(unit_of_arc, pair_of_arc.ravel(), pair_mentor, gains, n_units, room)
    max_matchable = int(chosen.sum())
    if settings.objective is Objective.MAX_SCORE:
        max_matchable = _most_areas(prepared, matrix != INFEASIBLE, room)
    sel_units, sel_rows, sel_cols = unit_of_arc[chosen], arc_rows[chosen], arc_cols[chosen]
    matches = build_matches(prepared, sel_rows, sel_cols, skill_areas=[units[int(u)][1] for u in sel_units])
    load = np.bincount(sel_cols, minlength=n_cols)
    covered = np.zeros(n_units, dtype=np.bool_)
    covered[sel_units] = True
    feasible = matrix != INFEASIBLE
    _, feasible_unit_of_arc, feasible_cols = _area_arcs(prepared, feasible)
    bounds = np.searchsorted(feasible_unit_of_arc, np.arange(n_units + 1))  # arcs are grouped by unit
    unmatched: list[Unmatched] = list(prepared.turned_away)
    no_option_rows = sorted(
        {row for k, (row, _) in enumerate(units) if not covered[k] and not feasible[row].any()}
    )
    diagnoses = dict(
        zip(
            no_option_rows,
            reasons.diagnose(evaluator, np.asarray(no_option_rows, dtype=np.int64), mentees=True),
            strict=True,
        )
    )
    mentors_of: dict[int, set[int]] = {}
    for row, col in zip(sel_rows.tolist(), sel_cols.tolist(), strict=True):
        mentors_of.setdefault(row, set()).add(col)
    for k in np.flatnonzero(~covered).tolist():
        row, area = units[k]
        mentee = prepared.mentees[row]
        candidates = feasible_cols[bounds[k] : bounds[k + 1]]
        open_seats = [
            c for c in candidates.tolist() if load[c] < room[c] and c not in mentors_of.get(row, set())
        ]
        if row in diagnoses:
            found = reasons.no_eligible(mentee, UnmatchedCode.NO_ELIGIBLE_MENTOR, "mentor", diagnoses[row])
            code, text, rule, counts = found.code, found.text, found.dominant_rule, found.rule_counts
        elif not candidates.size:
            code, text, rule, counts = (
                UnmatchedCode.NO_MENTOR_FOR_SKILL_AREA,
                f"no eligible mentor offers '{area}'",
                None,
                {},
            )
        elif not open_seats:
            text = f"every eligible mentor for '{area}' is at capacity or already mentors this mentee"
            code, rule, counts = UnmatchedCode.CAPACITY_EXHAUSTED, HardRule.CAPACITY, {}
        else:
            text = f"every eligible mentor with room for '{area}' scores below what the objective accepts"
            code, rule, counts = UnmatchedCode.SCORE_NOT_BENEFICIAL, None, {}
        unmatched.append(Unmatched(mentee.participant_id, mentee.role, code, text, rule, counts, area))
    mentee_served = np.zeros(n_rows, dtype=np.bool_)
    mentee_served[sel_rows] = True
    unmatched += mentor_reasons(prepared, matrix, np.flatnonzero(load == 0), mentee_served, room)
    total = int(scores[chosen].sum()) / 1000
    quality = QualityReport(
        solver="min_cost_flow_skill_areas",
        objective=settings.objective,
        total_score=total,
        optimum_score=total,
        share_of_optimum=1.0,
        optimality=Optimality.PROVEN_OPTIMAL,
        matched=int(chosen.sum()),
        max_matchable=max_matchable,
        candidates=n_units,
        blocking_pairs=None,
        solve_seconds=0.0,
        details={"skill_area_requests": n_units, "area_arcs": int(unit_of_arc.size)},
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)
