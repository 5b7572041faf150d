"""Soft score of a pair: weighted components, each a value in [0, 1] times its weight, in milli-points.

Components (value before weighting):

- ``skills``: share of the mentee's wanted skills the mentor offers (coverage, not Jaccard: a mentor who
  offers many skills must not lose points for it). Each covered skill is worth
  floor(weight x 1000 / wanted) milli-points, so full coverage scores the weight less at most a few
  milli-points, and the component is linear in the shared count (one matrix product for all pairs).
- ``goals``: share of the skill tags of the mentee's goals the mentor offers (same rule).
- ``nomination``: (10 - rank) / 10 when the mentee nominated this mentor at 0-based ``rank``.
- ``diversity``: 1 when the two work in different departments and either asked for that.
- ``seniority_gap``: 1 inside the preferred grade gap (default 1..3 grades), fading linearly to 0 four
  grades beyond it; reverse programs measure the gap the other way, peer programs by |difference|.
- ``repeat_pairing``: 1 when the two were partners before; its points are subtracted.

Each component is an integer number of milli-points on its own, so that the total is an exact
integer sum; ``encoding`` computes the same numbers for millions of pairs at once.
"""

from __future__ import annotations

import math
from typing import Final

from services.matching.domain.model import (
    MAX_NOMINATIONS,
    SCORE_SCALE,
    Participant,
    ProgramFormat,
    ProgramSettings,
    ScoreBreakdown,
)

GAP_FADE_GRADES: Final = 4


def component_units(weight: float, value: float) -> int:
    """Points of one component in milli-points (round half to even, the same as ``numpy.rint``)."""
    return round(weight * value * SCORE_SCALE)


def per_item_units(weight: float, items: int) -> int:
    """Milli-points of each covered item of a set of ``items`` (floored: full coverage <= the weight)."""
    return math.floor(weight * SCORE_SCALE / items) if items else 0


def nomination_value(rank: int) -> float:
    return (MAX_NOMINATIONS - rank) / MAX_NOMINATIONS


def seniority_gap_value(mentor_grade: int, mentee_grade: int, settings: ProgramSettings) -> float:
    if settings.format is ProgramFormat.PEER:
        return max(0.0, 1.0 - abs(mentor_grade - mentee_grade) / (settings.peer_grade_tolerance + 1))
    gap = mentor_grade - mentee_grade
    if settings.format is ProgramFormat.REVERSE:
        gap = -gap
    if gap > settings.preferred_gap_max:
        return max(0.0, 1.0 - (gap - settings.preferred_gap_max) / GAP_FADE_GRADES)
    if gap < settings.preferred_gap_min:
        return max(0.0, 1.0 - (settings.preferred_gap_min - gap) / GAP_FADE_GRADES)
    return 1.0


def wants_diversity(mentor: Participant, mentee: Participant) -> bool:
    different = bool(mentor.department) and bool(mentee.department) and mentor.department != mentee.department
    return different and (mentor.prefers_other_department or mentee.prefers_other_department)


def score_pair(mentor: Participant, mentee: Participant, settings: ProgramSettings) -> ScoreBreakdown:
    """Score of ``mentor`` guiding ``mentee`` (hard rules are not checked here: see ``check_pair``)."""
    weights = settings.weights
    rank = mentee.nominations.index(mentor.employee_id) if mentor.employee_id in mentee.nominations else None
    repeat = mentor.employee_id in mentee.past_partner_ids or mentee.employee_id in mentor.past_partner_ids
    units = {
        "skills": len(mentee.skills_wanted & mentor.skills_offered)
        * per_item_units(weights.skills, len(mentee.skills_wanted)),
        "goals": len(mentee.goal_skill_tags & mentor.skills_offered)
        * per_item_units(weights.goals, len(mentee.goal_skill_tags)),
        "nomination": component_units(weights.nomination, nomination_value(rank)) if rank is not None else 0,
        "diversity": component_units(weights.diversity, 1.0) if wants_diversity(mentor, mentee) else 0,
        "seniority_gap": component_units(
            weights.seniority_gap, seniority_gap_value(mentor.grade, mentee.grade, settings)
        ),
        "repeat_pairing": -component_units(weights.repeat_pairing, 1.0) if repeat else 0,
    }
    return ScoreBreakdown(units=sum(units.values()), component_units=units)


def score_peers(first: Participant, second: Participant, settings: ProgramSettings) -> ScoreBreakdown:
    """A peer pair learns both ways: the sum of both directions (reported as their mean, see Match)."""
    one = score_pair(first, second, settings)
    other = score_pair(second, first, settings)
    units = {name: one.component_units[name] + other.component_units[name] for name in one.component_units}
    return ScoreBreakdown(units=one.units + other.units, component_units=units)
