"""Typed errors that every layer raises and the gRPC interceptor maps to a status code.

Domain code raises these (they are pure: no framework imports) so that a rule that fails is named
once, where it is checked, and reaches the caller as the matching gRPC status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

# What an error may repeat of a value the caller sent: its first characters, then an ellipsis.
ECHO_PREFIX: Final = 64
ELLIPSIS: Final = "\u2026"


def shown(value: str, limit: int = ECHO_PREFIX) -> str:
    """``value`` as an error may echo it: at most ``limit`` characters, then "…" when it was longer."""
    return value if len(value) <= limit else value[:limit] + ELLIPSIS


class DomainError(Exception):
    """Base of every error that carries a caller-facing meaning."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """Malformed input; ``field`` names the field at fault (dotted path, e.g. ``goals[0].target``).

    ``more``: further ``(field, description)`` violations found in the same request; the status carries
    them all (one ``BadRequest.FieldViolation`` each), the message names the first.
    """

    def __init__(self, field: str, message: str, more: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.description = message
        self.more = tuple(more)

    @property
    def violations(self) -> tuple[tuple[str, str], ...]:
        return ((self.field, self.description), *self.more)


class NotFound(DomainError):
    """An id that names nothing known (the message shows at most a short prefix of it)."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {shown(entity_id)} not found")
        self.entity = entity
        self.entity_id = entity_id


class AlreadyExists(DomainError):
    """A create that would duplicate something that exists."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {shown(entity_id)} already exists")
        self.entity = entity
        self.entity_id = entity_id


class FailedPrecondition(DomainError):
    """A business rule refused the request; ``rule`` is its stable name (e.g. ``management_chain``)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


class NotYetKnown(FailedPrecondition):
    """A consumed event refers to something another topic's event introduces, which may not have arrived
    yet (topics are not ordered with each other): the consumer retries it a bounded number of times
    before it dead-letters it under ``rule``."""
