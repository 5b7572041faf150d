"""Closing reviews in the store, what a program's outcomes count of them, and their erasure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.store import goals, metadata, relationships
from services.session.domain.model import Role
from services.session.domain.outcomes import Satisfaction, satisfaction
from services.session.domain.reviews import ClosingReview, MentorBenefit
from services.shared.db import UtcDateTime

closing_reviews = Table(
    "closing_reviews",
    metadata,
    Column("match_id", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("satisfaction", Integer, nullable=False),
    Column("goals_attained", JSON, nullable=False),
    Column("benefits", JSON, nullable=False),
    Column("comment", Text, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("match_id", "employee_id"),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
    Index("ix_closing_reviews_employee", "employee_id"),
)


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    goals_total: int = 0
    goals_attained: int = 0
    by_mentors: Satisfaction = field(default_factory=Satisfaction)
    by_mentees: Satisfaction = field(default_factory=Satisfaction)
    mentor_benefits: dict[MentorBenefit, int] = field(default_factory=dict)


async def goal_ids_of(session: AsyncSession, match_id: str) -> frozenset[str]:
    rows = await session.execute(select(goals.c.goal_id).where(goals.c.match_id == match_id))
    return frozenset(rows.scalars())


async def review_exists(session: AsyncSession, match_id: str, employee_id: str) -> bool:
    found = await session.execute(
        select(closing_reviews.c.match_id).where(
            closing_reviews.c.match_id == match_id, closing_reviews.c.employee_id == employee_id
        )
    )
    return found.first() is not None


async def insert_review(session: AsyncSession, given: ClosingReview) -> None:
    await session.execute(
        closing_reviews.insert().values(
            match_id=given.match_id,
            employee_id=given.employee_id,
            role=given.by.value,
            satisfaction=given.satisfaction,
            goals_attained=list(given.goals_attained),
            benefits=[benefit.value for benefit in given.benefits],
            comment=given.comment,
            submitted_at=given.submitted_at,
        )
    )


async def forget_reviews(session: AsyncSession, employee_id: str, tenant: str = "") -> None:
    """The person's closing reviews, in every relationship but those known to be another tenant's."""
    query = delete(closing_reviews).where(closing_reviews.c.employee_id == employee_id)
    if tenant:
        others = select(relationships.c.match_id).where(relationships.c.tenant != tenant)
        query = query.where(closing_reviews.c.match_id.not_in(others))
    await session.execute(query)


async def review_counts(session: AsyncSession, of_program: Any) -> ReviewCounts:
    """``of_program``: a select of the program's match ids."""
    goals_total = (
        await session.execute(select(func.count()).select_from(goals).where(goals.c.match_id.in_(of_program)))
    ).scalar_one()
    attained: set[tuple[str, str]] = set()
    ratings: dict[str, list[int]] = {Role.MENTOR.value: [], Role.MENTEE.value: []}
    matches: dict[str, set[str]] = {Role.MENTOR.value: set(), Role.MENTEE.value: set()}
    benefits: Counter[MentorBenefit] = Counter()
    for row in await session.execute(
        select(closing_reviews).where(closing_reviews.c.match_id.in_(of_program))
    ):
        attained.update((row.match_id, goal) for goal in row.goals_attained)
        ratings[row.role].append(row.satisfaction)
        matches[row.role].add(row.match_id)
        benefits.update(MentorBenefit(benefit) for benefit in row.benefits)

    def side(role: Role) -> Satisfaction:
        given = ratings[role.value]
        return satisfaction(len(given), sum(given), len(matches[role.value]))

    return ReviewCounts(
        goals_total=int(goals_total),
        goals_attained=len(attained),
        by_mentors=side(Role.MENTOR),
        by_mentees=side(Role.MENTEE),
        mentor_benefits=dict(benefits),
    )
