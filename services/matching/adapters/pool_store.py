"""Candidate pools: programs and participants as enrollment published them, and forgetting an erased
employee."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from mentoring.v1 import common_pb2
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import decline_store, seat_store
from services.matching.adapters.tables import (
    CHUNK,
    introductions,
    match_members,
    matches,
    participants,
    program_managers,
    programs,
)
from services.matching.adapters.translate import (
    enrollment_status_to_wire,
    participant_from_wire,
    participant_to_wire,
    program_from_wire,
    program_status_to_wire,
    program_to_wire,
    role_to_wire,
)
from services.matching.domain.engine_input import cap_across_programs, person_cap
from services.matching.domain.enrollments import Enrollment, EnrollmentStatus, Program
from services.matching.domain.introductions import Acquaintance
from services.matching.domain.model import Role
from services.shared.db import rows_affected


def _participant(blob: bytes) -> Enrollment:
    return participant_from_wire(common_pb2.Participant.FromString(blob))


async def save_program(session: AsyncSession, program: Program) -> None:
    values = {
        "tenant": program.tenant,
        "status": program_status_to_wire(program.status),
        "program": program_to_wire(program).SerializeToString(),
        "updated_at": datetime.now(UTC),
    }
    updated = await session.execute(
        programs.update().where(programs.c.program_id == program.program_id).values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(programs.insert().values(program_id=program.program_id, **values))
    await session.execute(delete(program_managers).where(program_managers.c.program_id == program.program_id))
    managers = sorted({employee.strip() for employee in program.manager_ids if employee.strip()})
    if managers:
        await session.execute(
            program_managers.insert(),
            [
                {"program_id": program.program_id, "employee_id": employee, "tenant": program.tenant}
                for employee in managers
            ],
        )


async def load_program(session: AsyncSession, program_id: str, tenant: str | None = None) -> Program | None:
    """The program; with ``tenant`` (a caller's), only a program of that tenant."""
    query = select(programs.c.program).where(programs.c.program_id == program_id)
    if tenant is not None:
        query = query.where(programs.c.tenant == tenant)
    row = (await session.execute(query)).first()
    return program_from_wire(common_pb2.Program.FromString(row.program)) if row else None


async def lock_program(session: AsyncSession, program_id: str) -> None:
    """Serialise the changes of one program's matches (a row lock on PostgreSQL; SQLite serialises all
    writers already, BEGIN IMMEDIATE)."""
    await session.execute(
        select(programs.c.program_id).where(programs.c.program_id == program_id).with_for_update()
    )


async def save_participant(
    session: AsyncSession, participant: Enrollment, seen_at: datetime | None = None
) -> None:
    """Upsert; ``seen_at`` (the event's time) is kept as the enrolment time of a participant new to us."""
    values = {
        "program_id": participant.program_id,
        "employee_id": participant.employee_id,
        "role": role_to_wire(participant.role),
        "status": enrollment_status_to_wire(participant.status),
        "participant": participant_to_wire(participant).SerializeToString(),
        "updated_at": datetime.now(UTC),
    }
    updated = await session.execute(
        participants.update()
        .where(participants.c.enrollment_id == participant.enrollment_id)
        .values(**values)
    )
    if rows_affected(updated) == 0:
        await session.execute(
            participants.insert().values(
                enrollment_id=participant.enrollment_id,
                enrolled_at=seen_at or datetime.now(UTC),
                **values,
            )
        )


async def load_participants(
    session: AsyncSession, program_id: str, statuses: Sequence[EnrollmentStatus] = (EnrollmentStatus.ACTIVE,)
) -> list[Enrollment]:
    rows = await session.execute(
        select(participants.c.participant)
        .where(
            participants.c.program_id == program_id,
            participants.c.status.in_([enrollment_status_to_wire(status) for status in statuses]),
        )
        .order_by(participants.c.enrollment_id)
    )
    return [_participant(row.participant) for row in rows]


async def load_participant(session: AsyncSession, enrollment_id: str) -> Enrollment | None:
    row = (
        await session.execute(
            select(participants.c.participant).where(participants.c.enrollment_id == enrollment_id)
        )
    ).first()
    return _participant(row.participant) if row else None


async def participants_of_employee(
    session: AsyncSession, employee_id: str, tenant: str | None = None
) -> list[Enrollment]:
    """Every enrolment of the employee in any program and status, most recently updated first; with
    ``tenant``, in that tenant's programs only (an employee id is unique only within its tenant)."""
    query = select(participants.c.participant).where(participants.c.employee_id == employee_id)
    if tenant is not None:
        query = query.join(programs, programs.c.program_id == participants.c.program_id).where(
            programs.c.tenant == tenant
        )
    rows = await session.execute(
        query.order_by(participants.c.updated_at.desc(), participants.c.enrollment_id)
    )
    return [_participant(row.participant) for row in rows]


async def acquaintance(session: AsyncSession, tenant: str, employee_id: str) -> Acquaintance | None:
    """What the connection rule needs of a person of ``tenant``; None when matching knows no enrolment
    of theirs there."""
    known = await participants_of_employee(session, employee_id, tenant)
    if not known:
        return None
    enrolled = frozenset(e.program_id for e in known if e.status is not EnrollmentStatus.WITHDRAWN)
    return Acquaintance(employee_id, tuple(known[0].management_chain_ids), enrolled)


async def shares_a_program(
    session: AsyncSession, tenant: str, first_employee: str, second_employee: str
) -> bool:
    """Whether both employees of ``tenant`` are (or were) enrolled in one of its programs, in any role."""
    first = participants.alias("first")
    second = participants.alias("second")
    row = (
        await session.execute(
            select(first.c.program_id)
            .join(second, first.c.program_id == second.c.program_id)
            .join(programs, programs.c.program_id == first.c.program_id)
            .where(
                programs.c.tenant == tenant,
                first.c.employee_id == first_employee,
                second.c.employee_id == second_employee,
            )
            .limit(1)
        )
    ).first()
    return row is not None


async def person_caps(
    session: AsyncSession, tenant: str, employee_ids: Collection[str]
) -> dict[str, int | None]:
    """Each person's cap across the programs of the tenant (``engine_input.person_cap``): the strictest
    that their active or paused mentor enrolments state."""
    ids = list(set(employee_ids))
    stated: dict[str, list[int | None]] = {employee: [] for employee in ids}
    programs_seen: dict[str, Program] = {}
    live = [enrollment_status_to_wire(s) for s in (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)]
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(participants.c.participant, programs.c.program_id, programs.c.program)
            .join(programs, programs.c.program_id == participants.c.program_id)
            .where(
                programs.c.tenant == tenant,
                participants.c.employee_id.in_(ids[start : start + CHUNK]),
                participants.c.role == role_to_wire(Role.MENTOR),
                participants.c.status.in_(live),
            )
        )
        for row in rows:
            program = programs_seen.get(row.program_id)
            if program is None:
                program = program_from_wire(common_pb2.Program.FromString(row.program))
                programs_seen[row.program_id] = program
            enrolment = _participant(row.participant)
            stated[enrolment.employee_id].append(cap_across_programs(program, enrolment))
    return {employee: person_cap(caps) for employee, caps in stated.items()}


