"""What the notification service remembers of events, to address those that carry only ids: programme
names and formats, the participants of each match, each session's calendar entry (its SEQUENCE), and
each participant's timezone from their enrolment. Every function runs in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.adapters.tables import (
    match_participants,
    people,
    programs,
    reminders,
    session_calendar,
)
from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.model import Recipient
from services.notification.domain.templates import Audience, ProgramFormat


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count


async def save_program(
    session: AsyncSession, program_id: str, name: str, program_format: ProgramFormat | None = None
) -> None:
    values = {"name": name, "format": program_format.value if program_format is not None else ""}
    updated = await session.execute(
        programs.update().where(programs.c.program_id == program_id).values(**values)
    )
    if _rowcount(updated) == 0:
        await session.execute(programs.insert().values(program_id=program_id, **values))


async def program_name(session: AsyncSession, program_id: str) -> str:
    return (await program_of(session, program_id))[0]


async def program_of(session: AsyncSession, program_id: str) -> tuple[str, ProgramFormat | None]:
    """The programme's name ("" if unknown) and format (None if unknown)."""
    row = (
        await session.execute(
            select(programs.c.name, programs.c.format).where(programs.c.program_id == program_id)
        )
    ).first()
    if row is None:
        return "", None
    return row.name, ProgramFormat(row.format) if row.format else None


async def save_zone(session: AsyncSession, tenant: str, employee_id: str, zone: str) -> None:
    updated = await session.execute(
        people.update()
        .where(people.c.tenant == tenant, people.c.employee_id == employee_id)
        .values(timezone=zone)
    )
    if _rowcount(updated) == 0:
        await session.execute(people.insert().values(tenant=tenant, employee_id=employee_id, timezone=zone))


async def zones_of(session: AsyncSession, tenant: str, employee_ids: Iterable[str]) -> dict[str, str]:
    wanted = list(dict.fromkeys(employee_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(people.c.employee_id, people.c.timezone).where(
            people.c.tenant == tenant, people.c.employee_id.in_(wanted)
        )
    )
    return {row.employee_id: row.timezone for row in rows}


async def save_match(
    session: AsyncSession, tenant: str, match_id: str, program_id: str, participants: Sequence[Recipient]
) -> None:
    # Scoped by tenant too: an event of another tenant naming this match id cannot rewrite its people.
    await session.execute(
        match_participants.delete().where(
            match_participants.c.tenant == tenant, match_participants.c.match_id == match_id
        )
    )
    if participants:
        await session.execute(
            match_participants.insert(),
            [
                {
                    "match_id": match_id,
                    "employee_id": participant.employee_id,
                    "audience": participant.audience.value,
                    "program_id": program_id,
                    "tenant": tenant,
                }
                for participant in participants
            ],
        )


async def session_of(session: AsyncSession, tenant: str, session_id: str) -> SessionCalendar | None:
    row = (
        await session.execute(
            select(session_calendar).where(
                session_calendar.c.tenant == tenant, session_calendar.c.session_id == session_id
            )
        )
    ).first()
    if row is None:
        return None
    return SessionCalendar(
        session_id=row.session_id,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        sequence=row.sequence,
        cancelled=row.cancelled,
        location=row.location,
        meeting_link=row.meeting_link,
    )


async def save_session(session: AsyncSession, tenant: str, entry: SessionCalendar) -> None:
    values = {
        "starts_at": entry.starts_at,
        "duration_minutes": entry.duration_minutes,
        "sequence": entry.sequence,
        "cancelled": entry.cancelled,
        "location": entry.location,
        "meeting_link": entry.meeting_link,
    }
    updated = await session.execute(
        session_calendar.update()
        .where(session_calendar.c.tenant == tenant, session_calendar.c.session_id == entry.session_id)
        .values(**values)
    )
    if _rowcount(updated) == 0:
        await session.execute(
            session_calendar.insert().values(tenant=tenant, session_id=entry.session_id, **values)
        )


async def match_of(
    session: AsyncSession, tenant: str, match_id: str
) -> tuple[str, tuple[Recipient, ...]] | None:
    """The programme and participants of a match of ``tenant`` known from matching events (mentor
    first); None for an unknown match or one of another tenant."""
    rows = (
        await session.execute(
            select(match_participants)
            .where(match_participants.c.tenant == tenant, match_participants.c.match_id == match_id)
            .order_by(match_participants.c.audience.desc(), match_participants.c.employee_id)
        )
    ).all()
    if not rows:
        return None
    return rows[0].program_id, tuple(Recipient(row.employee_id, Audience(row.audience)) for row in rows)


@dataclass(frozen=True, slots=True)
class DueReminder:
    tenant: str
    session_id: str
    lead_hours: int
    match_id: str
    sequence: int


async def save_reminders(
    session: AsyncSession,
    tenant: str,
    session_id: str,
    match_id: str,
    sequence: int,
    due: Sequence[tuple[int, datetime]],
) -> None:
    if due:
        await session.execute(
            reminders.insert(),
            [
                {
                    "tenant": tenant,
                    "session_id": session_id,
                    "lead_hours": lead,
                    "due_at": at,
                    "match_id": match_id,
                    "sequence": sequence,
                }
                for lead, at in due
            ],
        )


async def delete_reminders(session: AsyncSession, tenant: str, session_id: str) -> None:
    await session.execute(
        reminders.delete().where(reminders.c.tenant == tenant, reminders.c.session_id == session_id)
    )


async def delete_reminder(session: AsyncSession, tenant: str, session_id: str, lead_hours: int) -> None:
    await session.execute(
        reminders.delete().where(
            reminders.c.tenant == tenant,
            reminders.c.session_id == session_id,
            reminders.c.lead_hours == lead_hours,
        )
    )


async def due_reminders(session: AsyncSession, now: datetime, limit: int) -> list[DueReminder]:
    rows = await session.execute(
        select(reminders)
        .where(reminders.c.due_at <= now)
        .order_by(reminders.c.due_at, reminders.c.session_id, reminders.c.lead_hours)
        .limit(limit)
    )
    return [
        DueReminder(row.tenant, row.session_id, row.lead_hours, row.match_id, row.sequence) for row in rows
    ]
