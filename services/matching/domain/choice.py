"""Mentee-choice programs: deferred acceptance (Gale-Shapley, mentee-proposing, mentor capacities).

Mentees rank the mentors they nominated (feasible ones, in their order; optionally followed by their
other feasible mentors by score, up to ``candidates_per_mentee``); mentors rank mentees by pair score
(ties: earlier enrollment first). The result is stable for those lists (no blocking pair) and the best
stable outcome for every mentee. It is compared with the exact score optimum of the same program, so
the "price of choice" is measured, not guessed.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence

import numpy as np

from services.matching.domain import reasons
from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE, Int32Array, IntArray
from services.matching.domain.flow import GainRule, solve_assignment
from services.matching.domain.model import (
    MatchingResult,
    Objective,
    Optimality,
    QualityReport,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.program import PreparedProgram, build_matches, mentor_reasons
from services.matching.domain.reasons import RuleDiagnosis, dominant_rule


def deferred_acceptance(
    preferences: Sequence[Sequence[int]], priority: Int32Array, capacities: IntArray
) -> IntArray:
    """Mentee-proposing deferred acceptance; ``priority[i, j]``: how much mentor j wants mentee i."""
    n_rows = len(preferences)
    held: list[list[tuple[int, int]]] = [[] for _ in range(capacities.size)]
    next_choice = [0] * n_rows
    free = deque(i for i in range(n_rows) if preferences[i])
    while free:
        mentee = free.popleft()
        if next_choice[mentee] >= len(preferences[mentee]):
            continue
        mentor = preferences[mentee][next_choice[mentee]]
        next_choice[mentee] += 1
        key = (int(priority[mentee, mentor]), -mentee)
        heap = held[mentor]
        if len(heap) < capacities[mentor]:
            heapq.heappush(heap, key)
        elif heap and key > heap[0]:
            _, rejected = heapq.heapreplace(heap, key)
            free.append(-rejected)
        else:
            free.append(mentee)
    mentor_of = np.full(n_rows, -1, dtype=np.int64)
    for mentor, heap in enumerate(held):
        for _, negative in heap:
            mentor_of[-negative] = mentor
    return mentor_of


def blocking_pairs(
    preferences: Sequence[Sequence[int]], priority: Int32Array, capacities: IntArray, mentor_of: IntArray
) -> list[tuple[int, int]]:
    """Pairs where the mentee ranks the mentor above its own (or has none) and the mentor has room or
    ranks the mentee above its least preferred current mentee."""
    worst: dict[int, tuple[int, int]] = {}
    load = np.bincount(mentor_of[mentor_of >= 0], minlength=capacities.size)
    for mentee in np.flatnonzero(mentor_of >= 0).tolist():
        mentor = int(mentor_of[mentee])
        key = (int(priority[mentee, mentor]), -mentee)
        worst[mentor] = min(worst.get(mentor, key), key)
    found: list[tuple[int, int]] = []
    for mentee, ranked in enumerate(preferences):
        current = int(mentor_of[mentee])
        for mentor in ranked:
            if mentor == current:
                break
            if load[mentor] < capacities[mentor] or (int(priority[mentee, mentor]), -mentee) > worst[mentor]:
                found.append((mentee, mentor))
    return found


def _preferences(prepared: PreparedProgram, matrix: Int32Array) -> list[list[int]]:
    settings = prepared.settings
    nominations = prepared.evaluator.block.nominations
    ranked: list[list[int]] = [[] for _ in range(matrix.shape[0])]
    for row, col, _ in sorted(
        zip(nominations.rows.tolist(), nominations.cols.tolist(), nominations.values.tolist(), strict=True),
        key=lambda t: (t[0], t[2]),
    ):
        if matrix[row, col] != INFEASIBLE:
            ranked[row].append(col)
    if settings.choice_fallback_to_scores:
        extra = max(settings.candidates_per_mentee, 1)
        for row, listed in enumerate(ranked):
            options = np.flatnonzero(matrix[row] != INFEASIBLE)
            best = options[np.argsort(-matrix[row, options], kind="stable")][: extra + len(listed)]
            chosen = set(listed)
            listed.extend(int(col) for col in best if int(col) not in chosen)
            del listed[len(chosen) + extra :]
    return ranked


def solve_choice(prepared: PreparedProgram) -> MatchingResult:
    settings = prepared.settings
    evaluator = prepared.evaluator
    n_rows, n_cols = evaluator.shape
    matrix = candidate_matrix(evaluator)
    room = np.maximum(evaluator.index.room(), 0)
    preferences = _preferences(prepared, matrix)
    mentor_of = deferred_acceptance(preferences, matrix, room)
    matched_rows = np.flatnonzero(mentor_of >= 0)
    matches = build_matches(prepared, matched_rows, mentor_of[matched_rows])
    blocking = blocking_pairs(preferences, matrix, room, mentor_of)
    optimum = solve_assignment(
        matrix,
        room,
        GainRule.of(settings.objective),
        per_mentee=settings.candidates_per_mentee,
        per_mentor=settings.candidates_per_mentor,
    )
    if settings.objective is Objective.MAX_MATCHED_THEN_SCORE:
        max_matchable = optimum.matched
    else:
        max_matchable = solve_assignment(matrix, room, GainRule.CARDINALITY).matched
    total_units = int(matrix[matched_rows, mentor_of[matched_rows]].astype(np.int64).sum())
    unmatched: list[Unmatched] = list(prepared.turned_away)
    nominated_cols: dict[int, list[int]] = {}
    for row, col in zip(
        evaluator.block.nominations.rows.tolist(), evaluator.block.nominations.cols.tolist(), strict=True
    ):
        nominated_cols.setdefault(row, []).append(col)
    for row in np.flatnonzero(mentor_of < 0).tolist():
        mentee = prepared.mentees[row]
        if preferences[row]:
            text = f"all {len(preferences[row])} ranked mentors are full with mentees they rank higher"
            unmatched.append(reasons.simple(mentee, UnmatchedCode.NOMINATIONS_FULL, text))
        elif settings.choice_fallback_to_scores:
            (diagnosis,) = reasons.diagnose(evaluator, np.array([row], dtype=np.int64), mentees=True)
            unmatched.append(
                reasons.no_eligible(mentee, UnmatchedCode.NO_ELIGIBLE_MENTOR, "mentor", diagnosis)
            )
        elif row not in nominated_cols:
            unmatched.append(
                reasons.simple(mentee, UnmatchedCode.NO_NOMINATIONS, "nominated no mentor of this program")
            )
        else:
            cols = np.asarray(nominated_cols[row], dtype=np.int64)
            totals, alone = evaluator.rule_counts(rows=np.array([row], dtype=np.int64), cols=cols, axis=1)
            counts = {rule: int(values[0]) for rule, values in totals.items() if values[0]}
            diagnosis = RuleDiagnosis(
                dominant_rule(counts, {rule: int(values[0]) for rule, values in alone.items()}),
                counts,
                int(cols.size),
            )
            unmatched.append(
                Unmatched(
                    mentee.participant_id,
                    mentee.role,
                    UnmatchedCode.NO_FEASIBLE_NOMINATION,
                    reasons.no_eligible_text("nominated mentor", diagnosis),
                    diagnosis.dominant_rule,
                    diagnosis.rule_counts,
                )
            )
    load = np.bincount(mentor_of[matched_rows], minlength=n_cols)
    ranked_by_anyone = np.zeros(n_cols, dtype=np.bool_)
    for listed in preferences:
        ranked_by_anyone[listed] = True
    idle = np.flatnonzero(load == 0)
    for reason in mentor_reasons(prepared, matrix, idle, mentor_of >= 0, room):
        col = prepared.evaluator.index.position_by_participant[reason.participant_id]
        if reason.code is UnmatchedCode.NO_ELIGIBLE_MENTEE or ranked_by_anyone[col] or room[col] < 1:
            unmatched.append(reason)
        else:
            unmatched.append(
                Unmatched(
                    reason.participant_id,
                    reason.role,
                    UnmatchedCode.NOT_CHOSEN,
                    "no eligible mentee ranked this mentor",
                )
            )
    share = total_units / optimum.score_units if optimum.score_units > 0 else None
    quality = QualityReport(
        solver="deferred_acceptance",
        objective=settings.objective,
        total_score=total_units / 1000,
        optimum_score=optimum.score_units / 1000 if optimum.proven_optimal else None,
        share_of_optimum=share if optimum.proven_optimal else None,
        optimality=Optimality.NOT_OPTIMISED,
        matched=int(matched_rows.size),
        max_matchable=max_matchable,
        candidates=n_rows,
        blocking_pairs=len(blocking),
        solve_seconds=0.0,
        details={
            "stable": int(not blocking),
            "optimum_matched": optimum.matched,
            "ranked_pairs": sum(len(listed) for listed in preferences),
        },
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)
