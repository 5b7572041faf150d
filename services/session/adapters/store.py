"""The session service's tables (SQLAlchemy Core) and the queries its handlers run.

Every function takes the caller's ``AsyncSession`` so that reads and writes of one command share its
transaction (the unit of work). Instants are stored in UTC and read back timezone-aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.domain.model import (
    Feedback,
    Goal,
    GoalProgress,
    Relationship,
    RelationshipStatus,
    Role,
    Session,
    SessionStatus,
)
from services.session.domain.programs import Delivery
from services.shared.db import UtcDateTime, rows_affected

metadata = MetaData()

relationships = Table(
    "relationships",
    metadata,
    Column("match_id", String(128), primary_key=True),
    Column("program_id", String(128), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("mentor_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("end_reason", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

participants = Table(
    "relationship_participants",
    metadata,
    Column("match_id", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    PrimaryKeyConstraint("match_id", "employee_id"),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
    Index("ix_relationship_participants_employee", "employee_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("match_id", String(128), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("agenda", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("notes", Text, nullable=False),
    Column("cancel_reason", Text, nullable=False),
    Column("request_id", String(128), nullable=True, unique=True),
    Column("revision", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivery", String(16), nullable=False, server_default=""),
    Column("location", Text, nullable=False, server_default=""),
    Column("meeting_link", Text, nullable=False, server_default=""),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
    Index("ix_sessions_match_start", "match_id", "starts_at"),
)

goals = Table(
    "goals",
    metadata,
    Column("match_id", String(128), nullable=False),
    Column("goal_id", String(128), nullable=False),
    Column("what", Text, nullable=False),
    Column("metric", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("due", UtcDateTime, nullable=True),
    Column("skill_tags", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("match_id", "goal_id"),
    ForeignKeyConstraint(["match_id"], ["relationships.match_id"]),
)

goal_progress = Table(
    "goal_progress",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match_id", String(128), nullable=False),
    Column("goal_id", String(128), nullable=False),
    Column("progress", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(128), nullable=False, server_default=""),
    ForeignKeyConstraint(["match_id", "goal_id"], ["goals.match_id", "goals.goal_id"]),
    Index("ix_goal_progress_goal", "match_id", "goal_id", "id"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("feedback_id", String(64), primary_key=True),
    Column("match_id", String(128), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["session_id"], ["sessions.session_id"]),
    UniqueConstraint("session_id", "employee_id", name="uq_feedback_session_author"),
)


# ---- relationships ----


async def get_relationship(
    session: AsyncSession, match_id: str, *, tenant: str | None
) -> Relationship | None:
    """The relationship of that match; with ``tenant`` (every request's), only if it is that tenant's,
    else None as for a match never seen. ``tenant=None`` for the events, which name the match itself."""
    query = select(relationships).where(relationships.c.match_id == match_id)
    if tenant is not None:
        query = query.where(relationships.c.tenant == tenant)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    mentees = (
        await session.execute(
            select(participants.c.employee_id)
            .where(participants.c.match_id == match_id, participants.c.role == Role.MENTEE.value)
            .order_by(participants.c.employee_id)
        )
    ).scalars()
    return Relationship(
        match_id=row.match_id,
        program_id=row.program_id,
        mentor_id=row.mentor_id,
        mentee_ids=tuple(mentees),
        status=RelationshipStatus(row.status),
        tenant=row.tenant,
        end_reason=row.end_reason,
    )


async def save_relationship(session: AsyncSession, relationship: Relationship, now: datetime) -> None:
    """Insert or replace the relationship and its participants."""
    values = {
        "program_id": relationship.program_id,
        "tenant": relationship.tenant,
        "mentor_id": relationship.mentor_id,
        "status": relationship.status.value,
        "end_reason": relationship.end_reason,
        "updated_at": now,
    }
    updated = await session.execute(
        relationships.update().where(relationships.c.match_id == relationship.match_id).values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(relationships.insert().values(match_id=relationship.match_id, **values))
    await session.execute(participants.delete().where(participants.c.match_id == relationship.match_id))
    await session.execute(
        participants.insert(),
        [
            {"match_id": relationship.match_id, "employee_id": relationship.mentor_id, "role": Role.MENTOR},
            *(
                {"match_id": relationship.match_id, "employee_id": mentee, "role": Role.MENTEE}
                for mentee in relationship.mentee_ids
            ),
        ],
    )


# ---- sessions ----


def _session_of(row: Row[Any]) -> Session:
    return Session(
        session_id=row.session_id,
        match_id=row.match_id,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        agenda=row.agenda,
        status=SessionStatus(row.status),
        notes=row.notes,
        cancel_reason=row.cancel_reason,
        request_id=row.request_id or "",
        revision=row.revision,
        delivery=Delivery(row.delivery),
        location=row.location,
        meeting_link=row.meeting_link,
    )


def _matches_of(tenant: str) -> Any:
    return select(relationships.c.match_id).where(relationships.c.tenant == tenant)


async def get_session(session: AsyncSession, session_id: str, *, tenant: str) -> Session | None:
    """The session of that id in a relationship of ``tenant`` (another tenant's is None, as a missing one)."""
    row = (
        await session.execute(
            select(sessions).where(
                sessions.c.session_id == session_id, sessions.c.match_id.in_(_matches_of(tenant))
            )
        )
    ).first()
    return _session_of(row) if row is not None else None


async def get_session_by_request(session: AsyncSession, request_id: str) -> Session | None:
    """The session a request id made, whichever tenant's: request ids are unique in the table, so a retry
    is told from a clash (the caller learns only that the id names a session of another match)."""
    row = (await session.execute(select(sessions).where(sessions.c.request_id == request_id))).first()
    return _session_of(row) if row is not None else None


async def sessions_of_people_overlapping(
    session: AsyncSession, employee_ids: Sequence[str], starts_at: datetime, ends_at: datetime, *, tenant: str
) -> list[Session]:
    """Scheduled sessions, in any match of ``tenant``, of any of ``employee_ids`` whose interval meets
    ``[starts_at, ends_at)``: a person is in one session at a time, across all their relationships (an
    employee id names a person within a tenant only)."""
    of_people = select(participants.c.match_id).where(
        participants.c.employee_id.in_(list(employee_ids)), participants.c.match_id.in_(_matches_of(tenant))
    )
    rows = await session.execute(
        select(sessions).where(
            sessions.c.match_id.in_(of_people),
            sessions.c.status == SessionStatus.SCHEDULED.value,
            sessions.c.starts_at < ends_at,
            sessions.c.ends_at > starts_at,
        )
    )
    return [_session_of(row) for row in rows]


async def scheduled_sessions_from(session: AsyncSession, match_id: str, since: datetime) -> list[Session]:
    rows = await session.execute(
        select(sessions)
        .where(
            sessions.c.match_id == match_id,
            sessions.c.status == SessionStatus.SCHEDULED.value,
            sessions.c.starts_at >= since,
        )
        .order_by(sessions.c.starts_at, sessions.c.session_id)
    )
    return [_session_of(row) for row in rows]


async def insert_session(session: AsyncSession, planned: Session, now: datetime) -> None:
    await session.execute(
        sessions.insert().values(
            session_id=planned.session_id,
            match_id=planned.match_id,
            starts_at=planned.starts_at,
            ends_at=planned.ends_at,
            duration_minutes=planned.duration_minutes,
            agenda=planned.agenda,
            status=planned.status.value,
            notes=planned.notes,
            cancel_reason=planned.cancel_reason,
            request_id=planned.request_id or None,
            revision=planned.revision,
            updated_at=now,
            delivery=planned.delivery.value,
            location=planned.location,
            meeting_link=planned.meeting_link,
        )
    )


async def update_session(session: AsyncSession, changed: Session, now: datetime) -> None:
    await session.execute(
        sessions.update()
        .where(sessions.c.session_id == changed.session_id)
        .values(
            status=changed.status.value,
            agenda=changed.agenda,
            notes=changed.notes,
            cancel_reason=changed.cancel_reason,
            revision=changed.revision,
            updated_at=now,
        )
    )


def _sessions_scope(tenant: str, match_id: str, employee_id: str) -> Any:
    in_tenant = sessions.c.match_id.in_(_matches_of(tenant))
    if match_id:
        return and_(sessions.c.match_id == match_id, in_tenant)
    of_employee = select(participants.c.match_id).where(participants.c.employee_id == employee_id)
    return and_(sessions.c.match_id.in_(of_employee), in_tenant)


async def list_sessions(
    session: AsyncSession,
    tenant: str,
    match_id: str,
    employee_id: str,
    limit: int,
    after: tuple[datetime, str] | None,
) -> tuple[list[Session], int]:
    """One page of sessions of a match (or of every match of an employee) of ``tenant`` in start order,
    after the keyset ``(starts_at, session_id)`` of the previous page's last item; and the total count."""
    scope = _sessions_scope(tenant, match_id, employee_id)
    query = select(sessions).where(scope)
    if after is not None:
        after_start, after_id = after
        query = query.where(
            or_(
                sessions.c.starts_at > after_start,
                and_(sessions.c.starts_at == after_start, sessions.c.session_id > after_id),
            )
        )
    rows = await session.execute(query.order_by(sessions.c.starts_at, sessions.c.session_id).limit(limit))
    total = (await session.execute(select(func.count()).select_from(sessions).where(scope))).scalar_one()
    return [_session_of(row) for row in rows], int(total)


async def all_sessions(
    session: AsyncSession, tenant: str, match_id: str, employee_id: str, limit: int
) -> list[Session]:
    rows = await session.execute(
        select(sessions)
        .where(_sessions_scope(tenant, match_id, employee_id))
        .order_by(sessions.c.starts_at, sessions.c.session_id)
        .limit(limit)
    )
    return [_session_of(row) for row in rows]


# ---- goals ----


def _goal_of(row: Row[Any]) -> Goal:
    return Goal(
        goal_id=row.goal_id,
        match_id=row.match_id,
        what=row.what,
        metric=row.metric,
        target=row.target,
        due=row.due,
        skill_tags=tuple(row.skill_tags),
    )


async def get_goal(session: AsyncSession, match_id: str, goal_id: str) -> Goal | None:
    row = (
        await session.execute(select(goals).where(goals.c.match_id == match_id, goals.c.goal_id == goal_id))
    ).first()
    return _goal_of(row) if row is not None else None


async def save_goal(session: AsyncSession, goal: Goal, now: datetime) -> None:
    values = {
        "what": goal.what,
        "metric": goal.metric,
        "target": goal.target,
        "due": goal.due,
        "skill_tags": list(goal.skill_tags),
        "updated_at": now,
    }
    updated = await session.execute(
        goals.update()
        .where(goals.c.match_id == goal.match_id, goals.c.goal_id == goal.goal_id)
        .values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(goals.insert().values(match_id=goal.match_id, goal_id=goal.goal_id, **values))


async def insert_progress(session: AsyncSession, progress: GoalProgress) -> None:
    await session.execute(
        goal_progress.insert().values(
            match_id=progress.match_id,
            goal_id=progress.goal_id,
            progress=progress.progress,
            note=progress.note,
            recorded_at=progress.recorded_at,
            recorded_by=progress.recorded_by,
        )
    )


async def list_goals(
    session: AsyncSession, match_id: str, limit: int, after: str | None
) -> tuple[list[Goal], int]:
    scope = goals.c.match_id == match_id
    query = select(goals).where(scope)
    if after is not None:
        query = query.where(goals.c.goal_id > after)
    rows = await session.execute(query.order_by(goals.c.goal_id).limit(limit))
    total = (await session.execute(select(func.count()).select_from(goals).where(scope))).scalar_one()
    return [_goal_of(row) for row in rows], int(total)


async def latest_progress(
    session: AsyncSession, match_id: str, goal_ids: Sequence[str]
) -> list[GoalProgress]:
    """The newest progress record of each of the given goals that has one."""
    if not goal_ids:
        return []
    newest = (
        select(func.max(goal_progress.c.id))
        .where(goal_progress.c.match_id == match_id, goal_progress.c.goal_id.in_(goal_ids))
        .group_by(goal_progress.c.goal_id)
    )
    rows = await session.execute(
        select(goal_progress).where(goal_progress.c.id.in_(newest)).order_by(goal_progress.c.goal_id)
    )
    return [progress_of(row) for row in rows]


def progress_of(row: Row[Any]) -> GoalProgress:
    return GoalProgress(
        goal_id=row.goal_id,
        match_id=row.match_id,
        progress=row.progress,
        note=row.note,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


# ---- feedback ----


async def feedback_exists(session: AsyncSession, session_id: str, employee_id: str) -> bool:
    found = await session.execute(
        select(feedback.c.feedback_id).where(
            feedback.c.session_id == session_id, feedback.c.employee_id == employee_id
        )
    )
    return found.first() is not None


async def insert_feedback(session: AsyncSession, given: Feedback, now: datetime) -> None:
    await session.execute(
        feedback.insert().values(
            feedback_id=given.feedback_id,
            match_id=given.match_id,
            session_id=given.session_id,
            employee_id=given.employee_id,
            role=given.by.value,
            rating=given.rating,
            comment=given.comment,
            submitted_at=now,
        )
    )
