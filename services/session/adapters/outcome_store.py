"""Outcomes in the store: when and why each relationship ended, the counts a program's report is made
of, and the feedback given to a member of a relationship."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Column, ForeignKeyConstraint, String, Table, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters import review_store
from services.session.adapters.health_store import relationship_health
from services.session.adapters.plan_store import plan_slots
from services.session.adapters.store import feedback, metadata, relationships, sessions
from services.session.domain.model import Feedback, RelationshipStatus, Role, SessionStatus
from services.session.domain.outcomes import EndCause, ProgramOutcomes, ended_early, satisfaction
from services.session.domain.plans import SlotStatus
from services.shared.db import UtcDateTime

# Feedback a member reads at once, at the most (the newest).
MAX_FEEDBACK = 500

relationship_endings = Table(
    "relationship_endings",
    metadata,
    Column("match_id", String(128), primary_key=True),
    Column("cause", String(32), nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
)


async def record_ending(session: AsyncSession, match_id: str, cause: EndCause, now: datetime) -> None:
    await session.execute(
        relationship_endings.insert().values(match_id=match_id, cause=cause.value, ended_at=now)
    )


async def program_outcomes(
    session: AsyncSession, tenant: str, program_id: str, window_end: datetime | None
) -> ProgramOutcomes:
    of_program = select(relationships.c.match_id).where(
        relationships.c.tenant == tenant, relationships.c.program_id == program_id
    )
    statuses = Counter(
        {
            status: count
            for status, count in await session.execute(
                select(relationships.c.status, func.count())
                .where(relationships.c.match_id.in_(of_program))
                .group_by(relationships.c.status)
            )
        }
    )
    at_risk = (
        await session.execute(
            select(func.count())
            .select_from(relationship_health.join(relationships))
            .where(
                relationship_health.c.match_id.in_(of_program),
                relationship_health.c.at_risk == "y",
                relationships.c.status == RelationshipStatus.ACTIVE.value,
            )
        )
    ).scalar_one()
    early: Counter[EndCause] = Counter()
    for cause, ended_at in await session.execute(
        select(relationship_endings.c.cause, relationship_endings.c.ended_at).where(
            relationship_endings.c.match_id.in_(of_program)
        )
    ):
        if ended_early(ended_at, window_end):
            early[EndCause(cause)] += 1
    by_status = Counter(
        {
            status: count
            for status, count in await session.execute(
                select(sessions.c.status, func.count())
                .where(sessions.c.match_id.in_(of_program))
                .group_by(sessions.c.status)
            )
        }
    )
    planned = (
        await session.execute(
            select(func.count()).where(
                plan_slots.c.match_id.in_(of_program), plan_slots.c.status != SlotStatus.SKIPPED.value
            )
        )
    ).scalar_one()
    sides = {
        role: (ratings, total or 0, matches)
        for role, ratings, total, matches in await session.execute(
            select(
                feedback.c.role,
                func.count(),
                func.sum(feedback.c.rating),
                func.count(distinct(feedback.c.match_id)),
            )
            .where(feedback.c.match_id.in_(of_program))
            .group_by(feedback.c.role)
        )
    }
    reviews = await review_store.review_counts(session, of_program)
    return ProgramOutcomes(
        program_id=program_id,
        relationships=sum(statuses.values()),
        active=statuses[RelationshipStatus.ACTIVE.value],
        at_risk=int(at_risk),
        ended=statuses[RelationshipStatus.ENDED.value],
        ended_early=sum(early.values()),
        ended_early_by_cause=dict(early),
        sessions_planned=int(planned),
        sessions_scheduled=by_status[SessionStatus.SCHEDULED.value],
        sessions_held=by_status[SessionStatus.COMPLETED.value],
        sessions_cancelled=by_status[SessionStatus.CANCELLED.value],
        by_mentors=satisfaction(*sides.get(Role.MENTOR.value, (0, 0, 0))),
        by_mentees=satisfaction(*sides.get(Role.MENTEE.value, (0, 0, 0))),
        goals_total=reviews.goals_total,
        goals_attained=reviews.goals_attained,
        closing_by_mentors=reviews.by_mentors,
        closing_by_mentees=reviews.by_mentees,
        mentor_benefits={benefit.value: count for benefit, count in reviews.mentor_benefits.items()},
    )


async def feedback_by(session: AsyncSession, match_id: str, role: Role) -> list[Feedback]:
    """The feedback given in the relationship by its members of ``role``, oldest first."""
    rows = await session.execute(
        select(feedback)
        .where(feedback.c.match_id == match_id, feedback.c.role == role.value)
        .order_by(feedback.c.submitted_at.desc(), feedback.c.feedback_id.desc())
        .limit(MAX_FEEDBACK)
    )
    found = [
        Feedback(
            feedback_id=row.feedback_id,
            match_id=row.match_id,
            session_id=row.session_id,
            employee_id=row.employee_id,
            by=Role(row.role),
            rating=row.rating,
            comment=row.comment,
        )
        for row in rows
    ]
    return list(reversed(found))