async def enrolled_at(session: AsyncSession, enrollment_ids: Collection[str]) -> dict[str, datetime]:
    ids = list(set(enrollment_ids))
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(participants.c.enrollment_id, participants.c.enrolled_at).where(
                participants.c.enrollment_id.in_(ids[start : start + CHUNK]),
                participants.c.enrolled_at.is_not(None),
            )
        )
        found.update((row.enrollment_id, row.enrolled_at) for row in rows)
    return found


async def forget_employee(session: AsyncSession, employee_id: str) -> int:
    """Erasure: drop the employee's participant rows and introductions, and blank their id in matches
    (the match history of their partners stays, without them). Returns the participant rows dropped."""
    result = await session.execute(delete(participants).where(participants.c.employee_id == employee_id))
    await session.execute(
        delete(introductions).where(
            or_(
                introductions.c.introducer_employee_id == employee_id,
                introductions.c.mentee_employee_id == employee_id,
                introductions.c.mentor_employee_id == employee_id,
            )
        )
    )
    await session.execute(
        update(matches).where(matches.c.mentor_employee_id == employee_id).values(mentor_employee_id="")
    )
    await session.execute(
        update(match_members).where(match_members.c.employee_id == employee_id).values(employee_id="")
    )
    await session.execute(delete(program_managers).where(program_managers.c.employee_id == employee_id))
    await seat_store.forget(session, employee_id)
    await decline_store.forget(session, employee_id)
    return rows_affected(result)
