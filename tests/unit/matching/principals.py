"""Callers for the matching handlers' commands: people of a tenant as a verified token names them."""

from __future__ import annotations

from services.shared.auth import Principal

TENANT = "acme"


def person(employee_id: str, *roles: str, tenant: str = TENANT) -> Principal:
    """An employee of ``tenant`` with ``roles`` besides "employee"."""
    return Principal(
        subject=f"{tenant}:{employee_id}",
        tenant=tenant,
        employee_id=employee_id,
        service=None,
        roles=frozenset({"employee", *roles}),
    )


def hr(employee_id: str = "hr-1", tenant: str = TENANT) -> Principal:
    return person(employee_id, "hr_admin", tenant=tenant)


def manager(employee_id: str, tenant: str = TENANT) -> Principal:
    return person(employee_id, "program_manager", tenant=tenant)


def service(name: str = "notification", *roles: str) -> Principal:
    return Principal(subject=name, tenant=None, employee_id=None, service=name, roles=frozenset(roles))
