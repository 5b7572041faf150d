"""Admission control: at most ``limit`` at once, one per key, a bounded queue served in order among the
keys that are free, RESOURCE_EXHAUSTED (``Overloaded``) with a retry hint beyond it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from services.shared.admission import Admission, Overloaded


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class Holder:
    """A call that holds its slot until released."""

    def __init__(self, admission: Admission, key: str) -> None:
        self.admitted = False
        self.release = asyncio.Event()
        self.task = asyncio.ensure_future(self._run(admission, key))

    async def _run(self, admission: Admission, key: str) -> None:
        async with admission.admit(key):
            self.admitted = True
            await self.release.wait()

    async def finish(self) -> None:
        self.release.set()
        await self.task


def admission(limit: int = 2, queue: int = 2, retry_after: float = 1.0) -> Admission:
    return Admission("test", "work", limit=limit, queue=queue, retry_after_seconds=retry_after)


async def refused(call: Callable[[], Awaitable[None]]) -> Overloaded:
    with pytest.raises(Overloaded) as raised:
        await call()
    return raised.value


async def test_beyond_the_limit_and_the_queue_a_call_is_refused_with_a_retry_hint() -> None:
    bound = admission(limit=2, queue=1)
    first, second, third = Holder(bound, "a"), Holder(bound, "b"), Holder(bound, "c")
    await _settle()
    assert (first.admitted, second.admitted, third.admitted) == (True, True, False)
    assert (bound.running, bound.waiting) == (2, 1)

    async def fourth() -> None:
        async with bound.admit("d"):
            pass

    error = await refused(fourth)
    assert error.retry_after_seconds is not None and error.retry_after_seconds >= 1.0
    await first.finish()
    await _settle()
    assert third.admitted
    await second.finish()
    await third.finish()
    assert (bound.running, bound.waiting) == (0, 0)


async def test_one_call_per_key_at_a_time_and_a_busy_key_does_not_hold_up_the_others() -> None:
    bound = admission(limit=3, queue=2)
    first = Holder(bound, "program-1")
    again = Holder(bound, "program-1")
    other = Holder(bound, "program-2")
    await _settle()
    assert (first.admitted, again.admitted, other.admitted) == (True, False, True)
    await first.finish()
    await _settle()
    assert again.admitted
    await again.finish()
    await other.finish()


async def test_a_waiter_whose_caller_goes_away_leaves_the_queue() -> None:
    bound = admission(limit=1, queue=1)
    first = Holder(bound, "a")
    waiting = Holder(bound, "b")
    await _settle()
    assert bound.waiting == 1
    waiting.task.cancel()
    await _settle()
    assert bound.waiting == 0
    late = Holder(bound, "c")  # the queue has room again
    await first.finish()
    await _settle()
    assert late.admitted
    await late.finish()
    assert bound.running == 0


async def test_the_retry_hint_follows_how_long_calls_hold_their_slot() -> None:
    bound = admission(limit=1, queue=0, retry_after=0.01)
    for _ in range(3):
        async with bound.admit("a"):
            await asyncio.sleep(0.05)
    holder = Holder(bound, "a")
    await _settle()

    async def another() -> None:
        async with bound.admit("b"):
            pass

    error = await refused(another)
    assert error.retry_after_seconds is not None and error.retry_after_seconds > 0.02
    await holder.finish()


def test_the_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        admission(limit=0)
