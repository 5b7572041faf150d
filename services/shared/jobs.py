"""Background jobs of a service (expiry sweeps, gauges, the e-mail worker), one mechanism for all:
started once the service is ready, cancelled when it stops. A periodic job that raises is logged and
counted, and runs again at its next tick; a long-running job that raises is restarted with back-off."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.shared.logging import get_logger
from services.shared.metrics import JOB_RUNS

log = get_logger(__name__)

MAX_RESTART_DELAY_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Job:
    name: str
    run: Callable[[], Awaitable[object]]
    every_seconds: float | None  # None: a long-running job


class Jobs:
    def __init__(self, service: str) -> None:
        self._service = service
        self._jobs: list[_Job] = []
        self._tasks: list[asyncio.Task[None]] = []

    def every(self, name: str, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` now and then every ``seconds`` after the previous run ended."""
        self._add(_Job(name, job, seconds))

    def forever(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job``, a loop that does not return, for as long as the service runs."""
        self._add(_Job(name, job, None))

    def _add(self, job: _Job) -> None:
        if self._tasks:
            raise RuntimeError("jobs are added before the service starts")
        for outcome in ("ok", "failed"):
            JOB_RUNS.labels(self._service, job.name, outcome)
        self._jobs.append(job)

    @property
    def names(self) -> list[str]:
        return [job.name for job in self._jobs]

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"{self._service}.{job.name}") for job in self._jobs
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _loop(self, job: _Job) -> None:
        delay = 1.0
        while True:
            try:
                await job.run()
            except Exception:  # a job must outlive a database or broker hiccup: the next run retries
                JOB_RUNS.labels(self._service, job.name, "failed").inc()
                log.exception("job_failed", job=job.name)
                if job.every_seconds is None:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RESTART_DELAY_SECONDS)
                    continue
            else:
                JOB_RUNS.labels(self._service, job.name, "ok").inc()
                if job.every_seconds is None:
                    log.warning("job_returned", job=job.name)
            await asyncio.sleep(job.every_seconds if job.every_seconds is not None else delay)
