"""Who may do what in a mentoring relationship: the checks the session handlers make on the caller of a
request against the relationship it names (``services.shared.access`` for the shared ones).

Mentoring is confidential. What a relationship says (agendas, notes, goals and their check-ins,
feedback) is for its members, the mentor and the mentees, only; they alone plan, hold, cancel, set goals,
check in and give feedback. HR of the tenant, and the program managers of the relationship's program,
see when sessions are and what became of them, never their words. Nobody else, a person's line manager
included, has any right over it. The tenant is always the caller's (their token's): the handlers look
everything up in it, so another tenant's relationship is not found, like one that does not exist.
"""

from __future__ import annotations

from services.session.domain.model import Relationship
from services.session.domain.programs import ProgramTerms
from services.shared import access
from services.shared.access import DenialReason, PermissionDenied, Role
from services.shared.auth import Principal


def tenant_of(caller: Principal) -> str:
    """The tenant a request acts in: a person's own (a service has no business in mentoring content)."""
    access.person_of(caller)
    return access.tenant_of(caller)


def require_member(caller: Principal, relationship: Relationship) -> None:
    """The caller is the relationship's mentor or one of its mentees: to change anything in it."""
    access.require_member(caller, relationship.members)


def require_reader(caller: Principal, relationship: Relationship) -> None:
    """The caller may read what the relationship says (its goals and progress, its calendar): a member."""
    if caller.employee_id is None or caller.employee_id not in relationship.members:
        raise PermissionDenied(
            DenialReason.CONFIDENTIAL, "what a mentoring relationship says is for its members only"
        )


def redacts_sessions_of(caller: Principal, relationship: Relationship, program: ProgramTerms | None) -> bool:
    """Whether the caller may list the relationship's sessions, and sees them redacted (True: HR or the
    program's manager, who see times and statuses only) or whole (False: a member)."""
    if caller.employee_id is not None and caller.employee_id in relationship.members:
        return False
    if access.is_hr(caller):
        return True
    if caller.has_role(Role.PROGRAM_MANAGER):
        # A program the service has not heard of yet is managed by nobody it knows of.
        access.require_program_role(caller, set(program.manager_ids) if program is not None else set())
        return True
    raise PermissionDenied(DenialReason.NOT_YOURS, "these sessions belong to other people")


def sessions_of_person(caller: Principal, employee_id: str) -> tuple[str, bool]:
    """Whose sessions across their relationships a request lists, and whether redacted: the caller's
    own (whole), or anyone's of the tenant for HR (redacted)."""
    person = access.acting_for(caller, employee_id, hr_may=True)
    return person, person != caller.employee_id


def own(caller: Principal, employee_id: str) -> str:
    """The person a request acts for, who must be the caller (a check-in, a feedback, one's calendar):
    a request naming someone else is refused, whoever calls."""
    return access.acting_for(caller, employee_id)
