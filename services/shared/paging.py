"""Page sizes and opaque keyset page tokens, signed and bound to their caller.

A token is the sort key of the last item of the previous page (plus the listing it belongs to), so a
page stays correct while items are added before it. It is base64url JSON and an HMAC-SHA256 over that
JSON and the caller (tenant and employee id or service name of the RPC's Principal), under the service's
page-token key: a forged or altered token, one issued to another caller (a replay) or for another
listing, and one older than :data:`TOKEN_LIFETIME_SECONDS`, are refused with INVALID_ARGUMENT. The key is
``MENTORING_PAGE_TOKEN_SECRET`` when set (several instances of a service must share it), otherwise one
drawn at start-up (tokens then end with the process).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from services.shared.auth import principal_or_none
from services.shared.errors import InvalidArgument

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 500

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str
    total_size: int


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page.page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


TOKEN_LIFETIME_SECONDS: Final = 24 * 3600
_signing_key = secrets.token_bytes(32)


def use_signing_key(secret: str) -> None:
    """The key page tokens are signed with (from settings; empty keeps the one drawn at start-up)."""
    global _signing_key
    if secret:
        _signing_key = hashlib.sha256(secret.encode()).digest()


def _caller_binding() -> bytes:
    principal = principal_or_none()
    if principal is None:
        return b"-"
    return f"{principal.tenant or ''}/{principal.employee_id or ''}/{principal.service or ''}".encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(body: bytes) -> bytes:
    return hmac.new(_signing_key, body + b"\x00" + _caller_binding(), hashlib.sha256).digest()


def encode_token(listing: str, key: list[str]) -> str:
    body = json.dumps({"l": listing, "k": key, "t": int(time.time())}, separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(_mac(body))}"


def decode_token(listing: str, token: str, parts: int) -> list[str] | None:
    """The key a token carries, or None for the first page. A token that this service did not issue to
    this caller, of another listing, or expired, is refused."""
    if not token:
        return None
    body_text, _, mac_text = token.partition(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (binascii.Error, ValueError) as error:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from error
    if not hmac.compare_digest(mac, _mac(body)):
        raise InvalidArgument("page.page_token", "is not a token this service issued to you")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from error
    issued = document.get("t") if isinstance(document, dict) else None
    if not isinstance(issued, int) or not 0 <= time.time() - issued <= TOKEN_LIFETIME_SECONDS:
        raise InvalidArgument("page.page_token", "has expired; list again from the first page")
    key = document.get("k") if isinstance(document, dict) else None
    if (
        not isinstance(document, dict)
        or document.get("l") != listing
        or not isinstance(key, list)
        or len(key) != parts
        or not all(isinstance(part, str) for part in key)
    ):
        raise InvalidArgument("page.page_token", "belongs to another listing")
    return [str(part) for part in key]
