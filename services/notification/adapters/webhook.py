"""Posts to chat and webhook endpoints over HTTPS with aiohttp: one client session (connection pool) for
the service, a total timeout per call. Only the status code comes back; a call that gets no answer
(refused, reset, TLS failure, timeout) raises :class:`WebhookUnreachable` with the error's class."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Protocol

import aiohttp


class WebhookUnreachable(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class WebhookClient(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int: ...

    async def close(self) -> None: ...


class HttpWebhooks:
    def __init__(self, timeout_seconds: float, ca_file: Path | None = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._tls: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        )
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running event loop.
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self._tls, limit=100, limit_per_host=8)
            self._session = aiohttp.ClientSession(timeout=self._timeout, connector=connector)
        return self._session

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            async with self._client().post(url, data=body, headers=headers, allow_redirects=False) as reply:
                await reply.read()
                return reply.status
        except (TimeoutError, aiohttp.ClientError, OSError, ssl.SSLError) as error:
            raise WebhookUnreachable(type(error).__name__) from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
