"""The enrollment service's tables (SQLAlchemy Core) and the queries its handlers run.

Every function takes the caller's ``AsyncSession``: the reads and writes of one command or one consumed
event share its transaction (the unit of work). Personal data (name, e-mail) lives in the ``employees``
table only, and an erasure overwrites it with a tombstone.

Management chains for commands (enrolment, updates) are walked in the database with a recursive query;
the HRIS consumer keeps each tenant's reporting tree in memory instead (``reporting_lines`` loads it once,
see ``service_layer/hris.py``) and reads and writes employees a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.adapters.serialization import (
    profile_from_json,
    profile_to_json,
    spec_from_json,
    spec_to_json,
    versions_from_json,
    versions_to_json,
)
from services.enrollment.domain import (
    Employee,
    EmployeeStatus,
    Enrollment,
    EnrollmentStatus,
    PauseReason,
    Program,
    ProgramFormat,
    ProgramStatus,
    Role,
    Version,
    management_chain,
)
from services.shared.db import UtcDateTime

# Keeps IN lists well under every database's limit on bound parameters.
IN_CHUNK: Final = 500


metadata = MetaData()

employees = Table(
    "employees",
    metadata,
    Column("tenant", String(128), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version_time", UtcDateTime, nullable=False),
    Column("version_sequence", BigInteger, nullable=False),
    Column("display_name", String(200)),  # personal data
    Column("email", String(254)),  # personal data
    Column("title", String(200)),
    Column("grade", Integer),
    Column("department", String(200)),
    Column("division", String(200)),
    Column("organization", String(200)),
    Column("cost_center", String(200)),
    Column("location", String(200)),
    Column("timezone", String(64)),
    Column("languages", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("hire_date", Date),
    Column("termination_date", Date),
    Column("manager_id", String(128)),
    Column("field_versions", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant", "employee_id"),
    Index("ix_employees_manager", "tenant", "manager_id"),
    Index("ix_employees_employee_id", "employee_id"),
)

programs = Table(
    "programs",
    metadata,
    Column("program_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("format", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("closed_reason", String(500)),
    Column("request_id", String(128)),
    Column("request_fingerprint", String(64)),
    Index("ix_programs_tenant_created", "tenant", "created_at", "program_id"),
    UniqueConstraint("tenant", "request_id", name="uq_programs_request"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("enrollment_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("program_id", String(64), ForeignKey("programs.program_id"), nullable=False),
    Column("employee_id", String(128), nullable=False),
    Column("role", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("profile", JSON, nullable=False),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("pause_reason", String(16)),
    Column("withdrawal_reason", String(500)),
    Column("revision", Integer, nullable=False),
    Column("request_id", String(128)),
    Column("request_fingerprint", String(64)),
    Index("ix_enrollments_employee", "tenant", "employee_id"),
    Index("ix_enrollments_program", "program_id", "enrollment_id"),
    UniqueConstraint("program_id", "request_id", name="uq_enrollments_request"),
    # At most one live enrollment per employee and program, whatever the isolation level.
    Index(
        "uq_enrollments_live",
        "program_id",
        "employee_id",
        unique=True,
        sqlite_where=text("status != 'WITHDRAWN'"),
        postgresql_where=text("status != 'WITHDRAWN'"),
    ),
)


class ConcurrentUpdate(Exception):
    """The row changed under us (optimistic concurrency by revision): retry the whole unit of work."""


# --- employees -----------------------------------------------------------------------------------------


def _employee_values(employee: Employee, updated_at: datetime | None = None) -> dict[str, Any]:
    return {
        "status": employee.status.value,
        "version_time": employee.version.effective_time,
        "version_sequence": employee.version.sequence,
        "display_name": employee.display_name,
        "email": employee.email,
        "title": employee.title,
        "grade": employee.grade,
        "department": employee.department,
        "division": employee.division,
        "organization": employee.organization,
        "cost_center": employee.cost_center,
        "location": employee.location,
        "timezone": employee.timezone,
        "languages": list(employee.languages),
        "skills": list(employee.skills),
        "hire_date": employee.hire_date,
        "termination_date": employee.termination_date,
        "manager_id": employee.manager_id,
        "field_versions": versions_to_json(employee.field_versions),
        "updated_at": updated_at or datetime.now(UTC),
    }


def _employee(row: Row[Any]) -> Employee:
    return Employee(
        tenant=row.tenant,
        employee_id=row.employee_id,
        status=EmployeeStatus(row.status),
        version=Version(row.version_time, int(row.version_sequence)),
        display_name=row.display_name,
        email=row.email,
        title=row.title,
        grade=row.grade,
        department=row.department,
        division=row.division,
        organization=row.organization,
        cost_center=row.cost_center,
        location=row.location,
        timezone=row.timezone,
        languages=tuple(row.languages),
        skills=tuple(row.skills),
        hire_date=_as_date(row.hire_date),
        termination_date=_as_date(row.termination_date),
        manager_id=row.manager_id,
        field_versions=versions_from_json(row.field_versions),
    )


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


async def get_employee(session: AsyncSession, tenant: str, employee_id: str) -> Employee | None:
    row = (
        await session.execute(
            select(employees).where(employees.c.tenant == tenant, employees.c.employee_id == employee_id)
        )
    ).first()
    return None if row is None else _employee(row)


# The HRIS batches run these: statements built once, values bound per row.
_INSERT_EMPLOYEE: Final = employees.insert()
_UPDATE_EMPLOYEE: Final = employees.update().where(
    employees.c.tenant == bindparam("key_tenant"), employees.c.employee_id == bindparam("key_employee_id")
)


async def get_employees(
    session: AsyncSession, tenant: str, employee_ids: Iterable[str]
) -> dict[str, Employee]:
    found: dict[str, Employee] = {}
    for chunk in _chunks(sorted(set(employee_ids))):
        rows = await session.execute(
            select(employees).where(employees.c.tenant == tenant, employees.c.employee_id.in_(chunk))
        )
        found.update((row.employee_id, _employee(row)) for row in rows)
    return found


async def tenants_of_employee(session: AsyncSession, employee_id: str) -> list[str]:
    """The tenants that know this employee id (a contact look-up that carries no tenant)."""
    rows = await session.execute(
        select(employees.c.tenant).where(employees.c.employee_id == employee_id).limit(2)
    )
    return [row.tenant for row in rows]


# Written on every change of a known employee, whatever fields the change set.
_VERSION_COLUMNS: Final = frozenset({"version_time", "version_sequence", "field_versions", "updated_at"})


async def save_employees(
    session: AsyncSession,
    created: Sequence[Employee],
    updated: Sequence[tuple[Employee, frozenset[str] | None]],
) -> None:
    """Write a batch of employees: one statement for the new ones, and for the known ones one per set
    of changed fields (``None``: every column), so a grade change does not rewrite languages, skills
    or the manager index."""
    now = datetime.now(UTC)
    if created:
        await session.execute(
            _INSERT_EMPLOYEE,
            [{"tenant": e.tenant, "employee_id": e.employee_id, **_employee_values(e, now)} for e in created],
        )
    groups: dict[frozenset[str] | None, list[dict[str, Any]]] = {}
    for employee, changed in updated:
        values = _employee_values(employee, now)
        if changed is not None:
            values = {column: values[column] for column in _VERSION_COLUMNS | changed}
        values["key_tenant"], values["key_employee_id"] = employee.tenant, employee.employee_id
        groups.setdefault(changed, []).append(values)
    for rows in groups.values():
        await session.execute(_UPDATE_EMPLOYEE, rows)


async def reporting_lines(session: AsyncSession, tenant: str) -> dict[str, str | None]:
    """Employee -> manager for the whole tenant (a few MB for 100,000 employees)."""
    rows = await session.execute(
        select(employees.c.employee_id, employees.c.manager_id).where(employees.c.tenant == tenant)
    )
    return dict(rows.tuples().all())


async def manager_lookup(
    session: AsyncSession, tenant: str, employee_ids: Iterable[str]
) -> dict[str, str | None]:
    """Employee -> manager for the given employees and everyone above them (their reporting lines).

    ``UNION`` (not ``UNION ALL``) makes the walk stop on a cycle already stored, which the domain then
    reports instead of this query looping.
    """
    lookup: dict[str, str | None] = {}
    for chunk in _chunks(sorted(set(employee_ids))):
        start = select(employees.c.employee_id, employees.c.manager_id).where(
            employees.c.tenant == tenant, employees.c.employee_id.in_(chunk)
        )
        up = start.cte("up", recursive=True)
        above = employees.alias("above")
        up = up.union(
            select(above.c.employee_id, above.c.manager_id).where(
                above.c.tenant == tenant, above.c.employee_id == up.c.manager_id
            )
        )
        rows = await session.execute(select(up.c.employee_id, up.c.manager_id))
        lookup.update((row.employee_id, row.manager_id) for row in rows)
    return lookup


async def chains_of(
    session: AsyncSession, tenant: str, employee_ids: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """Management chain (manager first, up to the top) of each employee."""
    wanted = sorted(set(employee_ids))
    lookup = await manager_lookup(session, tenant, wanted)
    return {employee_id: management_chain(lookup, employee_id) for employee_id in wanted}


async def employees_with_live_enrollments(session: AsyncSession, tenant: str) -> set[str]:
    """Everyone in the tenant with an enrollment that is not withdrawn."""
    rows = await session.execute(
        select(enrollments.c.employee_id)
        .distinct()
        .where(enrollments.c.tenant == tenant, enrollments.c.status != EnrollmentStatus.WITHDRAWN.value)
    )
    return set(rows.scalars())


async def overwrite_freed_space(session: AsyncSession) -> None:
    """After an erasure: have SQLite zero the space that old row versions leave in its pages."""
    if session.bind.dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))


async def directory_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(employees.c.status, func.count()).group_by(employees.c.status))
    return {status: int(count) for status, count in rows.tuples()}


# --- programs ----------------------------------------------------------------------------------------


def _program(row: Row[Any]) -> Program:
    return Program(
        program_id=row.program_id,
        tenant=row.tenant,
        spec=spec_from_json(row.spec),
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
        "created_at": program.created_at,
        "updated_at": program.updated_at,
        "revision": program.revision,
    }


async def get_program(session: AsyncSession, program_id: str) -> Program | None:
    row = (await session.execute(select(programs).where(programs.c.program_id == program_id))).first()
    return None if row is None else _program(row)


async def get_programs(session: AsyncSession, program_ids: Iterable[str]) -> dict[str, Program]:
    found: dict[str, Program] = {}
    for chunk in _chunks(sorted(set(program_ids))):
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
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentUpdate(f"program {program.program_id} changed concurrently")


def _program_filters(
    tenant: str, status: ProgramStatus | None, program_format: ProgramFormat | None
) -> list[Any]:
    filters: list[Any] = [programs.c.tenant == tenant]
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
) -> list[Program]:
    """Oldest first, keyset-paged on (created_at, program_id)."""
    filters = _program_filters(tenant, status, program_format)
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
    session: AsyncSession, *, tenant: str, status: ProgramStatus | None, program_format: ProgramFormat | None
) -> int:
    filters = _program_filters(tenant, status, program_format)
    return int(
        (await session.execute(select(func.count()).select_from(programs).where(*filters))).scalar_one()
    )


async def program_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(programs.c.status, func.count()).group_by(programs.c.status))
    return {status: int(count) for status, count in rows.tuples()}


# --- enrollments ---------------------------------------------------------------------------------------


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


async def get_enrollment(session: AsyncSession, enrollment_id: str) -> Enrollment | None:
    row = (
        await session.execute(select(enrollments).where(enrollments.c.enrollment_id == enrollment_id))
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
    for chunk in _chunks(sorted(set(employee_ids))):
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
        if result.rowcount != 1:  # type: ignore[attr-defined]
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


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for first in range(0, len(values), IN_CHUNK):
        yield values[first : first + IN_CHUNK]
