"""Who may do what: the roles, the refusals, and the checks every service's handlers use on the caller.

Access is decided in two places per service, both in that service:

- ``entrypoints/access.py``: one :class:`services.shared.rpc_access.RpcAccess` per RPC (which roles of
  people and which services may call it at all), checked before the request becomes a command;
- the handlers, on the objects: the caller (a :class:`~services.shared.auth.Principal` carried by the
  command) is checked against the object the command names, with the functions below, and every store
  query is scoped by the caller's tenant. An object of another tenant is ``NotFound`` (its existence is
  not revealed); an object of the caller's tenant they have no right to is :class:`PermissionDenied`.

Pure: no framework imports, so domain and service layers may use it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from services.shared.auth import Principal
from services.shared.errors import DomainError


class Role(StrEnum):
    """Realm roles of people (deploy/keycloak/generate_realm.py gives them)."""

    HR_ADMIN = "hr_admin"  # the tenant's programs, matching, manual matches, overrides, reports
    PROGRAM_MANAGER = "program_manager"  # the programs they manage
    EMPLOYEE = "employee"  # themselves


class ServiceRole(StrEnum):
    """Roles of service accounts: only what each calling service needs."""

    CONTACT_LOOKUP = "contact_lookup"  # the notification service reads the contact of whom it writes to


class DenialReason(StrEnum):
    """Why an authenticated caller was refused: the stable reason in the status details."""

    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"  # no role of the caller may call this RPC
    SERVICE_NOT_ALLOWED = "SERVICE_NOT_ALLOWED"  # a service account that may not call this RPC
    PEOPLE_ONLY = "PEOPLE_ONLY"  # an RPC about a person's own affairs, called by a service
    OTHER_TENANT = "OTHER_TENANT"  # the request names a tenant that is not the caller's
    NOT_YOURS = "NOT_YOURS"  # the object belongs to (or the request acts for) someone else
    NOT_MANAGED = "NOT_MANAGED"  # a program manager acting on a program they do not manage
    CONFIDENTIAL = "CONFIDENTIAL"  # mentoring content, readable by the relationship's members only
    NOT_CONNECTED = "NOT_CONNECTED"  # an introduction by someone who does not know both people


class PermissionDenied(DomainError):
    """An authenticated caller who may not do this. Mapped to PERMISSION_DENIED with an ErrorInfo naming
    ``reason``; the message names the rule, never a person."""

    def __init__(self, reason: DenialReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


HR_ROLES: Final = frozenset({Role.HR_ADMIN.value})
PROGRAM_ROLES: Final = frozenset({Role.HR_ADMIN.value, Role.PROGRAM_MANAGER.value})


def is_hr(caller: Principal) -> bool:
    """An HR admin of their tenant (a service is never HR)."""
    return not caller.is_service and caller.has_role(Role.HR_ADMIN)


def runs_programs(caller: Principal) -> bool:
    """An HR admin or a program manager."""
    return not caller.is_service and caller.has_role(Role.HR_ADMIN, Role.PROGRAM_MANAGER)


def tenant_of(caller: Principal, requested: str = "") -> str:
    """The tenant a call acts in: a person's is their token's, and a request naming another is refused;
    a service (no tenant of its own) acts in the tenant its request names."""
    requested = requested.strip()
    if caller.tenant is not None:
        if requested and requested != caller.tenant:
            raise PermissionDenied(DenialReason.OTHER_TENANT, "the request names a tenant that is not yours")
        return caller.tenant
    if not requested:
        raise PermissionDenied(DenialReason.OTHER_TENANT, "a service must name the tenant it acts in")
    return requested


def person_of(caller: Principal) -> str:
    """The employee id of a person calling for themselves; a service may not."""
    if caller.employee_id is None:
        raise PermissionDenied(DenialReason.PEOPLE_ONLY, "only a person may do this, for themselves")
    return caller.employee_id


def acting_for(caller: Principal, employee_id: str, *, hr_may: bool = False) -> str:
    """The employee a request acts for: the caller themselves when the request names nobody or them;
    someone else only for HR when ``hr_may``. Returns the employee id acted for."""
    employee_id = employee_id.strip()
    if caller.employee_id is not None and employee_id in ("", caller.employee_id):
        return caller.employee_id
    if hr_may and is_hr(caller) and employee_id:
        return employee_id
    raise PermissionDenied(DenialReason.NOT_YOURS, "you may only act for yourself")


def require_member(caller: Principal, members: frozenset[str] | set[str], *, hr_may: bool = False) -> None:
    """The caller is one of ``members`` (the people of a relationship), or HR when ``hr_may``."""
    if caller.employee_id is not None and caller.employee_id in members:
        return
    if hr_may and is_hr(caller):
        return
    raise PermissionDenied(DenialReason.NOT_YOURS, "this belongs to other people")


def require_hr(caller: Principal) -> None:
    if not is_hr(caller):
        raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, "only an HR admin may do this")


def require_program_role(caller: Principal, managers: frozenset[str] | set[str] = frozenset()) -> None:
    """HR, or a program manager who manages the program (``managers``: its managers' employee ids; a
    program that names none is managed by HR alone)."""
    if is_hr(caller):
        return
    if caller.has_role(Role.PROGRAM_MANAGER) and caller.employee_id in managers:
        return
    if caller.has_role(Role.PROGRAM_MANAGER):
        raise PermissionDenied(DenialReason.NOT_MANAGED, "you do not manage this program")
    raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, "only HR or the program's manager may do this")
