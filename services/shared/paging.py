"""Page sizes and opaque keyset page tokens.

A token is the sort key of the last item of the previous page (plus the listing it belongs to), so a
page stays correct while items are added before it. Tokens are base64url JSON: opaque to callers, not
secret (they hold ids the caller has already seen).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

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


def encode_token(listing: str, key: list[str]) -> str:
    raw = json.dumps({"l": listing, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(listing: str, token: str, parts: int) -> list[str] | None:
    """The key a token carries, or None for the first page. A token of another listing is refused."""
    if not token:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from error
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
