"""What the enrollment handlers check on the caller, against the objects they load (the RPC-level roles
are in ``entrypoints/access.py``). Reads by id are scoped by the caller's tenant in the store, so an
object of another tenant never reaches these checks: it is NOT_FOUND like a missing one."""

from __future__ import annotations

from services.enrollment.domain import Enrollment, Program, ProgramPatch, ProgramStatus
from services.shared.access import (
    DenialReason,
    PermissionDenied,
    Role,
    ServiceRole,
    is_hr,
    require_member,
    require_program_role,
)
from services.shared.auth import Principal


def require_runs(caller: Principal, program: Program) -> None:
    """HR, or a program manager the program names."""
    require_program_role(caller, program.spec.manager_ids)


def require_may_edit(
    caller: Principal, program: Program, patch: ProgramPatch, status: ProgramStatus | None
) -> None:
    """HR or the program's manager; naming the managers and closing are HR's alone."""
    require_runs(caller, program)
    if is_hr(caller):
        return
    managers = patch.manager_ids
    if isinstance(managers, frozenset) and managers != program.spec.manager_ids:
        raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, "only an HR admin names the managers")
    if status is ProgramStatus.CLOSED and program.status is not ProgramStatus.CLOSED:
        raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, "only an HR admin may close a program")


def require_owner_or_hr(caller: Principal, enrollment: Enrollment) -> None:
    """The enrolled employee themselves, or HR."""
    require_member(caller, {enrollment.employee_id}, hr_may=True)


def require_may_read(caller: Principal, enrollment: Enrollment, program: Program) -> None:
    """The enrolled employee, HR, or a program manager of the enrolment's program."""
    if caller.employee_id == enrollment.employee_id or is_hr(caller):
        return
    if caller.has_role(Role.PROGRAM_MANAGER):
        require_runs(caller, program)
        return
    raise PermissionDenied(DenialReason.NOT_YOURS, "this enrolment belongs to someone else")


def require_contact_lookup(caller: Principal) -> None:
    """Contacts are read by the services that write to people (notification), never by a person."""
    if not caller.is_service:
        raise PermissionDenied(DenialReason.ROLE_NOT_ALLOWED, "contacts are looked up by services only")
    if not caller.has_role(ServiceRole.CONTACT_LOOKUP):
        raise PermissionDenied(DenialReason.SERVICE_NOT_ALLOWED, "this service may not look contacts up")
