"""The metrics port's HTTP endpoints: ``/metrics``, and ``/livez`` and ``/readyz`` for probes that do not
speak gRPC (a load balancer, a kubelet, a container health check).

- ``/metrics``: prometheus_client's own WSGI app (content negotiation, gzip, ``name[]`` filters);
- ``/livez``: 200 while the process's event loop turns (a heartbeat it schedules on itself is fresh),
  503 once it has been blocked longer than ``LIVENESS_STALE_SECONDS``;
- ``/readyz``: 200 while the service says it can do its work (the same state as its gRPC health:
  started, not stopping, its database write probe passing), 503 otherwise;
- anything else: 404.

The server is the standard library's WSGI server with one thread per request, as prometheus_client's
``start_http_server`` runs it; only the routing is written here.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

LIVENESS_STALE_SECONDS = 10.0
HEARTBEAT_SECONDS = 1.0


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: every scrape and probe would write a line."""

    def log_message(self, format: str, *args: object) -> None:
        return


class LoopHeartbeat:
    """A timestamp the event loop refreshes every second: stale means the loop is blocked or gone."""

    def __init__(self) -> None:
        self._beat = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> LoopHeartbeat:
        loop = loop or asyncio.get_running_loop()

        def beat() -> None:
            self._beat = time.monotonic()
            self._handle = loop.call_later(HEARTBEAT_SECONDS, beat)

        beat()
        return self

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def fresh(self) -> bool:
        return time.monotonic() - self._beat < LIVENESS_STALE_SECONDS


def _text(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")])
    return [body.encode()]


def probe_app(
    registry: CollectorRegistry, live: Callable[[], bool], ready: Callable[[], bool]
) -> WSGIApplication:
    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body: Iterable[bytes] = metrics(environ, start_response)
            return body
        if path == "/livez":
            if live():
                return _text(start_response, "200 OK", "ok\n")
            return _text(start_response, "503 Service Unavailable", "event loop blocked\n")
        if path == "/readyz":
            if ready():
                return _text(start_response, "200 OK", "ok\n")
            return _text(start_response, "503 Service Unavailable", "not ready\n")
        return _text(start_response, "404 Not Found", "not found: /metrics, /livez, /readyz\n")

    return app


def serve_probes(
    host: str,
    port: int,
    registry: CollectorRegistry,
    live: Callable[[], bool],
    ready: Callable[[], bool],
) -> WSGIServer:
    """Serve on a daemon thread; ``server.server_port`` is the bound port (``port=0`` picks one)."""
    server = make_server(
        host,
        port,
        probe_app(registry, live, ready),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
