"""CPU-bound work (a matching solve) in a process of its own: off the event loop and its GIL, with its
memory capped, and stopped when the caller of its unit of work is gone.

A thread is not enough for a solve: OR-Tools' min-cost flow has neither a time limit nor a way to be
interrupted, and the Python around it (candidates, scores) competes with the event loop for the GIL, so
health checks and other calls time out while several solves run. A child process is killed when the
caller goes away (:func:`services.shared.cancellation.caller_gone`); its address space is capped with
``RLIMIT_AS``, so a solve that needs more fails with ``MemoryError`` in the child rather than growing the
service. Children are forked from a ``forkserver`` (never from the service process itself, whose gRPC
and Kafka threads make ``fork`` unsafe) that has the solver's modules imported already, so a child starts
in milliseconds; arguments and the result travel pickled over a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import resource
from collections.abc import Callable, Sequence
from multiprocessing.context import ForkServerContext
from typing import Any, TypeVar

from services.shared.admission import Overloaded
from services.shared.cancellation import CallerGone, caller_gone

R = TypeVar("R")

_CONTEXT: ForkServerContext = multiprocessing.get_context("forkserver")
_started = False
# How often a waiting parent looks whether its caller went away.
_POLL_SECONDS = 0.05


def start(preload: Sequence[str]) -> None:
    """Start the fork server with ``preload`` imported (call once, before the first ``run``)."""
    global _started
    if not _started:
        _CONTEXT.set_forkserver_preload([__name__, *preload])
        multiprocessing.forkserver.ensure_running()
        _started = True


def _child(
    connection: multiprocessing.connection.Connection,
    memory_limit_bytes: int,
    function: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    if memory_limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    try:
        outcome: tuple[bool, Any] = (True, function(*args))
    except MemoryError:
        outcome = (False, MemoryError())
    except Exception as error:  # noqa: BLE001 -- handed to the parent, which raises it
        outcome = (False, error)
    try:
        connection.send(outcome)
    except MemoryError:
        connection.send((False, MemoryError()))
    except Exception as error:  # noqa: BLE001 -- an exception that does not pickle
        connection.send((False, RuntimeError(f"{type(error).__name__}: {error}")))
    finally:
        connection.close()


async def run(function: Callable[..., R], *args: Any, memory_limit_bytes: int = 0) -> R:
    """``function(*args)`` in a child process (see the module); ``memory_limit_bytes``: the child's
    address space cap, 0 for none. Raises :class:`Overloaded` (no retry hint) when the child runs out of
    that memory, :class:`CallerGone` once the caller went away (the child is killed), and whatever
    ``function`` raised."""
    start([function.__module__])
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_child, args=(sender, memory_limit_bytes, function, args), daemon=True, name="worker"
    )
    process.start()
    sender.close()
    received = asyncio.ensure_future(asyncio.to_thread(receiver.recv))
    try:
        while not received.done():
            await asyncio.wait([received], timeout=_POLL_SECONDS)
            if caller_gone():
                process.kill()
                raise CallerGone("the caller went away during the work")
        try:
            ok, value = received.result()
        except EOFError:
            raise RuntimeError(f"the worker process died (exit code {await _exit_code(process)})") from None
    finally:
        if process.is_alive():
            process.kill()
        await asyncio.wait([received])  # the pipe reports EOF once the child is gone
        with contextlib.suppress(Exception):
            received.exception()
        receiver.close()
        await _exit_code(process)
    if ok:
        return value  # type: ignore[no-any-return]
    if isinstance(value, MemoryError):
        raise Overloaded(
            f"the work needs more memory than its limit of {memory_limit_bytes // 2**20} MiB", None
        )
    raise value


async def _exit_code(process: multiprocessing.process.BaseProcess) -> int | None:
    await asyncio.to_thread(process.join)
    return process.exitcode
