"""Matching runs: the stored result of each run, by request id (a run is idempotent by it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.tables import matching_runs


async def program_has_run(session: AsyncSession, program_id: str) -> bool:
    row = (
        await session.execute(
            select(matching_runs.c.run_id).where(matching_runs.c.program_id == program_id).limit(1)
        )
    ).first()
    return row is not None


async def find_run(session: AsyncSession, program_id: str, request_id: str) -> bytes | None:
    row = (
        await session.execute(
            select(matching_runs.c.result).where(
                matching_runs.c.program_id == program_id, matching_runs.c.request_id == request_id
            )
        )
    ).first()
    return bytes(row.result) if row else None


async def save_run(
    session: AsyncSession, run_id: str, program_id: str, request_id: str, result: bytes, now: datetime
) -> None:
    await session.execute(
        matching_runs.insert().values(
            run_id=run_id,
            program_id=program_id,
            request_id=request_id or None,
            created_at=now,
            result=result,
        )
    )
