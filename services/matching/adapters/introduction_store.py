"""Introductions by colleagues, which open the way for a request to a nominated mentor; each kept with
its tenant (employee ids are unique only within one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.tables import introductions
from services.matching.domain.introductions import Introduction


async def find_introduction(
    session: AsyncSession, tenant: str, introducer: str, mentee: str, mentor: str, program_id: str
) -> Introduction | None:
    row = (
        await session.execute(
            select(introductions).where(
                introductions.c.tenant == tenant,
                introductions.c.introducer_employee_id == introducer,
                introductions.c.mentee_employee_id == mentee,
                introductions.c.mentor_employee_id == mentor,
                introductions.c.program_id == program_id,
            )
        )
    ).first()
    if row is None:
        return None
    return Introduction(
        row.introduction_id,
        row.introducer_employee_id,
        row.mentee_employee_id,
        row.mentor_employee_id,
        row.program_id,
    )


async def save_introduction(
    session: AsyncSession, tenant: str, introduction: Introduction, note: str, now: datetime
) -> None:
    await session.execute(
        introductions.insert().values(
            introduction_id=introduction.introduction_id,
            tenant=tenant,
            introducer_employee_id=introduction.introducer_employee_id,
            mentee_employee_id=introduction.mentee_employee_id,
            mentor_employee_id=introduction.mentor_employee_id,
            program_id=introduction.program_id,
            note=note,
            created_at=now,
        )
    )


async def introduced(session: AsyncSession, tenant: str, mentee: str, mentor: str, program_id: str) -> bool:
    """Whether a colleague introduced the two (of ``tenant``), for this program or for any program ("")."""
    row = (
        await session.execute(
            select(introductions.c.introduction_id)
            .where(
                introductions.c.tenant == tenant,
                introductions.c.mentee_employee_id == mentee,
                introductions.c.mentor_employee_id == mentor,
                introductions.c.program_id.in_([program_id, ""]),
            )
            .limit(1)
        )
    ).first()
    return row is not None
