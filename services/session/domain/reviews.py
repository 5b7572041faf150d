"""Closing reviews: when a relationship ends (at will, or with its program), each member looks back
once: which of its goals were attained, how satisfied they are, and, for the mentor, which of the
benefits the mentoring literature names they drew from it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from services.session.domain.model import (
    MAX_COMMENT_LENGTH,
    MAX_RATING,
    MIN_RATING,
    Relationship,
    Role,
    clean_text,
    require_aware,
)
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument

MAX_GOALS_ATTAINED: Final = 100


class MentorBenefit(enum.StrEnum):
    """What mentors draw from mentoring, as the literature names it."""

    SEEING_OTHERS_DEVELOP = "seeing_others_develop"  # satisfaction from seeing others develop
    NEW_PERSPECTIVES = "new_perspectives"
    SKILLS_STRENGTHENED = "skills_strengthened"  # their own skills (coaching, leadership) strengthened


@dataclass(frozen=True, slots=True)
class ClosingReview:
    match_id: str
    employee_id: str
    by: Role
    satisfaction: int
    goals_attained: tuple[str, ...]
    benefits: tuple[MentorBenefit, ...]
    comment: str
    submitted_at: datetime


def review(
    relationship: Relationship,
    author: str,
    satisfaction: int,
    goals_attained: Iterable[str],
    benefits: Iterable[MentorBenefit],
    comment: str,
    *,
    goal_ids: frozenset[str],
    program_over: bool,
    already_given: bool,
    now: datetime,
) -> ClosingReview:
    """A member's closing review of a relationship that has ended, or whose program has."""
    if not MIN_RATING <= satisfaction <= MAX_RATING:
        raise InvalidArgument("satisfaction", f"must be between {MIN_RATING} and {MAX_RATING}")
    attained = tuple(dict.fromkeys(goal.strip() for goal in goals_attained if goal.strip()))
    if len(attained) > MAX_GOALS_ATTAINED:
        raise InvalidArgument("goals_attained", f"at most {MAX_GOALS_ATTAINED}")
    drawn = tuple(dict.fromkeys(benefits))
    cleaned = clean_text(comment, "comment", MAX_COMMENT_LENGTH)
    role = relationship.role_of(author)
    if role is None:
        raise FailedPrecondition("not_a_participant", "only a member of the relationship reviews it")
    if drawn and role is not Role.MENTOR:
        raise InvalidArgument("benefits", "are the mentor's to name")
    unknown = [goal for goal in attained if goal not in goal_ids]
    if unknown:
        raise InvalidArgument("goals_attained", "names a goal the relationship does not have")
    if relationship.is_active and not program_over:
        raise FailedPrecondition(
            "relationship_not_ended", "a closing review comes when the relationship or its program ends"
        )
    if already_given:
        raise AlreadyExists("closing_review", relationship.match_id)
    return ClosingReview(
        match_id=relationship.match_id,
        employee_id=author,
        by=role,
        satisfaction=satisfaction,
        goals_attained=attained,
        benefits=drawn,
        comment=cleaned,
        submitted_at=require_aware(now, "now"),
    )
