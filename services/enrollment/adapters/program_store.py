"""The programs' queries: read, create, update (optimistically, by revision), list and count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.adapters.serialization import spec_from_json, spec_to_json
from services.enrollment.adapters.tables import ConcurrentUpdate, in_chunks, programs
from services.enrollment.domain import Program, ProgramFormat, ProgramStatus
from services.shared.db import rows_affected


def _program(row: Row[Any]) -> Program:
    return Program(
        program_id=row.program_id,
        tenant=row.tenant,
        spec=replace(spec_from_json(row.spec), manager_ids=frozenset(row.manager_ids or ())),
        status=ProgramStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        revision=row.revision,
    )


def _program_values(program: Program) -> dict[str, Any]:
    return {
        "tenant": program.tenant,
        "name": program.spec.name,
        "format": program.spec.format.value,
        "status": program.status.value,
        "spec": spec_to_json(program.spec),
        "manager_ids": sorted(program.spec.manager_ids),
        "created_at": program.created_at,
        "updated_at": program.updated_at,
        "revision": program.revision,
    }


async def get_program(session: AsyncSession, tenant: str, program_id: str) -> Program | None:
    """The program of ``tenant`` with this id: another tenant's is None, as a missing one."""
    row = (
        await session.execute(
            select(programs).where(programs.c.tenant == tenant, programs.c.program_id == program_id)
        )
    ).first()
    return None if row is None else _program(row)


async def get_programs(session: AsyncSession, program_ids: Iterable[str]) -> dict[str, Program]:
    found: dict[str, Program] = {}
    for chunk in in_chunks(sorted(set(program_ids))):
        rows = await session.execute(select(programs).where(programs.c.program_id.in_(chunk)))
        found.update((row.program_id, _program(row)) for row in rows)
    return found


async def get_program_by_request(
    session: AsyncSession, tenant: str, request_id: str
) -> tuple[Program, str] | None:
    """The program a create with this idempotency key made, and the fingerprint of that request."""
    row = (
        await session.execute(
            select(programs).where(programs.c.tenant == tenant, programs.c.request_id == request_id)
        )
    ).first()
    return None if row is None else (_program(row), row.request_fingerprint or "")


async def closed_reason(session: AsyncSession, program_id: str) -> str | None:
    return (
        await session.execute(select(programs.c.closed_reason).where(programs.c.program_id == program_id))
    ).scalar_one_or_none()


async def insert_program(
    session: AsyncSession, program: Program, *, request_id: str | None, fingerprint: str | None
) -> None:
    await session.execute(
        programs.insert().values(
            program_id=program.program_id,
            request_id=request_id,
            request_fingerprint=fingerprint,
            **_program_values(program),
        )
    )


async def update_program(
    session: AsyncSession, program: Program, *, closed_reason: str | None = None
) -> None:
    """Write a changed program; the revision it was read at must still be the stored one."""
    values = _program_values(program)
    if closed_reason is not None:
        values["closed_reason"] = closed_reason
    result = await session.execute(
        programs.update()
        .where(programs.c.program_id == program.program_id, programs.c.revision < program.revision)
        .values(**values)
    )
    if rows_affected(result) != 1:
        raise ConcurrentUpdate(f"program {program.program_id} changed concurrently")


def _program_filters(
    tenant: str, status: ProgramStatus | None, program_format: ProgramFormat | None, hide_drafts: bool
) -> list[Any]:
    filters: list[Any] = [programs.c.tenant == tenant]
    if hide_drafts:
        filters.append(programs.c.status != ProgramStatus.DRAFT.value)
    if status is not None:
        filters.append(programs.c.status == status.value)
    if program_format is not None:
        filters.append(programs.c.format == program_format.value)
    return filters


async def list_programs(
    session: AsyncSession,
    *,
    tenant: str,
    status: ProgramStatus | None,
    program_format: ProgramFormat | None,
    after: tuple[datetime, str] | None,
    limit: int,
    hide_drafts: bool = False,
) -> list[Program]:
    """Oldest first, keyset-paged on (created_at, program_id); without drafts when ``hide_drafts``."""
    filters = _program_filters(tenant, status, program_format, hide_drafts)
    if after is not None:
        created_at, program_id = after
        filters.append(
            or_(
                programs.c.created_at > created_at,
                and_(programs.c.created_at == created_at, programs.c.program_id > program_id),
            )
        )
    rows = await session.execute(
        select(programs).where(*filters).order_by(programs.c.created_at, programs.c.program_id).limit(limit)
    )
    return [_program(row) for row in rows]


async def count_programs(
    session: AsyncSession,
    *,
    tenant: str,
    status: ProgramStatus | None,
    program_format: ProgramFormat | None,
    hide_drafts: bool = False,
) -> int:
    filters = _program_filters(tenant, status, program_format, hide_drafts)
    return int(
        (await session.execute(select(func.count()).select_from(programs).where(*filters))).scalar_one()
    )


async def program_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(programs.c.status, func.count()).group_by(programs.c.status))
    return {status: int(count) for status, count in rows.tuples()}
