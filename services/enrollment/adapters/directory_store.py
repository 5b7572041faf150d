"""The employee directory's queries: employees read and written (a batch at a time for the HRIS
consumer), reporting lines and management chains.

Management chains for commands (enrolment, updates) are walked in the database with a recursive query;
the HRIS consumer keeps each tenant's reporting tree in memory instead (``reporting_lines`` loads it once,
see ``service_layer/hris.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.adapters.serialization import versions_from_json, versions_to_json
from services.enrollment.adapters.tables import employees, in_chunks
from services.enrollment.domain import Employee, EmployeeStatus, Version, management_chain


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
    for chunk in in_chunks(sorted(set(employee_ids))):
        rows = await session.execute(
            select(employees).where(employees.c.tenant == tenant, employees.c.employee_id.in_(chunk))
        )
        found.update((row.employee_id, _employee(row)) for row in rows)
    return found


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
    for chunk in in_chunks(sorted(set(employee_ids))):
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


async def directory_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(employees.c.status, func.count()).group_by(employees.c.status))
    return {status: int(count) for status, count in rows.tuples()}
