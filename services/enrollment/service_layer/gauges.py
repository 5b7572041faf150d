"""Keeps the directory, enrollment and program gauges in step with the store (a few cheap GROUP BYs),
run every few seconds as a background job of the service."""

from __future__ import annotations

from typing import Final

from services.enrollment import metrics
from services.enrollment.adapters import store
from services.enrollment.domain import EmployeeStatus, EnrollmentStatus, ProgramStatus, Role
from services.shared.db import Database

REFRESH_SECONDS: Final = 5.0


async def refresh(database: Database) -> None:
    async with database.read_transaction() as session:
        directory = await store.directory_counts(session)
        enrollments = await store.enrollment_counts(session)
        programs = await store.program_counts(session)
    for employee_status in EmployeeStatus:
        metrics.DIRECTORY_SIZE.labels(employee_status.value.lower()).set(
            directory.get(employee_status.value, 0)
        )
    for role in Role:
        for enrollment_status in EnrollmentStatus:
            metrics.ENROLLMENTS.labels(role.value.lower(), enrollment_status.value.lower()).set(
                enrollments.get((role.value, enrollment_status.value), 0)
            )
    for program_status in ProgramStatus:
        metrics.PROGRAMS.labels(program_status.value.lower()).set(programs.get(program_status.value, 0))
