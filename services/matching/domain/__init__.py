"""Pure matching engine: model, hard rules, scores, solvers, quality. No I/O, no framework imports.

Public API (import from here):

- model: ``Participant``, ``Pool``, ``ProgramSettings``, ``ScoringWeights``, ``Role``, ``ProgramFormat``,
  ``Delivery``, ``Objective``; results ``MatchingResult``, ``Match``, ``Unmatched``, ``UnmatchedCode``,
  ``QualityReport``, ``Optimality``, ``ScoreBreakdown``;
- ``check_pair(mentor, mentee, settings, *, mentor_current_load=0) -> list[str]`` (``HardRule`` names);
- ``score_pair(mentor, mentee, settings) -> ScoreBreakdown`` / ``score_peers``;
- ``solve(pool, settings, *, eligibility=None) -> MatchingResult``;
- ``MentorIndex(mentors, settings)`` + ``propose_for_late_mentee(mentee, index, settings, ...)``;
- ``audit.run_audit(document) -> dict`` (JSON in, JSON out).
"""

from services.matching.domain.encoding import MentorIndex
from services.matching.domain.incremental import LateMenteeProposal, propose_for_late_mentee
from services.matching.domain.model import (
    COMPONENTS,
    MAX_NOMINATIONS,
    SCORE_SCALE,
    Delivery,
    Match,
    MatchingResult,
    Objective,
    Optimality,
    Participant,
    Pool,
    ProgramFormat,
    ProgramSettings,
    QualityReport,
    Role,
    ScoreBreakdown,
    ScoringWeights,
    Unmatched,
    UnmatchedCode,
    normalise_tag,
)
from services.matching.domain.rules import HardRule, check_pair
from services.matching.domain.scoring import score_pair, score_peers
from services.matching.domain.solver import solve, solver_name

__all__ = [
    "COMPONENTS",
    "MAX_NOMINATIONS",
    "SCORE_SCALE",
    "Delivery",
    "HardRule",
    "LateMenteeProposal",
    "Match",
    "MatchingResult",
    "MentorIndex",
    "Objective",
    "Optimality",
    "Participant",
    "Pool",
    "ProgramFormat",
    "ProgramSettings",
    "QualityReport",
    "Role",
    "ScoreBreakdown",
    "ScoringWeights",
    "Unmatched",
    "UnmatchedCode",
    "check_pair",
    "normalise_tag",
    "propose_for_late_mentee",
    "score_pair",
    "score_peers",
    "solve",
    "solver_name",
]
