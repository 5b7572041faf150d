"""A late mentee joins a live program: the best feasible mentor with room, in milliseconds.

Keep a ``MentorIndex`` per live program (rebuild it when mentors change) and pass the current loads;
the proposal is one vectorised row of the candidate matrix. Existing matches are not reshuffled: a late
arrival takes the best remaining seat (re-run ``solve`` for a global re-optimisation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from services.matching.domain import reasons
from services.matching.domain.candidates import CandidateEvaluator
from services.matching.domain.encoding import INFEASIBLE, MenteeBlock, MentorIndex
from services.matching.domain.model import (
    Match,
    Participant,
    ProgramFormat,
    ProgramSettings,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.rules import HardRule
from services.shared.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class LateMenteeProposal:
    """``match`` is the best mentor (None with a ``reason`` when there is none); ``alternatives`` are the
    next best feasible mentors, best first, for a human to choose from."""

    match: Match | None
    reason: Unmatched | None
    alternatives: tuple[Match, ...] = ()


def propose_for_late_mentee(
    mentee: Participant,
    mentors: MentorIndex | Sequence[Participant],
    settings: ProgramSettings,
    *,
    mentor_loads: Mapping[str, int] | None = None,
    alternatives: int = 3,
) -> LateMenteeProposal:
    """Best feasible mentor for ``mentee`` given the mentees each mentor already holds in this program
    (``mentor_loads``: participant id -> count). Group programs place a late mentee only in an existing
    group with room (a group of one would break the minimum size)."""
    index = mentors if isinstance(mentors, MentorIndex) else MentorIndex(mentors, settings)
    if index.settings != settings:
        raise InvalidArgument("mentors", "the MentorIndex was built for other program settings")
    _, mentees, turned_away = reasons.gate([mentee], settings, None)
    if turned_away:
        return LateMenteeProposal(None, turned_away[0])
    if not mentees:
        text = f"a {mentee.role} cannot join a {settings.format} program as a mentee"
        return LateMenteeProposal(
            None, reasons.simple(mentee, UnmatchedCode.ROLE_NOT_IN_FORMAT, text, rule=HardRule.ROLE)
        )
    loads = np.zeros(len(index), dtype=np.int64)
    for participant_id, load in (mentor_loads or {}).items():
        position = index.position_by_participant.get(participant_id)
        if position is not None:
            loads[position] = load
    block = MenteeBlock([mentee], index)
    evaluator = CandidateEvaluator(block, index, settings, mentor_loads=loads)
    row = np.zeros(1, dtype=np.int64)
    scores = evaluator.masked_scores(row)[0].astype(np.int64)
    if settings.format is ProgramFormat.GROUP and settings.group_min_size > 1:
        scores[loads == 0] = INFEASIBLE
    feasible = np.flatnonzero(scores != INFEASIBLE)
    if feasible.size == 0:
        return LateMenteeProposal(None, _why_not(mentee, evaluator, settings))
    best = feasible[np.argsort(-scores[feasible], kind="stable")[: 1 + alternatives]]
    breakdowns = evaluator.breakdowns(np.zeros(best.size, dtype=np.int64), best.astype(np.int64))
    proposals = [
        Match(index.participants[int(col)].participant_id, mentee.participant_id, b.total, b.points)
        for col, b in zip(best, breakdowns, strict=True)
    ]
    return LateMenteeProposal(proposals[0], None, tuple(proposals[1:]))


def _why_not(mentee: Participant, evaluator: CandidateEvaluator, settings: ProgramSettings) -> Unmatched:
    if mentee.remaining_capacity < 1:
        return reasons.simple(
            mentee, UnmatchedCode.NO_REMAINING_CAPACITY, reasons.capacity_text(mentee), rule=HardRule.CAPACITY
        )
    row = np.zeros(1, dtype=np.int64)
    if settings.format is ProgramFormat.GROUP and evaluator.feasible(row)[0].any():
        text = "no existing group with room accepts this mentee"
        return reasons.simple(mentee, UnmatchedCode.GROUP_BELOW_MINIMUM, text)
    (diagnosis,) = reasons.diagnose(evaluator, row, mentees=True)
    if diagnosis.dominant_rule == HardRule.CAPACITY:
        full = diagnosis.rule_counts[HardRule.CAPACITY]
        text = f"{full} mentors are at capacity and no mentor with room passes the hard rules"
        return reasons.simple(mentee, UnmatchedCode.CAPACITY_EXHAUSTED, text, rule=HardRule.CAPACITY)
    return reasons.no_eligible(mentee, UnmatchedCode.NO_ELIGIBLE_MENTOR, "mentor", diagnosis)
