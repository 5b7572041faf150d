"""Work in a child process: its result or its error comes back, a child beyond its memory cap fails
with ``Overloaded`` (no retry hint), and a child whose caller went away is killed."""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path

import pytest

from services.shared import worker_process
from services.shared.admission import Overloaded
from services.shared.cancellation import run_guarded


async def test_the_result_and_the_error_of_the_work_come_back() -> None:
    assert await worker_process.run(math.factorial, 20) == math.factorial(20)
    with pytest.raises(ValueError):
        await worker_process.run(int, "not a number")


async def test_work_beyond_its_memory_cap_is_refused_without_a_retry_hint() -> None:
    with pytest.raises(Overloaded) as raised:
        await worker_process.run(bytearray, 2**31, memory_limit_bytes=1024 * 2**20)
    assert raised.value.retry_after_seconds is None
    assert len(await worker_process.run(bytearray, 2**20, memory_limit_bytes=1024 * 2**20)) == 2**20


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            found |= {int(child), *_children(int(child))}
    return found


async def test_the_child_of_a_caller_that_went_away_is_killed() -> None:
    await worker_process.run(math.factorial, 1)  # the fork server runs: only the worker is new below
    before = _children(os.getpid())
    call = asyncio.ensure_future(run_guarded(lambda: worker_process.run(time.sleep, 60)))
    while len(_children(os.getpid()) - before) < 1:
        await asyncio.sleep(0.05)
    started = _children(os.getpid()) - before
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(call, timeout=30)  # a bound against a hang: the sleep is 60 s
    assert not (_children(os.getpid()) & started), "the child outlived its caller"
