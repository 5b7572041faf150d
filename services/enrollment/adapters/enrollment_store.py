"""The enrollments' queries: read, create, update (optimistically, by revision), list and count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.adapters.serialization import profile_from_json, profile_to_json
from services.enrollment.adapters.tables import ConcurrentUpdate, enrollments, in_chunks
from services.enrollment.domain import Enrollment, EnrollmentStatus, PauseReason, Role
from services.shared.db import rows_affected


def _enrollment(row: Row[Any]) -> Enrollment:
    return Enrollment(
        enrollment_id=row.enrollment_id,
        tenant=row.tenant,
        program_id=row.program_id,
        employee_id=row.employee_id,
        role=Role(row.role),
        profile=profile_from_json(row.profile),
        status=EnrollmentStatus(row.status),
        enrolled_at=row.enrolled_at,
        updated_at=row.updated_at,
        pause_reason=None if row.pause_reason is None else PauseReason(row.pause_reason),
        withdrawal_reason=row.withdrawal_reason,
        revision=row.revision,
    )


def _enrollment_values(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "tenant": enrollment.tenant,
        "program_id": enrollment.program_id,
        "employee_id": enrollment.employee_id,
        "role": enrollment.role.value,
        "status": enrollment.status.value,
        "profile": profile_to_json(enrollment.profile),
        "enrolled_at": enrollment.enrolled_at,
        "updated_at": enrollment.updated_at,
        "pause_reason": None if enrollment.pause_reason is None else enrollment.pause_reason.value,
        "withdrawal_reason": enrollment.withdrawal_reason,
        "revision": enrollment.revision,
    }


async def get_enrollment(session: AsyncSession, tenant: str, enrollment_id: str) -> Enrollment | None:
    """The enrolment of ``tenant`` with this id: another tenant's is None, as a missing one."""
    row = (
        await session.execute(
            select(enrollments).where(
                enrollments.c.tenant == tenant, enrollments.c.enrollment_id == enrollment_id
            )
        )
    ).first()
    return None if row is None else _enrollment(row)


async def get_enrollment_by_request(
    session: AsyncSession, program_id: str, request_id: str
) -> tuple[Enrollment, str] | None:
    row = (
        await session.execute(
            select(enrollments).where(
                enrollments.c.program_id == program_id, enrollments.c.request_id == request_id
            )
        )
    ).first()
    return None if row is None else (_enrollment(row), row.request_fingerprint or "")


async def enrollments_of_employee(
    session: AsyncSession, tenant: str, employee_id: str, program_id: str | None = None
) -> list[Enrollment]:
    """Every enrollment of the employee (any status), oldest first; in one program if given."""
    filters = [enrollments.c.tenant == tenant, enrollments.c.employee_id == employee_id]
    if program_id is not None:
        filters.append(enrollments.c.program_id == program_id)
    rows = await session.execute(
        select(enrollments).where(*filters).order_by(enrollments.c.enrolled_at, enrollments.c.enrollment_id)
    )
    return [_enrollment(row) for row in rows]


async def enrollments_of_employees(
    session: AsyncSession, tenant: str, employee_ids: Iterable[str]
) -> dict[str, list[Enrollment]]:
    """Employee id -> every enrollment of theirs (any status), oldest first."""
    found: dict[str, list[Enrollment]] = {}
    for chunk in in_chunks(sorted(set(employee_ids))):
        rows = await session.execute(
            select(enrollments)
            .where(enrollments.c.tenant == tenant, enrollments.c.employee_id.in_(chunk))
            .order_by(enrollments.c.enrolled_at, enrollments.c.enrollment_id)
        )
        for row in rows:
            found.setdefault(row.employee_id, []).append(_enrollment(row))
    return found


async def insert_enrollment(
    session: AsyncSession, enrollment: Enrollment, *, request_id: str | None, fingerprint: str | None
) -> None:
    await session.execute(
        enrollments.insert().values(
            enrollment_id=enrollment.enrollment_id,
            request_id=request_id,
            request_fingerprint=fingerprint,
            **_enrollment_values(enrollment),
        )
    )


async def update_enrollments(session: AsyncSession, changed: Sequence[Enrollment]) -> None:
    for enrollment in changed:
        result = await session.execute(
            enrollments.update()
            .where(
                enrollments.c.enrollment_id == enrollment.enrollment_id,
                enrollments.c.revision < enrollment.revision,
            )
            .values(**_enrollment_values(enrollment))
        )
        if rows_affected(result) != 1:
            raise ConcurrentUpdate(f"enrollment {enrollment.enrollment_id} changed concurrently")


async def has_live_enrollments(session: AsyncSession, program_id: str) -> bool:
    row = (
        await session.execute(
            select(enrollments.c.enrollment_id)
            .where(
                enrollments.c.program_id == program_id,
                enrollments.c.status != EnrollmentStatus.WITHDRAWN.value,
            )
            .limit(1)
        )
    ).first()
    return row is not None


async def employees_with_live_enrollments(session: AsyncSession, tenant: str) -> set[str]:
    """Everyone in the tenant with an enrollment that is not withdrawn."""
    rows = await session.execute(
        select(enrollments.c.employee_id)
        .distinct()
        .where(enrollments.c.tenant == tenant, enrollments.c.status != EnrollmentStatus.WITHDRAWN.value)
    )
    return set(rows.scalars())


def _enrollment_filters(program_id: str, role: Role | None, status: EnrollmentStatus | None) -> list[Any]:
    filters: list[Any] = [enrollments.c.program_id == program_id]
    if role is not None:
        filters.append(enrollments.c.role == role.value)
    if status is not None:
        filters.append(enrollments.c.status == status.value)
    return filters


async def list_enrollments(
    session: AsyncSession,
    *,
    program_id: str,
    role: Role | None,
    status: EnrollmentStatus | None,
    after: str | None,
    limit: int,
) -> list[Enrollment]:
    """Keyset-paged on enrollment_id."""
    filters = _enrollment_filters(program_id, role, status)
    if after is not None:
        filters.append(enrollments.c.enrollment_id > after)
    rows = await session.execute(
        select(enrollments).where(*filters).order_by(enrollments.c.enrollment_id).limit(limit)
    )
    return [_enrollment(row) for row in rows]


async def count_enrollments(
    session: AsyncSession, *, program_id: str, role: Role | None, status: EnrollmentStatus | None
) -> int:
    filters = _enrollment_filters(program_id, role, status)
    return int(
        (await session.execute(select(func.count()).select_from(enrollments).where(*filters))).scalar_one()
    )


async def enrollment_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(enrollments.c.role, enrollments.c.status, func.count()).group_by(
            enrollments.c.role, enrollments.c.status
        )
    )
    return {(role, status): int(count) for role, status, count in rows.tuples()}
