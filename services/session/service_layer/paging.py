"""Page size and opaque keyset page tokens: a token is the sort key of the last item of the previous page,
so a page stays correct while items are added before it (no offsets that shift)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final

from services.shared.errors import InvalidArgument

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 500


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page.page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(kind: str, key: list[str]) -> str:
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(kind: str, token: str, parts: int) -> list[str] | None:
    """The key a token carries, or None for the first page; a token of another listing is refused."""
    if not token:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise InvalidArgument("page.page_token", "is not a token this service issued") from exc
    if (
        not isinstance(document, dict)
        or document.get("k") != kind
        or not isinstance(document.get("v"), list)
        or len(document["v"]) != parts
        or not all(isinstance(part, str) for part in document["v"])
    ):
        raise InvalidArgument("page.page_token", "is not a token of this listing")
    return list(document["v"])
