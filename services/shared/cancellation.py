"""Units of work that a cancelled caller cannot orphan.

When a task is cancelled while it awaits a statement (an RPC past its deadline), SQLAlchemy gives up on
the connection and closes it without a rollback. A SQLite connection closed while a statement is still
unfinished stays alive as a zombie, and keeps its transaction and the database's write lock. Every
later writer then waits until it times out. This was seen as a whole service locked by a burst of calls
with 1 ms deadlines.

:func:`run_guarded` runs the work in a task of its own, which the caller's cancellation does not reach.
When the caller goes away, the statement in flight is interrupted (SQLite), and no new statement starts
(:class:`CallerGone`). The work then leaves through its ordinary error path: the transaction rolls back
and the connection goes back to the pool. Only then is the caller's cancellation raised. A commit that
has begun is never interrupted: the connection stops being tracked before it commits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

R = TypeVar("R")


class CallerGone(Exception):
    """The caller of a unit of work went away (cancelled, past its deadline) before the work ended."""


@dataclass
class _Guard:
    caller_gone: bool = False
    # Driver connections (aiosqlite) with a transaction of this unit of work open, until they commit.
    in_flight: set[Any] = field(default_factory=set)


_GUARD: ContextVar[_Guard | None] = ContextVar("mentoring_unit_of_work_guard", default=None)


def guard_engine(engine: AsyncEngine, *, interruptible: bool) -> None:
    """Make the engine's statements stop for a guarded unit of work whose caller is gone;
    ``interruptible``: the driver can interrupt a running statement (aiosqlite)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _stop_when_caller_gone(*_args: Any) -> None:
        guard = _GUARD.get()
        if guard is not None and guard.caller_gone:
            raise CallerGone("the caller went away")

    if not interruptible:
        return

    @event.listens_for(sync_engine, "begin")
    def _track(connection: Connection) -> None:
        guard = _GUARD.get()
        if guard is not None:
            guard.in_flight.add(connection.connection.driver_connection)

    @event.listens_for(sync_engine, "commit")
    @event.listens_for(sync_engine, "rollback")
    def _untrack(connection: Connection) -> None:
        guard = _GUARD.get()
        if guard is not None:
            guard.in_flight.discard(connection.connection.driver_connection)


def caller_gone() -> bool:
    """Whether the caller of the guarded unit of work running now went away (False outside one): work
    that runs no statement for a while (a solve) looks at this to stop early."""
    guard = _GUARD.get()
    return guard is not None and guard.caller_gone


async def run_guarded(work: Callable[[], Awaitable[R]]) -> R:
    """Run ``work`` to its end, commit or rollback, whatever happens to the caller (see the module)."""
    guard = _Guard()

    async def guarded() -> R:
        _GUARD.set(guard)
        return await work()

    task = asyncio.create_task(guarded())
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        guard.caller_gone = True
        for connection in list(guard.in_flight):
            with contextlib.suppress(ValueError):  # closed meanwhile: nothing left to interrupt
                await connection.interrupt()
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the caller is gone, nobody else will read it
        raise
