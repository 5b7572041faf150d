"""Matching runs: the stored result of each run, by request id (a run is idempotent by it). A result is
kept as the MatchingRun the caller got, so that a replay returns it unchanged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.tables import matching_runs
from services.matching.adapters.translate import run_to_wire
from services.matching.domain.runs import RunReport, StoredRun


async def program_has_run(session: AsyncSession, program_id: str) -> bool:
    row = (
        await session.execute(
            select(matching_runs.c.run_id).where(matching_runs.c.program_id == program_id).limit(1)
        )
    ).first()
    return row is not None


async def find_run(session: AsyncSession, program_id: str, request_id: str) -> StoredRun | None:
    row = (
        await session.execute(
            select(matching_runs.c.result).where(
                matching_runs.c.program_id == program_id, matching_runs.c.request_id == request_id
            )
        )
    ).first()
    return StoredRun(bytes(row.result)) if row else None


async def save_run(session: AsyncSession, report: RunReport, request_id: str, now: datetime) -> None:
    await save_encoded_run(
        session, report.run_id, report.program_id, request_id, run_to_wire(report).SerializeToString(), now
    )


async def save_encoded_run(
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
