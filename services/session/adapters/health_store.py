"""The health of relationships in the store: what was last found of each (at risk, why, since when),
when it started, and the facts an assessment looks at (cadence, last completed session, ratings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, ForeignKeyConstraint, Index, String, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.program_store import programs
from services.session.adapters.store import feedback, metadata, relationships, sessions
from services.session.domain.health import Health, HealthFacts, RiskReason
from services.session.domain.model import RelationshipStatus, Role, SessionStatus
from services.shared.db import UtcDateTime, rows_affected

relationship_health = Table(
    "relationship_health",
    metadata,
    Column("match_id", String(128), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("since", UtcDateTime, nullable=True),
    Column("at_risk", String(1), nullable=False),  # "y" / "n": indexed, portable
    Column("evaluated_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
    Index("ix_relationship_health_at_risk", "at_risk", "match_id"),
)


@dataclass(frozen=True, slots=True)
class Assessed:
    """A live relationship, what is known of its health, and the facts to assess it on."""

    match_id: str
    program_id: str
    tenant: str
    known: Health
    facts: HealthFacts
    recorded: bool = True  # False: no health kept yet (a relationship older than the health record)


async def started(session: AsyncSession, match_id: str, now: datetime) -> None:
    """A relationship starts now, healthy (kept if it was already recorded)."""
    exists = await session.execute(
        select(relationship_health.c.match_id).where(relationship_health.c.match_id == match_id)
    )
    if exists.first() is None:
        await session.execute(
            relationship_health.insert().values(
                match_id=match_id, started_at=now, reasons=[], since=None, at_risk="n", evaluated_at=now
            )
        )


async def save(
    session: AsyncSession, match_id: str, health: Health, started_at: datetime, now: datetime
) -> None:
    values = {
        "reasons": [reason.value for reason in health.reasons],
        "since": health.since,
        "at_risk": "y" if health.at_risk else "n",
        "evaluated_at": now,
    }
    updated = await session.execute(
        relationship_health.update().where(relationship_health.c.match_id == match_id).values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(
            relationship_health.insert().values(match_id=match_id, started_at=started_at, **values)
        )


async def to_assess(
    session: AsyncSession, now: datetime, match_ids: Sequence[str] | None = None
) -> list[Assessed]:
    """The live relationships (all, or those of ``match_ids``) whose program's cadence is known, with
    their health and facts. One never recorded started ``now`` as far as health goes."""
    live = and_(relationships.c.status == RelationshipStatus.ACTIVE.value, programs.c.every_days > 0)
    if match_ids is not None:
        live = and_(live, relationships.c.match_id.in_(list(match_ids)))
    of_program = programs.c.program_id == relationships.c.program_id
    query = (
        select(
            relationships.c.match_id,
            relationships.c.program_id,
            relationships.c.tenant,
            programs.c.every_days,
            programs.c.cohort_start,
            relationship_health.c.started_at,
            relationship_health.c.reasons,
            relationship_health.c.since,
        )
        .join(programs, of_program)
        .outerjoin(relationship_health, relationship_health.c.match_id == relationships.c.match_id)
        .where(live)
        .order_by(relationships.c.match_id)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    # The same relationships, as a subquery: no list of ids however many there are.
    scope = select(relationships.c.match_id).join(programs, of_program).where(live)
    completed: dict[str, datetime] = {
        match_id: last
        for match_id, last in await session.execute(
            select(sessions.c.match_id, func.max(sessions.c.starts_at))
            .where(sessions.c.match_id.in_(scope), sessions.c.status == SessionStatus.COMPLETED.value)
            .group_by(sessions.c.match_id)
        )
    }
    ratings: dict[tuple[str, str], list[int]] = defaultdict(list)
    for match_id, role, rating in await session.execute(
        select(feedback.c.match_id, feedback.c.role, feedback.c.rating)
        .where(feedback.c.match_id.in_(scope))
        .order_by(feedback.c.submitted_at, feedback.c.feedback_id)
    ):
        ratings[(match_id, role)].append(rating)
    found: list[Assessed] = []
    for row in rows:
        started_at = row.started_at or now
        if row.cohort_start is not None and row.cohort_start > started_at:
            started_at = row.cohort_start
        last = completed.get(row.match_id)
        found.append(
            Assessed(
                match_id=row.match_id,
                program_id=row.program_id,
                tenant=row.tenant,
                known=Health(tuple(RiskReason(code) for code in row.reasons or ()), row.since),
                recorded=row.started_at is not None,
                facts=HealthFacts(
                    every_days=row.every_days,
                    started_at=started_at,
                    last_completed=_aware(last),
                    mentor_ratings=ratings[(row.match_id, Role.MENTOR.value)],
                    mentee_ratings=ratings[(row.match_id, Role.MENTEE.value)],
                ),
            )
        )
    return found


def _aware(moment: datetime | None) -> datetime | None:
    """An aggregate read back without the column's type (SQLite keeps no offset): UTC put back."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def at_risk(
    session: AsyncSession, tenant: str, program_ids: Sequence[str] | None, limit: int, after: str | None
) -> tuple[list[tuple[str, str, Health]], int]:
    """One page of the relationships of ``tenant`` at risk (of ``program_ids`` when given), by match id:
    (match, program, health), and their total count."""
    scope = and_(
        relationship_health.c.at_risk == "y",
        relationships.c.tenant == tenant,
        relationships.c.status == RelationshipStatus.ACTIVE.value,
    )
    if program_ids is not None:
        scope = and_(scope, relationships.c.program_id.in_(list(program_ids)))
    joined = relationship_health.join(
        relationships, relationships.c.match_id == relationship_health.c.match_id
    )
    query = (
        select(
            relationship_health.c.match_id,
            relationships.c.program_id,
            relationship_health.c.reasons,
            relationship_health.c.since,
        )
        .select_from(joined)
        .where(scope)
    )
    if after is not None:
        query = query.where(relationship_health.c.match_id > after)
    rows = await session.execute(query.order_by(relationship_health.c.match_id).limit(limit))
    total = (await session.execute(select(func.count()).select_from(joined).where(scope))).scalar_one()
    page = [
        (row.match_id, row.program_id, Health(tuple(RiskReason(code) for code in row.reasons), row.since))
        for row in rows
    ]
    return page, int(total)
