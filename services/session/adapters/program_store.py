"""What the session service keeps of programs (from enrollment events): tenant, cohort dates, delivery,
managers and cadence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Integer, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters.store import metadata
from services.session.domain.programs import Delivery, ProgramTerms
from services.shared.db import UtcDateTime, rows_affected

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("cohort_start", UtcDateTime, nullable=True),
    Column("cohort_end", UtcDateTime, nullable=True),
    Column("delivery", String(16), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("manager_ids", JSON, nullable=False, server_default="[]"),
    Column("every_days", Integer, nullable=False, server_default="0"),
    Column("session_minutes", Integer, nullable=False, server_default="0"),
)


async def save_program(session: AsyncSession, program: ProgramTerms, now: datetime) -> None:
    values = {
        "tenant": program.tenant,
        "cohort_start": program.cohort_start,
        "cohort_end": program.cohort_end,
        "delivery": program.delivery.value,
        "manager_ids": list(program.manager_ids),
        "every_days": program.every_days,
        "session_minutes": program.session_minutes,
        "updated_at": now,
    }
    updated = await session.execute(
        programs.update().where(programs.c.program_id == program.program_id).values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(programs.insert().values(program_id=program.program_id, **values))


async def get_program(
    session: AsyncSession, program_id: str, tenant: str | None = None
) -> ProgramTerms | None:
    """The program of that id; with ``tenant``, only if it is that tenant's."""
    query = select(programs).where(programs.c.program_id == program_id)
    if tenant is not None:
        query = query.where(programs.c.tenant == tenant)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return ProgramTerms(
        program_id=row.program_id,
        tenant=row.tenant,
        cohort_start=row.cohort_start,
        cohort_end=row.cohort_end,
        delivery=Delivery(row.delivery),
        manager_ids=tuple(row.manager_ids or ()),
        every_days=row.every_days,
        session_minutes=row.session_minutes,
    )
