"""Who may call each RPC of a service: one table per service (``entrypoints/access.py``), checked before a
request becomes a command.

A table names, for every method of the service's descriptor, the roles of people and of services that may
call it, and in words what the handler then checks on the objects (the README's access table is made of
these). A table that leaves a method out, or names one the service does not have, is refused when the
service is built, so a new RPC cannot be reached without a policy. The object checks themselves are in
the handlers (``services.shared.access``): this table only says who may knock.

    ACCESS = AccessTable(DESCRIPTOR.services_by_name["MatchingService"], {
        "RunMatching": RpcAccess(people=PROGRAM_ROLES, objects="a program of the caller's tenant"),
        ...
    })

    @guarded(ACCESS)
    @bounded(LIMITS)
    class MatchingServicer(...): ...
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from services.shared.access import DenialReason, PermissionDenied, Role
from services.shared.auth import Principal, current_principal

EVERY_PERSON: Final = frozenset({Role.EMPLOYEE.value})
NOBODY: Final = frozenset[str]()

S = TypeVar("S")


@dataclass(frozen=True)
class RpcAccess:
    """``people``: realm roles of people who may call (``EVERY_PERSON``: any person of a tenant);
    ``services``: service-account roles that may call; ``objects``: what the handler checks;
    ``audited``: every call is recorded in the audit trail (reads of contact data, HR actions), not only
    the refused ones."""

    people: frozenset[str]
    objects: str
    services: frozenset[str] = NOBODY
    audited: bool = False

    def admits(self, caller: Principal) -> bool:
        allowed = self.services if caller.is_service else self.people
        return caller.has_role(*allowed)


class AccessTable:
    """The RpcAccess of every method of one gRPC service."""

    def __init__(self, service: ServiceDescriptor, rules: Mapping[str, RpcAccess]) -> None:
        methods = {method.name for method in service.methods}
        missing = sorted(methods - set(rules))
        unknown = sorted(set(rules) - methods)
        if missing or unknown:
            raise ValueError(
                f"{service.full_name}: access table without {missing or 'nothing'}, "
                f"with unknown {unknown or 'nothing'}"
            )
        self.service = service
        self.rules = dict(rules)

    def check(self, method_name: str, caller: Principal) -> None:
        """PermissionDenied unless a role of ``caller`` may call ``method_name``."""
        rule = self.rules[method_name]
        if rule.admits(caller):
            return
        if caller.is_service:
            raise PermissionDenied(
                DenialReason.SERVICE_NOT_ALLOWED, f"this service account may not call {method_name}"
            )
        raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, f"your roles do not allow {method_name}")

    def rows(self) -> Iterable[tuple[str, RpcAccess]]:
        """(method, rule) in the descriptor's order."""
        return ((method.name, self.rules[method.name]) for method in self.service.methods)


def guarded(table: AccessTable) -> Callable[[type[S]], type[S]]:
    """Class decorator for a servicer: each RPC of ``table.service`` checks its caller first."""

    def decorate(cls: type[S]) -> type[S]:
        for method in table.service.methods:
            original = getattr(cls, method.name, None)
            if original is None or not inspect.iscoroutinefunction(original):
                raise TypeError(f"{cls.__name__}.{method.name} is not an async RPC method")
            setattr(cls, method.name, _admitted(table, method.name, original))
        cls.access_table = table  # type: ignore[attr-defined]  # read by the access matrix test
        return cls

    return decorate


def _admitted(table: AccessTable, method_name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def admitted(self: object, request: Message, context: object) -> Any:
        table.check(method_name, current_principal())
        return await original(self, request, context)

    return admitted


def markdown_table(tables: Iterable[AccessTable]) -> str:
    """The README's access table: each RPC, who may call it, on which objects."""
    lines = ["| RPC | People | Services | Objects | Audited |", "| --- | --- | --- | --- | --- |"]
    for table in tables:
        for method, rule in table.rows():
            people = ", ".join(sorted(rule.people)) or "nobody"
            services = ", ".join(sorted(rule.services)) or "none"
            short = table.service.name.removesuffix("Service")
            audited = "every call" if rule.audited else "refusals"
            lines.append(f"| {short}.{method} | {people} | {services} | {rule.objects} | {audited} |")
    return "\n".join(lines)
