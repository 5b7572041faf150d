"""Small building blocks shared by the enrollment domain: versions, the 'absent' marker, validators."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeAlias, TypeVar

from services.shared.errors import InvalidArgument

T = TypeVar("T")


class Absent(enum.Enum):
    """Marks a field that an input did not carry, as opposed to one carried empty (``None`` / ``()``)."""

    ABSENT = "ABSENT"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent.ABSENT

# Highest grade of an employee (HRIS) and of a program's grade rules.
MAX_GRADE: Final = 99

# ``Carried[str | None]``: either the new value (possibly None = cleared) or ABSENT = leave unchanged.
Carried: TypeAlias = T | Absent


@dataclass(frozen=True, order=True)
class Version:
    """Position of an HRIS change: ordered by effective time, then by the source's sequence number."""

    effective_time: datetime
    sequence: int

    def __post_init__(self) -> None:
        require_aware(self.effective_time, "effective_time")


def require_aware(moment: datetime, name: str) -> None:
    """Programming guard: every instant in this domain is timezone-aware."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


# Below any real version: what a field that no event has set yet compares against.
VERSION_ZERO: Final = Version(datetime.min.replace(tzinfo=UTC), -1)

_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Trim and collapse inner whitespace."""
    return _SPACES.sub(" ", value).strip()


def normalise_tags(values: Iterable[str]) -> tuple[str, ...]:
    """Skills and languages compare case-insensitively: lower-case, trimmed, de-duplicated, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        tag = clean_text(value).casefold()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def require_text(value: object, field: str, *, max_length: int = 200, allow_empty: bool = False) -> str:
    """A string, trimmed, non-blank unless ``allow_empty``, at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise InvalidArgument(field, "must be a string")
    text = clean_text(value)
    if not text and not allow_empty:
        raise InvalidArgument(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidArgument(field, f"must be at most {max_length} characters")
    return text


def require_int(value: object, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An int (bool refused) within the inclusive bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(field, "must be an integer")
    if minimum is not None and value < minimum:
        raise InvalidArgument(field, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidArgument(field, f"must be at most {maximum}")
    return value


def require_number(value: object, field: str, *, minimum: float, maximum: float | None = None) -> float:
    """A finite real number within the inclusive bounds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(field, "must be a finite number")
    if value < minimum:
        raise InvalidArgument(field, f"must be at least {minimum:g}")
    if maximum is not None and value > maximum:
        raise InvalidArgument(field, f"must be at most {maximum:g}")
    return float(value)


def require_enum(value: object, enum_type: type[enum.Enum], field: str) -> None:
    """Guards against a translator passing a raw string where an enum member is due."""
    if not isinstance(value, enum_type):
        raise InvalidArgument(field, f"must be one of {', '.join(m.name for m in enum_type)}")


def require_tags(values: object, field: str, *, max_items: int = 50, max_length: int = 80) -> tuple[str, ...]:
    """A collection of short strings (skills, languages), normalised with :func:`normalise_tags`."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidArgument(field, "must be a list of strings")
    items = list(values)
    for index, item in enumerate(items):
        require_text(item, f"{field}[{index}]", max_length=max_length)
    tags = normalise_tags(items)
    if len(tags) > max_items:
        raise InvalidArgument(field, f"must have at most {max_items} entries")
    return tags
