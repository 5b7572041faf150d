"""The health of a relationship: at risk when it misses its cadence, or when both sides' recent ratings
drop; healthy again when neither holds. Only the change is news: an assessment that finds what was
already known changes nothing.

- Missed cadence: no session completed for more than 1.5 intervals of the program's cadence, counted
  from the last completed session, or from the relationship's start (not before its cohort's) when it
  has held none.
- Ratings dropped: on each side (the mentor's feedback, the mentees'), the latest rating is at least a
  point below the mean of the up to three before it.

Reasons are codes, never what anyone wrote.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

MISSED_FACTOR: Final = 1.5
RATING_DROP: Final = 1.0
RATINGS_COMPARED: Final = 3


class RiskReason(enum.StrEnum):
    MISSED_CADENCE = "missed_cadence"
    RATINGS_DROPPED = "ratings_dropped"


@dataclass(frozen=True, slots=True)
class Health:
    """What is known of a relationship's health: at risk for ``reasons`` (none: healthy) since
    ``since`` (when it last changed)."""

    reasons: tuple[RiskReason, ...] = ()
    since: datetime | None = None

    @property
    def at_risk(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True, slots=True)
class HealthFacts:
    """What an assessment looks at. ``ratings`` of each side oldest first."""

    every_days: int
    started_at: datetime
    last_completed: datetime | None
    mentor_ratings: Sequence[int] = ()
    mentee_ratings: Sequence[int] = ()


def missed_cadence(facts: HealthFacts, now: datetime) -> bool:
    if facts.every_days <= 0:
        return False
    reference = facts.last_completed if facts.last_completed is not None else facts.started_at
    return now - reference > timedelta(days=facts.every_days) * MISSED_FACTOR


def ratings_dropped(ratings: Sequence[int]) -> bool:
    """The latest rating is at least RATING_DROP below the mean of the up to RATINGS_COMPARED before it."""
    if len(ratings) < 2:
        return False
    earlier = ratings[-1 - RATINGS_COMPARED : -1]
    return ratings[-1] <= sum(earlier) / len(earlier) - RATING_DROP


def reasons_of(facts: HealthFacts, now: datetime) -> tuple[RiskReason, ...]:
    reasons: list[RiskReason] = []
    if missed_cadence(facts, now):
        reasons.append(RiskReason.MISSED_CADENCE)
    if ratings_dropped(facts.mentor_ratings) and ratings_dropped(facts.mentee_ratings):
        reasons.append(RiskReason.RATINGS_DROPPED)
    return tuple(reasons)


def assess(known: Health, facts: HealthFacts, now: datetime) -> Health | None:
    """The relationship's new health, or None when nothing changed (the same reasons)."""
    reasons = reasons_of(facts, now)
    if set(reasons) == set(known.reasons):
        return None
    return Health(reasons, now)
