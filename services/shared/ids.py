"""Opaque ids in requests and events: trimmed, bounded, and named in the error when they are not."""

from __future__ import annotations

from typing import Final

from services.shared.errors import InvalidArgument

MAX_ID_LENGTH: Final = 128


def optional_id(value: str, field: str) -> str:
    """The id trimmed, empty allowed (an optional idempotency key, say)."""
    text = value.strip()
    if len(text) > MAX_ID_LENGTH:
        raise InvalidArgument(field, f"must be at most {MAX_ID_LENGTH} characters")
    return text


def require_id(value: str, field: str, *, missing: str = "must not be empty") -> str:
    """The id trimmed; ``missing`` is the error's text when it is empty."""
    text = optional_id(value, field)
    if not text:
        raise InvalidArgument(field, missing)
    return text
