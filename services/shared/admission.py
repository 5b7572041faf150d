"""Admission control: a bound on how much of one class of work (e.g. matching runs) a service takes on.

At most ``limit`` calls run at once, at most one per key (e.g. per program), and at most ``queue`` wait
for their turn, first come first served among those whose key is free. A call beyond that is refused at
once with :class:`Overloaded`, which the gRPC layer answers with ``RESOURCE_EXHAUSTED`` and a retry
hint (``google.rpc.RetryInfo``): the recent mean time a call held its slot, times the calls ahead of a
retry per slot, never less than ``retry_after_seconds``. A waiter whose caller goes away leaves the queue;
a slot is given back only when the work holding it has ended (a solve that outlives its caller still
counts against the bound).

Hand-written: ``asyncio.Semaphore`` bounds the total but neither the queue nor one per key, and the
rate limiters on PyPI (aiolimiter) bound rates, not concurrency.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Gauge

ADMISSION_REFUSED = Counter(
    "mentoring_admission_refused_total",
    "Calls refused with RESOURCE_EXHAUSTED because the class of work was at its bound",
    ["service", "work"],
)
ADMISSION_RUNNING = Gauge("mentoring_admission_running", "Calls holding a slot", ["service", "work"])
ADMISSION_WAITING = Gauge("mentoring_admission_waiting", "Calls waiting for a slot", ["service", "work"])

# Weight of the newest hold time in the running mean behind the retry hint.
_SMOOTHING = 0.3


class Overloaded(Exception):
    """The service cannot take this call on now (``RESOURCE_EXHAUSTED``); ``retry_after_seconds``: when a
    retry may succeed, or None when retrying the same call will not help (it needs more than a limit)."""

    def __init__(self, message: str, retry_after_seconds: float | None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds


@dataclass(slots=True)
class _Waiter:
    key: str
    granted: asyncio.Future[None]


class Admission:
    """Slots for one class of work of one service (see the module)."""

    def __init__(
        self, service: str, work: str, *, limit: int, queue: int, retry_after_seconds: float = 1.0
    ) -> None:
        if limit < 1 or queue < 0:
            raise ValueError("limit must be >= 1 and queue >= 0")
        self._work = work
        self._limit = limit
        self._queue = queue
        self._floor = retry_after_seconds
        self._running: set[str] = set()
        self._waiting: deque[_Waiter] = deque()
        self._mean_hold = retry_after_seconds
        self._refused = ADMISSION_REFUSED.labels(service, work)
        self._running_gauge = ADMISSION_RUNNING.labels(service, work)
        self._waiting_gauge = ADMISSION_WAITING.labels(service, work)

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def retry_after(self) -> float:
        """Seconds until a retry may find a slot: the calls ahead of it, per slot, times a hold."""
        ahead = len(self._running) + len(self._waiting) + 1
        return max(self._floor, self._mean_hold * ahead / self._limit)

    @asynccontextmanager
    async def admit(self, key: str) -> AsyncIterator[None]:
        """Hold a slot for ``key`` while the block runs; raises :class:`Overloaded` when none is free and
        the queue is full."""
        await self._acquire(key)
        started = time.monotonic()
        try:
            yield
        finally:
            held = time.monotonic() - started
            self._mean_hold += _SMOOTHING * (held - self._mean_hold)
            self._release(key)

    def _free(self, key: str) -> bool:
        return len(self._running) < self._limit and key not in self._running

    async def _acquire(self, key: str) -> None:
        if self._free(key) and not any(waiter.key == key for waiter in self._waiting):
            self._take(key)
            return
        if len(self._waiting) >= self._queue:
            self._refused.inc()
            busy = "already running for this key" if key in self._running else "at its limit"
            raise Overloaded(f"{self._work} is {busy}; retry later", self.retry_after())
        waiter = _Waiter(key, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        self._waiting_gauge.set(len(self._waiting))
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self._release(key)  # granted while being cancelled: hand the slot on
            else:
                self._waiting.remove(waiter)
                self._waiting_gauge.set(len(self._waiting))
            raise

    def _take(self, key: str) -> None:
        self._running.add(key)
        self._running_gauge.set(len(self._running))

    def _release(self, key: str) -> None:
        self._running.discard(key)
        for waiter in list(self._waiting):
            if not self._free(waiter.key):
                continue
            self._waiting.remove(waiter)
            self._take(waiter.key)
            waiter.granted.set_result(None)
        self._running_gauge.set(len(self._running))
        self._waiting_gauge.set(len(self._waiting))
