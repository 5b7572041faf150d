"""Who is calling: the Principal a verified access token names, where handlers read it, and why a token
was refused.

The server interceptor (``auth_interceptor.py``) verifies the bearer token of every RPC
(``auth_tokens.py``) and runs the handler with the caller's Principal in a context variable:
``current_principal()`` returns it. The tenant of a person is the token's, never the request's.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class AuthReason(StrEnum):
    """Why a call was not authenticated: the stable reason in the status details (never token contents)."""

    MISSING_TOKEN = "MISSING_TOKEN"
    MALFORMED_TOKEN = "MALFORMED_TOKEN"
    ALGORITHM_NOT_ALLOWED = "ALGORITHM_NOT_ALLOWED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    EXPIRED = "TOKEN_EXPIRED"
    NOT_YET_VALID = "TOKEN_NOT_YET_VALID"
    WRONG_ISSUER = "WRONG_ISSUER"
    WRONG_AUDIENCE = "WRONG_AUDIENCE"
    MISSING_CLAIM = "MISSING_CLAIM"
    NO_SUBJECT = "NO_SUBJECT"
    AMBIGUOUS_SUBJECT = "AMBIGUOUS_SUBJECT"
    ISSUER_UNAVAILABLE = "ISSUER_UNAVAILABLE"


class Unauthenticated(Exception):
    """A token that does not prove who calls. The message names the rule, never the token or a person."""

    def __init__(self, reason: AuthReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class IssuerUnavailable(Unauthenticated):
    """The issuer's keys could not be read (and none are cached): the server's problem, not the caller's."""

    def __init__(self, message: str) -> None:
        super().__init__(AuthReason.ISSUER_UNAVAILABLE, message)


@dataclass(frozen=True)
class ClaimNames:
    """Which claims carry what. A dotted name reads a nested claim (Keycloak's default
    ``realm_access.roles``); the defaults match deploy/keycloak/mentoring-realm.json."""

    tenant: str = "tenant"
    employee_id: str = "employee_id"
    roles: str = "roles"
    service: str = "service"


@dataclass(frozen=True)
class Principal:
    """The caller: a person of a tenant (employee id), or a service (service name); and their roles.
    ``subject`` is the token's opaque ``sub``."""

    subject: str
    tenant: str | None
    employee_id: str | None
    service: str | None
    roles: frozenset[str]

    @property
    def is_service(self) -> bool:
        return self.service is not None

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def claim(claims: Mapping[str, Any], name: str) -> Any:
    """The value of a claim by its (dotted) name, None when absent."""
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claim(claims, name)
    if value is None or value == "":
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise Unauthenticated(AuthReason.MISSING_CLAIM, f"claim {name} is not a string")
    return value


def _roles(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    value = claim(claims, name)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(role, str) for role in value):
        return frozenset(value)
    raise Unauthenticated(AuthReason.MISSING_CLAIM, f"claim {name} is not a list of roles")


def principal_from_claims(claims: Mapping[str, Any], names: ClaimNames) -> Principal:
    """The Principal of verified claims. A person needs a tenant; a token naming both an employee and a
    service, or neither, is refused."""
    employee_id = _text(claims, names.employee_id)
    service = _text(claims, names.service)
    if employee_id and service:
        raise Unauthenticated(AuthReason.AMBIGUOUS_SUBJECT, "the token names both an employee and a service")
    if not employee_id and not service:
        raise Unauthenticated(AuthReason.NO_SUBJECT, "the token names neither an employee nor a service")
    tenant = _text(claims, names.tenant)
    if employee_id and not tenant:
        raise Unauthenticated(AuthReason.MISSING_CLAIM, f"a person's token needs the claim {names.tenant}")
    return Principal(
        subject=str(claims.get("sub") or ""),
        tenant=tenant,
        employee_id=employee_id,
        service=service,
        roles=_roles(claims, names.roles),
    )


_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def current_principal() -> Principal:
    """The caller of the RPC being handled. Outside an authenticated RPC this is a programming error."""
    principal = _principal.get()
    if principal is None:
        raise LookupError("no authenticated caller: the RPC did not pass the authentication interceptor")
    return principal


def principal_or_none() -> Principal | None:
    return _principal.get()


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Runs the block as ``principal`` (the interceptor around a handler; tests of handlers)."""
    token = _principal.set(principal)
    try:
        yield principal
    finally:
        _principal.reset(token)
