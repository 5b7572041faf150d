"""Callers of the session service's requests in unit tests: the Principal a verified token would name."""

from __future__ import annotations

from services.shared.auth import Principal


def person(employee_id: str, *roles: str, tenant: str = "acme") -> Principal:
    """A person of ``tenant`` (an employee, with any further roles)."""
    return Principal(
        subject=f"sub-{tenant}-{employee_id}",
        tenant=tenant,
        employee_id=employee_id,
        service=None,
        roles=frozenset({"employee", *roles}),
    )


def service(name: str = "notification", *roles: str) -> Principal:
    return Principal(
        subject=f"svc-{name}", tenant=None, employee_id=None, service=name, roles=frozenset(roles)
    )
