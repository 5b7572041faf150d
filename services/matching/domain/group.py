"""Group mentoring: each mentor leads one group of ``group_min_size``..``group_max_size`` mentees (bounded
by the mentor's remaining capacity) or none at all.

1. Drop the minimum size and the problem is a b-matching: exact min-cost flow (``flow``). If every group
   it opens already has the minimum, that optimum is feasible, hence optimal, and proven so. In tight
   programs (more mentees than seats) this is the usual case and takes milliseconds.
2. Otherwise a feasible grouping is repaired from it (close the smallest undersized group, re-solve),
   and CP-SAT improves it within the time limit, lexicographically in phases (each phase fixes the
   previous optimum as a floor). The flow relaxation's optimum stays a proven upper bound, so the
   share of the optimum is reported even when CP-SAT does not finish.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE, BoolArray, Int32Array, IntArray
from services.matching.domain.flow import AssignmentOutcome, GainRule, solve_assignment, top_candidates
from services.matching.domain.model import (
    MatchingResult,
    Objective,
    Optimality,
    ProgramSettings,
    QualityReport,
    Unmatched,
)
from services.matching.domain.program import PreparedProgram, build_matches, mentee_reasons, mentor_reasons

# Above this many feasible pairs the model starts from each mentee's and mentor's best candidates.
GROUP_FULL_MODEL_ARCS = 60_000


@dataclass(frozen=True, slots=True)
class _Phase:
    value: int
    bound: int
    optimal: bool


def _solve_phase(
    model: cp_model.CpModel,
    objective: cp_model.LinearExprT,
    variables: list[cp_model.IntVar],
    hint: list[int] | None,
    seconds: float,
    workers: int,
) -> tuple[_Phase, list[int]] | None:
    model.clear_hints()  # type: ignore[no-untyped-call]
    if hint is not None:
        for variable, value in zip(variables, hint, strict=True):
            model.add_hint(variable, value)
    model.maximize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 7
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    values = [int(solver.value(variable)) for variable in variables]
    phase = _Phase(int(solver.objective_value), int(solver.best_objective_bound), status == cp_model.OPTIMAL)
    return phase, values


def _group_arcs(
    matrix: Int32Array, room: IntArray, objective: Objective, per_mentee: int, per_mentor: int
) -> tuple[IntArray, IntArray, bool]:
    usable = (
        matrix if objective is Objective.MAX_MATCHED_THEN_SCORE else np.where(matrix >= 0, matrix, INFEASIBLE)
    )
    count = int((usable != INFEASIBLE).sum())
    if count <= GROUP_FULL_MODEL_ARCS or per_mentee <= 0:
        rows, cols = np.nonzero(usable != INFEASIBLE)
        return rows.astype(np.int64), cols.astype(np.int64), False
    rows, cols = top_candidates(usable.astype(np.int32), room, per_mentee, max(per_mentor, 2))
    return rows, cols, True


def _run_model(
    rows: IntArray,
    cols: IntArray,
    scores: IntArray,
    room: IntArray,
    settings: ProgramSettings,
    score_first: bool,
    start: IntArray | None,
    known_count: int | None = None,
) -> tuple[list[_Phase], BoolArray, bool]:
    """Phases of the lexicographic objective (count then score, or score then count); the chosen arcs;
    whether the solver found no solution at some phase. ``start``: a feasible 0/1 pick per arc;
    ``known_count``: the proven most mentees (count first), so only the score phase runs."""
    model = cp_model.CpModel()
    picks = [model.new_bool_var(f"x{k}") for k in range(rows.size)]
    leads = {int(j): model.new_bool_var(f"y{j}") for j in np.unique(cols)}
    by_mentee: dict[int, list[cp_model.IntVar]] = {}
    by_mentor: dict[int, list[cp_model.IntVar]] = {}
    for k in range(rows.size):
        by_mentee.setdefault(int(rows[k]), []).append(picks[k])
        by_mentor.setdefault(int(cols[k]), []).append(picks[k])
        model.add_implication(picks[k], leads[int(cols[k])])
    for variables in by_mentee.values():
        model.add_at_most_one(variables)
    for mentor, variables in by_mentor.items():
        size = sum(variables)
        model.add(size >= settings.group_min_size * leads[mentor])
        model.add(size <= int(room[mentor]) * leads[mentor])
    variables = [*picks, *leads.values()]
    matched = sum(picks)
    scored = sum(int(score) * pick for score, pick in zip(scores, picks, strict=True))
    order = [scored, matched] if score_first else [matched, scored]
    phases: list[_Phase] = []
    if known_count is not None and not score_first:
        model.add(matched >= known_count)
        phases.append(_Phase(known_count, known_count, True))
        order = [scored]
    seconds = settings.solver_time_limit_seconds / len(order)
    hint: list[int] | None = None
    if start is not None:
        opened = np.zeros(int(cols.max(initial=0)) + 1, dtype=np.int64)
        np.maximum.at(opened, cols, start)
        hint = [*start.tolist(), *(int(opened[j]) for j in leads)]
    for level, objective in enumerate(order):
        outcome = _solve_phase(model, objective, variables, hint, seconds, settings.solver_workers)
        if outcome is None:
            break
        phase, hint = outcome
        phases.append(phase)
        if level + 1 < len(order):
            model.add(objective >= phase.value)
    chosen = (
        np.zeros(rows.size, dtype=np.bool_) if hint is None else np.asarray(hint[: rows.size], dtype=np.bool_)
    )
    return phases, chosen, len(phases) < 2


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
    matrix: Int32Array, room: IntArray, settings: ProgramSettings, start: AssignmentOutcome
) -> IntArray:
    """A feasible grouping from the relaxation: close the smallest undersized group, re-solve, repeat."""
    n_cols = matrix.shape[1]
    closed = np.zeros(n_cols, dtype=np.bool_)
    outcome = start
    for _ in range(n_cols):
        small = _undersized(outcome.mentor_of, n_cols, settings.group_min_size)
        if not small.size:
            return outcome.mentor_of
        load = np.bincount(outcome.mentor_of[outcome.mentor_of >= 0], minlength=n_cols)
        closed[small[np.argmin(load[small])]] = True
        outcome = _relaxation(matrix, room, settings, closed)
    return np.full(matrix.shape[0], -1, dtype=np.int64)


def solve_group(prepared: PreparedProgram) -> MatchingResult:
    """Exact when the flow relaxation (no minimum size) already forms valid groups, which it proves;
    otherwise CP-SAT, started from a repaired relaxation, within the time limit and a proven bound."""
    settings = prepared.settings
    evaluator = prepared.evaluator
    n_rows, n_cols = evaluator.shape
    matrix = candidate_matrix(evaluator)
    room = np.maximum(evaluator.index.room(), 0)
    score_first = settings.objective is Objective.MAX_SCORE
    relaxed = _relaxation(matrix, room, settings, np.zeros(n_cols, dtype=np.bool_))
    phases: list[_Phase] = []
    pruned = False
    solver_gave_up = False
    if not _undersized(relaxed.mentor_of, n_cols, settings.group_min_size).size:
        mentor_of = relaxed.mentor_of
        exact = relaxed.proven_optimal
    else:
        mentor_of = _repair(matrix, room, settings, relaxed)
        per_mentee, per_mentor = settings.candidates_per_mentee, settings.candidates_per_mentor
        rows, cols, pruned = _group_arcs(matrix, room, settings.objective, per_mentee, per_mentor)
        if pruned:  # the repaired grouping must stay reachable
            placed = np.flatnonzero(mentor_of >= 0)
            keys = np.union1d(rows * n_cols + cols, placed * n_cols + mentor_of[placed])
            rows, cols = keys // n_cols, keys % n_cols
        hint = (mentor_of[rows] == cols).astype(np.int64)
        repaired_count = int((mentor_of >= 0).sum())
        known = repaired_count if repaired_count == relaxed.matched and not score_first else None
        phases, chosen, solver_gave_up = _run_model(
            rows, cols, matrix[rows, cols].astype(np.int64), room, settings, score_first, hint, known
        )
        if phases and _better(chosen, rows, cols, matrix, mentor_of, score_first):
            mentor_of = np.full(n_rows, -1, dtype=np.int64)
            mentor_of[rows[chosen]] = cols[chosen]
        exact = len(phases) == 2 and all(phase.optimal for phase in phases) and not pruned
    matched_rows = np.flatnonzero(mentor_of >= 0)
    sel_cols = mentor_of[matched_rows]
    matches = build_matches(prepared, matched_rows, sel_cols, group=True)
    load = np.bincount(sel_cols, minlength=n_cols)
    unmatched: list[Unmatched] = list(prepared.turned_away)
    unmatched += mentee_reasons(
        prepared, matrix, np.flatnonzero(mentor_of < 0), load >= room, mentor_open=load > 0
    )
    unmatched += mentor_reasons(prepared, matrix, np.flatnonzero(load == 0), mentor_of >= 0, room)
    total_units = int(matrix[matched_rows, sel_cols].astype(np.int64).sum())
    bound = _score_bound(relaxed, phases, score_first, int(matched_rows.size))
    optimum: int | None = total_units if exact else bound
    optimality = Optimality.PROVEN_OPTIMAL if exact else Optimality.WITHIN_BOUND
    # The relaxation's count bounds every grouping's count: reaching it proves the maximum.
    max_matchable: int | None = relaxed.matched
    if score_first or int(matched_rows.size) < relaxed.matched:
        if phases and not score_first and not pruned and phases[0].optimal:
            max_matchable = phases[0].value
        else:
            max_matchable = _max_groupable(matrix, room, settings, int(matched_rows.size))
    quality = QualityReport(
        solver="cp_sat_group" if phases or solver_gave_up else "min_cost_flow_group",
        objective=settings.objective,
        total_score=total_units / 1000,
        optimum_score=None if optimum is None else optimum / 1000,
        share_of_optimum=None if optimum is None else (1.0 if optimum <= 0 else total_units / optimum),
        optimality=optimality,
        matched=int(matched_rows.size),
        max_matchable=max_matchable,
        candidates=n_rows,
        blocking_pairs=None,
        solve_seconds=0.0,
        details={
            "groups": int((load > 0).sum()),
            "relaxation_valid": int(not phases and not solver_gave_up),
            "cp_sat_phases": len(phases),
            "pruned": int(pruned),
        },
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)


def _better(
    chosen: BoolArray,
    rows: IntArray,
    cols: IntArray,
    matrix: Int32Array,
    mentor_of: IntArray,
    score_first: bool,
) -> bool:
    """Whether the CP-SAT solution beats the repaired relaxation lexicographically."""
    mine = (int(chosen.sum()), int(matrix[rows[chosen], cols[chosen]].astype(np.int64).sum()))
    matched = np.flatnonzero(mentor_of >= 0)
    theirs = (int(matched.size), int(matrix[matched, mentor_of[matched]].astype(np.int64).sum()))
    if score_first:
        return (mine[1], mine[0]) >= (theirs[1], theirs[0])
    return mine >= theirs


def _score_bound(
    relaxed: AssignmentOutcome, phases: list[_Phase], score_first: bool, matched: int
) -> int | None:
    """A proven upper bound of the score of the objective's optimum (the relaxation drops a constraint;
    CP-SAT proves its own bound)."""
    bounds: list[int] = []
    if score_first or relaxed.matched == matched:
        bounds.append(relaxed.score_units)
    if len(phases) == 2:
        bounds.append(phases[0 if score_first else 1].bound)
    return min(bounds) if bounds else None


def _max_groupable(matrix: Int32Array, room: IntArray, settings: ProgramSettings, reached: int) -> int | None:
    """The most mentees valid groups can take: the flow relaxation's count when its groups are valid or
    when a grouping with ``reached`` mentees attains it, else CP-SAT when it proves it in time."""
    most = solve_assignment(matrix, room, GainRule.CARDINALITY)
    if (
        most.matched == reached
        or not _undersized(most.mentor_of, matrix.shape[1], settings.group_min_size).size
    ):
        return most.matched
    rows, cols, pruned = _group_arcs(matrix, room, Objective.MAX_MATCHED_THEN_SCORE, 0, 0)
    if not rows.size:
        return 0
    phases, _, _ = _run_model(rows, cols, np.zeros(rows.size, dtype=np.int64), room, settings, False, None)
    return phases[0].value if phases and phases[0].optimal and not pruned else None
