"""What every servicer method and every consumer does, written once: a command goes to its handler in
a unit of work, the relay is woken after a write commits, effects registered with
:func:`services.shared.unit_of_work.after_commit` run only then.

A service declares its commands in ``service_layer/commands.py`` (subclasses of :class:`Command`,
:class:`Query` or :class:`Workflow`) and one map from command class to handler in
``service_layer/handlers.py``; its entrypoints translate wire messages into commands and hand them to
one :class:`MessageBus`. A handler takes ``(session, command)`` (``(database, command)`` for a
workflow); dependencies such as a policy are bound with :func:`functools.partial`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from google.protobuf.message import Message
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.cancellation import run_guarded
from services.shared.consumer import EventHandler
from services.shared.db import Database, is_write_conflict
from services.shared.envelope import CloudEvent
from services.shared.logging import get_logger

R = TypeVar("R")

MAX_CONFLICT_RETRIES = 3
CONFLICT_RETRY_SECONDS = 0.02

log = get_logger(__name__)
R_co = TypeVar("R_co", covariant=True)


class Command(Generic[R_co]):
    """A change of state; its handler runs in one write transaction and returns an ``R_co``."""

    __slots__ = ()


class Query(Command[R_co]):
    """A read; its handler runs in a read-only transaction (on SQLite it takes no write lock)."""

    __slots__ = ()


class Workflow(Command[R_co]):
    """A command whose handler opens its own units of work (e.g. load, solve outside any transaction,
    store): it is given the :class:`Database` rather than a session."""

    __slots__ = ()


Handler = Callable[..., Awaitable[Any]]
Handlers = Mapping[type[Command[Any]], Handler]

# What a consumer makes of one event: the command(s) to apply, or None when the event asks for nothing.
Translator = Callable[[CloudEvent], "Command[Any] | Sequence[Command[Any]] | None"]


def _nothing() -> None:
    return None


class MessageBus:
    """Runs commands through the service's one handler map."""

    def __init__(
        self, database: Database, handlers: Handlers, after_write: Callable[[], None] = _nothing
    ) -> None:
        self._database = database
        self._handlers = dict(handlers)
        self._after_write = after_write

    @property
    def handlers(self) -> Mapping[type[Command[Any]], Handler]:
        return self._handlers

    def _handler_of(self, command: Command[Any]) -> Handler:
        try:
            return self._handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None

    async def execute(self, command: Command[R]) -> R:
        """Run ``command`` in a unit of work of its own (an RPC's). A caller that goes away (deadline,
        cancellation) stops the work at its next statement and leaves no transaction open."""
        return await run_guarded(lambda: self._execute(command))

    async def _execute(self, command: Command[R]) -> R:
        handler = self._handler_of(command)
        if isinstance(command, Query):
            async with self._database.read_transaction() as session:
                return cast(R, await handler(session, command))
        if isinstance(command, Workflow):
            result = await handler(self._database, command)
        else:
            result = await self._in_one_transaction(handler, command)
        self._after_write()
        return cast(R, result)

    async def _in_one_transaction(self, handler: Handler, command: Command[Any]) -> Any:
        """The command's transaction; one the database aborted to break a deadlock with another writer
        (PostgreSQL, several instances) is run again whole, a few times: it left nothing behind."""
        attempt = 0
        while True:
            try:
                async with self._database.transaction() as session:
                    return await handler(session, command)
            except DBAPIError as error:
                attempt += 1
                if not is_write_conflict(error) or attempt > MAX_CONFLICT_RETRIES:
                    raise
                log.info("write_conflict_retried", command=type(command).__name__, attempt=attempt)
                await asyncio.sleep(CONFLICT_RETRY_SECONDS * attempt)

    async def apply(self, session: AsyncSession, command: Command[R]) -> R:
        """Run ``command`` inside a unit of work someone else owns (a consumer's batch)."""
        if isinstance(command, Workflow):
            raise TypeError(f"{type(command).__name__} opens its own units of work")
        return cast(R, await self._handler_of(command)(session, command))

    def event_handlers(
        self, translators: Mapping[type[Message], Translator]
    ) -> dict[type[Message], EventHandler]:
        """Consumer handlers that translate each event into commands and apply them in the batch's unit
        of work."""
        return {message: self._event_handler(translate) for message, translate in translators.items()}

    def _event_handler(self, translate: Translator) -> EventHandler:
        async def handle(session: AsyncSession, event: CloudEvent) -> None:
            commands = translate(event)
            if commands is None:
                return
            for command in (commands,) if isinstance(commands, Command) else commands:
                await self.apply(session, command)

        return handle
