"""Work that must happen only once a unit of work has committed (metrics, waking the relay): a
rolled-back transaction, or a consumer batch the pipeline rolls back and applies again, must not count
what never was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "mentoring_after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` when the outermost transaction of ``session`` commits (never on rollback)."""
    sync_session = session.sync_session
    callbacks: list[Callable[[], None]] | None = sync_session.info.get(_KEY)
    if callbacks is None:
        callbacks = []
        sync_session.info[_KEY] = callbacks
        event.listen(sync_session, "after_commit", _run_callbacks)
        event.listen(sync_session, "after_rollback", _drop_callbacks)
    callbacks.append(callback)


def _run_callbacks(sync_session: Any) -> None:
    if sync_session.in_nested_transaction():  # a savepoint released: the outer transaction goes on
        return
    for callback in sync_session.info.pop(_KEY, []):
        callback()
    sync_session.info[_KEY] = []


def _drop_callbacks(sync_session: Any) -> None:
    if not sync_session.in_nested_transaction():
        sync_session.info[_KEY] = []
