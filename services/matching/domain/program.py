"""A program ready to solve: who takes part, their encoding, and helpers shared by the solvers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from services.matching.domain import reasons
from services.matching.domain.candidates import CandidateEvaluator
from services.matching.domain.encoding import (
    INFEASIBLE,
    BoolArray,
    Int32Array,
    IntArray,
    MenteeBlock,
    MentorIndex,
)
from services.matching.domain.model import (
    SCORE_SCALE,
    Match,
    Objective,
    Participant,
    Pool,
    ProgramFormat,
    ProgramSettings,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.rules import HardRule


@dataclass(frozen=True, slots=True)
class PreparedProgram:
    settings: ProgramSettings
    mentors: tuple[Participant, ...]
    mentees: tuple[Participant, ...]
    turned_away: tuple[Unmatched, ...]
    evaluator: CandidateEvaluator


def prepare(
    pool: Pool, settings: ProgramSettings, eligibility: Callable[[Participant], str | None] | None = None
) -> PreparedProgram:
    mentors, mentees, turned_away = reasons.gate(pool.participants, settings, eligibility)
    index = MentorIndex(mentors, settings)
    block = MenteeBlock(mentees, index)
    return PreparedProgram(
        settings,
        tuple(mentors),
        tuple(mentees),
        tuple(turned_away),
        CandidateEvaluator(block, index, settings),
    )


def build_matches(
    prepared: PreparedProgram,
    rows: IntArray,
    cols: IntArray,
    *,
    round_indexes: IntArray | None = None,
    skill_areas: list[str | None] | None = None,
    group: bool = False,
) -> list[Match]:
    """Matches with their breakdowns for mentee positions ``rows`` and mentor positions ``cols``."""
    breakdowns = prepared.evaluator.breakdowns(rows, cols)
    out: list[Match] = []
    for k, breakdown in enumerate(breakdowns):
        mentor = prepared.mentors[int(cols[k])]
        out.append(
            Match(
                mentor_id=mentor.participant_id,
                mentee_id=prepared.mentees[int(rows[k])].participant_id,
                score=breakdown.total,
                breakdown=breakdown.points,
                skill_area=skill_areas[k] if skill_areas is not None else None,
                round_index=int(round_indexes[k]) if round_indexes is not None else None,
                group_id=mentor.participant_id if group else None,
            )
        )
    return out


def mentee_reasons(
    prepared: PreparedProgram,
    matrix: Int32Array,
    unmatched_rows: IntArray,
    mentor_full: BoolArray,
    *,
    mentor_open: BoolArray | None = None,
) -> list[Unmatched]:
    """Reasons for mentees left without a mentor by an assignment-style solver.

    ``mentor_full``: mentors at capacity; ``mentor_open`` (group programs): mentors that lead a group.
    """
    settings = prepared.settings
    out: list[Unmatched] = []
    no_option = [int(row) for row in unmatched_rows if not (matrix[row] != INFEASIBLE).any()]
    diagnoses = dict(
        zip(
            no_option,
            reasons.diagnose(prepared.evaluator, np.asarray(no_option, dtype=np.int64), mentees=True),
            strict=True,
        )
    )
    for row in (int(r) for r in unmatched_rows):
        mentee = prepared.mentees[row]
        if mentee.remaining_capacity < 1:
            out.append(
                reasons.simple(
                    mentee,
                    UnmatchedCode.NO_REMAINING_CAPACITY,
                    reasons.capacity_text(mentee),
                    rule=HardRule.CAPACITY,
                )
            )
            continue
        if row in diagnoses:
            out.append(
                reasons.no_eligible(mentee, UnmatchedCode.NO_ELIGIBLE_MENTOR, "mentor", diagnoses[row])
            )
            continue
        options = matrix[row] != INFEASIBLE
        if mentor_open is not None and (options & ~mentor_open).any():
            closed = int((options & ~mentor_open).sum())
            text = f"{closed} eligible mentors could not gather a group of {settings.group_min_size}"
            out.append(reasons.simple(mentee, UnmatchedCode.GROUP_BELOW_MINIMUM, text))
        elif (options & ~mentor_full).any():
            text = "every eligible mentor with room scores below what the objective accepts"
            code = UnmatchedCode.SCORE_NOT_BENEFICIAL
            if settings.objective is Objective.MAX_MATCHED_THEN_SCORE:
                text = "not placed: solver time limit, or candidate pruning without the optimality proof"
                code = UnmatchedCode.SOLVER_LIMIT
            out.append(reasons.simple(mentee, code, text))
        else:
            text = f"all {int(options.sum())} eligible mentors are at capacity with other mentees"
            out.append(reasons.simple(mentee, UnmatchedCode.CAPACITY_EXHAUSTED, text, rule=HardRule.CAPACITY))
    return out


def mentor_reasons(
    prepared: PreparedProgram,
    matrix: Int32Array,
    idle_cols: IntArray,
    mentee_matched: BoolArray,
    room: IntArray,
) -> list[Unmatched]:
    """Reasons for mentors that got no mentee."""
    settings = prepared.settings
    out: list[Unmatched] = []
    no_option = [int(col) for col in idle_cols if not (matrix[:, col] != INFEASIBLE).any()]
    diagnoses = dict(
        zip(
            no_option,
            reasons.diagnose(prepared.evaluator, np.asarray(no_option, dtype=np.int64), mentees=False),
            strict=True,
        )
    )
    needed = settings.group_min_size if settings.format is ProgramFormat.GROUP else 1
    for col in (int(c) for c in idle_cols):
        mentor = prepared.mentors[col]
        if room[col] < needed:
            out.append(
                reasons.simple(
                    mentor,
                    UnmatchedCode.NO_REMAINING_CAPACITY,
                    reasons.capacity_text(mentor),
                    rule=HardRule.CAPACITY,
                )
            )
        elif col in diagnoses:
            out.append(
                reasons.no_eligible(mentor, UnmatchedCode.NO_ELIGIBLE_MENTEE, "mentee", diagnoses[col])
            )
        else:
            options = matrix[:, col] != INFEASIBLE
            free = int((options & ~mentee_matched).sum())
            if settings.format is ProgramFormat.GROUP:
                text = f"{int(options.sum())} eligible mentees ({free} free): too few for a group of {needed}"
                out.append(reasons.simple(mentor, UnmatchedCode.GROUP_BELOW_MINIMUM, text))
            elif free:
                text = "every eligible free mentee scores below what the objective accepts"
                out.append(reasons.simple(mentor, UnmatchedCode.SCORE_NOT_BENEFICIAL, text))
            else:
                text = (
                    f"all {int(options.sum())} eligible mentees are matched to mentors that serve them better"
                )
                out.append(reasons.simple(mentor, UnmatchedCode.PARTNERS_MATCHED_ELSEWHERE, text))
    return out


def units_to_points(units: int) -> float:
    return units / SCORE_SCALE
