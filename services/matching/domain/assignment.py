"""One mentor per mentee (one-on-one, reverse; any delivery): certified min-cost flow."""

from __future__ import annotations

import numpy as np

from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.flow import AssignmentOutcome, GainRule, count_blocking_pairs, solve_assignment
from services.matching.domain.model import (
    MatchingResult,
    Objective,
    Optimality,
    QualityReport,
)
from services.matching.domain.program import (
    PreparedProgram,
    build_matches,
    mentee_reasons,
    mentor_reasons,
    units_to_points,
)
from services.matching.domain.scoring import component_units


def solve_one_on_one(prepared: PreparedProgram) -> MatchingResult:
    settings = prepared.settings
    evaluator = prepared.evaluator
    matrix = candidate_matrix(evaluator)
    room = np.maximum(evaluator.index.room(), 0)

    def run(rule: GainRule) -> AssignmentOutcome:
        return solve_assignment(
            matrix,
            room,
            rule,
            per_mentee=settings.candidates_per_mentee,
            per_mentor=settings.candidates_per_mentor,
            certify=settings.certify_optimality,
            score_floor=-component_units(settings.weights.repeat_pairing, 1.0),  # the only negative part
        )

    outcome = run(GainRule.of(settings.objective))
    if settings.objective is Objective.MAX_MATCHED_THEN_SCORE:
        max_matchable: int | None = outcome.matched if outcome.proven_optimal else None
        cardinality_proven = outcome.proven_optimal
    else:
        cardinality = run(GainRule.CARDINALITY)
        max_matchable = cardinality.matched if cardinality.proven_optimal else None
        cardinality_proven = cardinality.proven_optimal
    mentor_of = outcome.mentor_of
    matched_rows = np.flatnonzero(mentor_of >= 0)
    matches = build_matches(prepared, matched_rows, mentor_of[matched_rows])
    load = np.bincount(mentor_of[matched_rows], minlength=len(prepared.mentors))
    unmatched = [
        *prepared.turned_away,
        *mentee_reasons(prepared, matrix, np.flatnonzero(mentor_of < 0), load >= room),
        *mentor_reasons(prepared, matrix, np.flatnonzero(load == 0), mentor_of >= 0, room),
    ]
    blocking, _ = count_blocking_pairs(matrix, mentor_of, room)
    total = units_to_points(outcome.score_units)
    if outcome.proven_optimal:
        optimality, optimum, share = Optimality.PROVEN_OPTIMAL, total, 1.0
    else:
        optimality, optimum, share = Optimality.OPTIMAL_ON_PRUNED_GRAPH, None, None
    quality = QualityReport(
        solver="min_cost_flow",
        objective=settings.objective,
        total_score=total,
        optimum_score=optimum,
        share_of_optimum=share,
        optimality=optimality,
        matched=outcome.matched,
        max_matchable=max_matchable,
        candidates=len(prepared.mentees),
        blocking_pairs=blocking,
        solve_seconds=0.0,
        details={
            "pricing_rounds": outcome.pricing_rounds,
            "arcs_solved": outcome.arcs_solved,
            "feasible_pairs": int((matrix != np.iinfo(np.int32).min).sum()),
            "max_matchable_proven": int(cardinality_proven),
        },
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)
