"""Polling helpers for tests against real processes: wait for a condition, read a service's SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


async def wait_for(
    predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition", every: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout} s")
        await asyncio.sleep(every)


def rows(database_file: Path, query: str, *parameters: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database_file) as connection:
        return connection.execute(query, parameters).fetchall()


def scalar(database_file: Path, query: str, *parameters: object) -> int:
    value = rows(database_file, query, *parameters)[0][0]
    assert isinstance(value, int)
    return value
