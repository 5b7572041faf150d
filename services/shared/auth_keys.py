"""The issuer's signing keys: its OpenID discovery document names the JWKS, which is cached, read again
when the cache expires, and read again (rate-limited, one fetch for many callers) when a token names a
key id the cache does not know, which is how a key rotation reaches us.

PyJWT's own ``PyJWKClient`` caches too, but it is blocking and refetches on every unknown kid without a
limit (a stream of forged kids would become a stream of requests to the issuer); this keeps PyJWT's key
parsing (``PyJWK``) and adds the asynchronous, rate-limited refresh.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt

from services.shared.auth import AuthReason, IssuerUnavailable, Unauthenticated
from services.shared.logging import get_logger

log = get_logger(__name__)

FetchJson = Callable[[str], Awaitable[Mapping[str, Any]]]


def http_json_fetcher(timeout_seconds: float) -> FetchJson:
    """GET a JSON document over HTTP(S), off the event loop. Any failure is IssuerUnavailable."""

    def get(url: str) -> Mapping[str, Any]:
        if not url.startswith(("https://", "http://")):
            raise IssuerUnavailable(f"refusing to fetch keys from a non-HTTP URL: {url}")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
                document = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise IssuerUnavailable(f"could not read {url}: {type(error).__name__}") from error
        if not isinstance(document, dict):
            raise IssuerUnavailable(f"{url} did not answer a JSON object")
        return document

    async def fetch(url: str) -> Mapping[str, Any]:
        return await asyncio.to_thread(get, url)

    return fetch


def signing_keys(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS by kid (keys for encryption and of unknown types are skipped)."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            continue
        keys[str(entry.get("kid", ""))] = key
    return keys


class JwksCache:
    """Signing keys of one issuer. ``fetches`` counts JWKS reads (tests and metrics read it)."""

    def __init__(
        self,
        issuer: str,
        fetch: FetchJson,
        cache_seconds: float = 300.0,
        min_refresh_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._fetch = fetch
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at: float | None = None  # last successful read
        self._attempted_at: float | None = None  # last read, successful or not
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        """The key a token's header names. An unknown kid makes one fresh read at most every
        ``min_refresh_seconds``; a token without a kid is accepted only when the issuer has one key."""
        stale = self._fetched_at is None or self._clock() - self._fetched_at >= self._cache_seconds
        # A read in flight is waited for (callers arriving during the first read are not refused).
        if stale and (self._may_refresh() or self._lock.locked()):
            await self._refresh(reason="expired" if self._fetched_at is not None else "first_use")
        if self._fetched_at is None:
            raise IssuerUnavailable("the issuer's keys could not be read yet")
        key = self._lookup(kid)
        if key is None and self._may_refresh():
            await self._refresh(reason="unknown_kid")
            key = self._lookup(kid)
        if key is None:
            raise Unauthenticated(
                AuthReason.UNKNOWN_KEY, "the token is signed by a key the issuer does not list"
            )
        return key

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _may_refresh(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self._min_refresh_seconds

    async def _refresh(self, reason: str) -> None:
        attempted_before = self._attempted_at
        in_flight = self._lock.locked()
        async with self._lock:
            if in_flight or self._attempted_at != attempted_before:
                return  # another caller read the keys (or tried) while this one waited
            self._attempted_at = self._clock()
            try:
                if self._jwks_uri is None:
                    self._jwks_uri = await self._discover()
                document = await self._fetch(self._jwks_uri)
                self.fetches += 1
            except IssuerUnavailable as error:
                self._jwks_uri = None  # the discovery document may have moved the JWKS
                if not self._keys:
                    raise
                log.warning(
                    "jwks_refresh_failed", reason=reason, error=error.message, stale_keys=len(self._keys)
                )
                return
            self._keys = signing_keys(document)
            self._fetched_at = self._clock()
            log.info("jwks_refreshed", reason=reason, keys=len(self._keys))

    async def _discover(self) -> str:
        document = await self._fetch(f"{self.issuer}/.well-known/openid-configuration")
        if str(document.get("issuer", "")).rstrip("/") != self.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer asked for.
            raise IssuerUnavailable("the discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise IssuerUnavailable("the discovery document names no jwks_uri")
        return jwks_uri
