"""A service's own access token for calls to another service: the OAuth 2.0 client-credentials grant at
the issuer's token endpoint (from its discovery document), kept until shortly before it expires, and a
grpc.aio client interceptor that sends it as ``authorization: Bearer``.

    tokens = ClientCredentials(settings.auth_issuer, settings.auth_client_id, secret)
    channel = grpc.aio.insecure_channel(target, interceptors=[BearerTokenInterceptor(tokens)])
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from services.shared.auth import IssuerUnavailable


class ClientCredentials:
    """Access tokens of one confidential client. ``renew_before_seconds``: a token is replaced this long
    before its expiry, so a call never leaves with one that expires on the way."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        timeout_seconds: float = 5.0,
        renew_before_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("a client id and secret are needed for the client-credentials grant")
        self._issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret
        self._timeout = timeout_seconds
        self._renew_before = renew_before_seconds
        self._clock = clock
        self._token_endpoint: str | None = None
        self._token: str | None = None
        self._valid_until = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if self._token is not None and self._clock() < self._valid_until:
            return self._token
        async with self._lock:
            if self._token is None or self._clock() >= self._valid_until:
                token, lifetime = await asyncio.to_thread(self._grant)
                self._token = token
                self._valid_until = self._clock() + max(lifetime - self._renew_before, lifetime / 2)
                return token
            return self._token

    def _grant(self) -> tuple[str, float]:
        if self._token_endpoint is None:
            self._token_endpoint = token_endpoint(self._issuer, self._timeout)
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret,
        }
        return grant(self._token_endpoint, form, self._timeout)


def token_endpoint(issuer: str, timeout_seconds: float = 5.0) -> str:
    """The issuer's token endpoint, from its discovery document."""
    discovery = _json(f"{issuer.rstrip('/')}/.well-known/openid-configuration", None, timeout_seconds)
    return str(discovery["token_endpoint"])


def grant(endpoint: str, form: dict[str, str], timeout_seconds: float = 5.0) -> tuple[str, float]:
    """An access token and its lifetime in seconds from the token endpoint (blocking)."""
    answer = _json(endpoint, urllib.parse.urlencode(form).encode(), timeout_seconds)
    return str(answer["access_token"]), float(answer.get("expires_in", 60))


def password_token(issuer: str, client_id: str, username: str, password: str) -> str:
    """A person's access token by the resource-owner password grant: for the demo organisation's people
    (the embedded realm's public client allows it); browsers use the authorization code flow."""
    form = {"grant_type": "password", "client_id": client_id, "username": username, "password": password}
    return grant(token_endpoint(issuer), form)[0]


def _json(url: str, form: bytes | None, timeout_seconds: float) -> dict[str, Any]:
    request = urllib.request.Request(url, data=form, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            document = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise IssuerUnavailable(f"the issuer did not grant a token: {type(error).__name__}") from error
    if not isinstance(document, dict):
        raise IssuerUnavailable("the issuer answered something other than a JSON object")
    return document


TokenSource = Callable[[], Awaitable[str]]


class BearerTokenInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Adds ``authorization: Bearer <token>`` to every unary call of a channel."""

    def __init__(self, tokens: ClientCredentials | TokenSource) -> None:
        self._token = tokens.token if isinstance(tokens, ClientCredentials) else tokens

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        metadata = [
            (key, value)
            for key, value in (client_call_details.metadata or ())
            if str(key).lower() != "authorization"
        ]
        metadata.append(("authorization", f"Bearer {await self._token()}"))
        details = grpc.aio.ClientCallDetails(
            client_call_details.method,
            client_call_details.timeout,
            grpc.aio.Metadata(*metadata),
            client_call_details.credentials,
            client_call_details.wait_for_ready,
        )
        return await continuation(details, request)
