"""Background jobs: a periodic job that raises runs again at its next tick, a long-running job that
raises is restarted, stop() cancels what runs; every run is counted by outcome."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prometheus_client import REGISTRY

from services.shared.jobs import Jobs


class Hiccup(Exception):
    pass


def runs(service: str, job: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "mentoring_job_runs_total", {"service": service, "task": job, "outcome": outcome}
        )
        or 0.0
    )


async def eventually(condition: asyncio.Event, seconds: float = 10.0) -> None:
    await asyncio.wait_for(condition.wait(), timeout=seconds)


def a_service() -> str:
    """A service name of the test's own, so counters of other tests do not add up with these."""
    return f"svc-{uuid.uuid4().hex[:8]}"


async def test_a_periodic_job_that_raises_runs_again() -> None:
    service = a_service()
    jobs = Jobs(service)
    calls = 0
    ran_again = asyncio.Event()

    async def sweep() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Hiccup
        ran_again.set()

    jobs.every("sweep", 0.01, sweep)
    assert jobs.names == ["sweep"]
    jobs.start()
    try:
        await eventually(ran_again)
    finally:
        await jobs.stop()
    assert calls >= 2
    assert runs(service, "sweep", "failed") == 1
    assert runs(service, "sweep", "ok") >= 1


async def test_a_forever_job_that_raises_is_restarted() -> None:
    service = a_service()
    jobs = Jobs(service)
    starts = 0
    restarted = asyncio.Event()

    async def worker() -> None:
        nonlocal starts
        starts += 1
        if starts == 1:
            raise Hiccup
        restarted.set()
        await asyncio.Event().wait()  # a worker loop runs until the service stops

    jobs.forever("worker", worker)
    jobs.start()
    try:
        await eventually(restarted)
    finally:
        await jobs.stop()
    assert starts == 2
    assert runs(service, "worker", "failed") == 1


async def test_stop_cancels_running_jobs_and_jobs_are_added_before_start() -> None:
    jobs = Jobs(a_service())
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def worker() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    jobs.forever("worker", worker)
    jobs.start()
    await eventually(started)
    with pytest.raises(RuntimeError):
        jobs.every("late", 1.0, worker)
    await jobs.stop()
    assert cancelled.is_set()
    assert [task for task in asyncio.all_tasks() if task.get_name().endswith(".worker")] == []
