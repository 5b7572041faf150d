"""Keeps the directory, enrollment and program gauges in step with the store (a few cheap GROUP BYs)."""

from __future__ import annotations

import asyncio
import contextlib

from services.enrollment import metrics
from services.enrollment.adapters import store
from services.enrollment.domain import EmployeeStatus, EnrollmentStatus, ProgramStatus, Role
from services.shared.db import Database
from services.shared.logging import get_logger

REFRESH_SECONDS = 5.0

log = get_logger(__name__)


async def refresh(database: Database) -> None:
    async with database.read_sessions() as session:
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


async def refresh_forever(database: Database, every: float = REFRESH_SECONDS) -> None:
    while True:
        try:
            await refresh(database)
        except Exception:  # a gauge must never take the service down; the next round tries again
            log.exception("gauge_refresh_failed")
        await asyncio.sleep(every)


class GaugeRefresher:
    def __init__(self, database: Database, every: float = REFRESH_SECONDS) -> None:
        self._database = database
        self._every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(
            refresh_forever(self._database, self._every), name="enrollment-gauges"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
