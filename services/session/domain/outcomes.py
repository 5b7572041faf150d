"""What became of a program's relationships, as counts without personal data: for reports to HR and the
program's managers.

Satisfaction is the mean rating each side gave, in its feedback on sessions and in its closing reviews;
a side's mean is told only when at least MIN_GROUP relationships gave ratings on that side, so that no
mean is one person's (or two people's) rating in disguise. A relationship *ended early* when it ended
before its program's cohort did (or, for a program without an end date, whenever it ended); the cause is
the matching service's code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

MIN_GROUP: Final = 5


class EndCause(enum.StrEnum):
    """Why a relationship ended (the matching service's MatchEnded.cause)."""

    UNSPECIFIED = "unspecified"
    AT_WILL = "at_will"
    MANAGEMENT_CHAIN = "management_chain"
    PARTICIPANT_PAUSED = "participant_paused"
    PARTICIPANT_WITHDRAWN = "participant_withdrawn"
    EMPLOYEE_TERMINATED = "employee_terminated"
    EMPLOYEE_ERASED = "employee_erased"


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """One side's ratings: how many, from how many relationships, and their mean (None: too few
    relationships to tell it without telling someone's)."""

    ratings: int = 0
    relationships: int = 0
    mean: float | None = None


def satisfaction(ratings: int, total: int, relationships: int) -> Satisfaction:
    """``total`` is the sum of the ``ratings`` given in ``relationships`` relationships."""
    if ratings == 0 or relationships < MIN_GROUP:
        return Satisfaction(ratings, relationships, None)
    return Satisfaction(ratings, relationships, round(total / ratings, 2))


@dataclass(frozen=True, slots=True)
class ProgramOutcomes:
    program_id: str
    relationships: int = 0
    active: int = 0
    at_risk: int = 0
    ended: int = 0
    ended_early: int = 0
    ended_early_by_cause: Mapping[EndCause, int] = field(default_factory=dict)
    sessions_planned: int = 0  # occurrences of the relationships' plans, less those skipped
    sessions_scheduled: int = 0  # sessions booked and still to be held (or to be recorded)
    sessions_held: int = 0  # sessions completed
    sessions_cancelled: int = 0
    by_mentors: Satisfaction = Satisfaction()  # session feedback
    by_mentees: Satisfaction = Satisfaction()
    goals_total: int = 0
    goals_attained: int = 0  # named attained in a closing review
    closing_by_mentors: Satisfaction = Satisfaction()  # closing reviews' satisfaction
    closing_by_mentees: Satisfaction = Satisfaction()
    mentor_benefits: Mapping[str, int] = field(default_factory=dict)  # benefit -> mentors naming it


def ended_early(ended_at: datetime, window_end: datetime | None) -> bool:
    return window_end is None or ended_at < window_end
