"""The matching service's store: candidate pools per program (as enrollment published them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mentoring.v1 import common_pb2
from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

metadata = MetaData()

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(128), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("status", Integer, nullable=False),
    Column("program", LargeBinary, nullable=False),  # mentoring.v1.Program
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

participants = Table(
    "participants",
    metadata,
    Column("enrollment_id", String(128), primary_key=True),
    Column("program_id", String(128), nullable=False, index=True),
    Column("employee_id", String(128), nullable=False, index=True),
    Column("role", Integer, nullable=False),
    Column("status", Integer, nullable=False),
    Column("participant", LargeBinary, nullable=False),  # mentoring.v1.Participant
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


async def save_program(session: AsyncSession, program: common_pb2.Program) -> None:
    values = {
        "tenant": program.tenant,
        "status": program.status,
        "program": program.SerializeToString(),
        "updated_at": datetime.now(UTC),
    }
    updated = await session.execute(
        programs.update().where(programs.c.program_id == program.program_id).values(**values)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(programs.insert().values(program_id=program.program_id, **values))


async def load_program(session: AsyncSession, program_id: str) -> common_pb2.Program | None:
    row = (
        await session.execute(select(programs.c.program).where(programs.c.program_id == program_id))
    ).first()
    return common_pb2.Program.FromString(row.program) if row else None


async def save_participant(session: AsyncSession, participant: common_pb2.Participant) -> None:
    values = {
        "program_id": participant.program_id,
        "employee_id": participant.employee_id,
        "role": participant.role,
        "status": participant.status,
        "participant": participant.SerializeToString(),
        "updated_at": datetime.now(UTC),
    }
    updated = await session.execute(
        participants.update()
        .where(participants.c.enrollment_id == participant.enrollment_id)
        .values(**values)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(participants.insert().values(enrollment_id=participant.enrollment_id, **values))


async def load_participants(
    session: AsyncSession, program_id: str, statuses: Sequence[int] = (common_pb2.ENROLLMENT_STATUS_ACTIVE,)
) -> list[common_pb2.Participant]:
    rows = await session.execute(
        select(participants.c.participant)
        .where(participants.c.program_id == program_id, participants.c.status.in_(statuses))
        .order_by(participants.c.enrollment_id)
    )
    return [common_pb2.Participant.FromString(row.participant) for row in rows]


async def load_participant(session: AsyncSession, enrollment_id: str) -> common_pb2.Participant | None:
    row = (
        await session.execute(
            select(participants.c.participant).where(participants.c.enrollment_id == enrollment_id)
        )
    ).first()
    return common_pb2.Participant.FromString(row.participant) if row else None


async def forget_employee(session: AsyncSession, employee_id: str) -> int:
    """Erasure: drop every participant row of the employee; returns how many there were."""
    result = await session.execute(delete(participants).where(participants.c.employee_id == employee_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
