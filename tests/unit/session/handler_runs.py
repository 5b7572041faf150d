"""Running one session command through the service's handler map, in a unit of work of its own, at a
chosen time (handlers that take ``now`` get it; the others do not)."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import TypeVar, cast

from services.session.service_layer import handlers
from services.shared.db import Database
from services.shared.messagebus import Command

T = TypeVar("T")


class HandlerRun:
    """``run = HandlerRun(NOW)``, then ``await run(database, command)`` or ``..., now=later)``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    async def __call__(self, database: Database, command: Command[T], now: datetime | None = None) -> T:
        handler = handlers.handler_map()[type(command)]
        async with database.transaction() as uow:
            if "now" in inspect.signature(handler).parameters:
                return cast(T, await handler(uow, command, now or self.now))
            return cast(T, await handler(uow, command))
