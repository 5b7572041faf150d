"""The caller checks of the matching RPCs: each RPC command carries its caller, and its handler checks it
here against the program or match it loads. Everything is looked up in the caller's tenant: a program
or match of another tenant is not found, like a missing one.

- a program is run (RunMatching, PreviewMatching, manual matches) by HR or by one of its managers;
- a match is seen by its members, the tenant's HR and the managers of its program; answered (accept,
  decline) by a member for themselves only; ended by a member, or by HR for a member;
- an introduction is made by the caller, who must know both people (``domain.introductions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import match_store
from services.matching.domain.enrollments import Program
from services.matching.domain.lifecycle import MatchRecord
from services.matching.service_layer.views import load_program
from services.shared.access import (
    DenialReason,
    PermissionDenied,
    Role,
    acting_for,
    is_hr,
    person_of,
    require_program_role,
    tenant_of,
)
from services.shared.auth import Principal
from services.shared.errors import InvalidArgument, NotFound


def manages(caller: Principal, program: Program) -> bool:
    """HR of the program's tenant, or a program manager the program names."""
    if is_hr(caller):
        return True
    return (
        not caller.is_service
        and caller.has_role(Role.PROGRAM_MANAGER)
        and caller.employee_id is not None
        and caller.employee_id in program.manager_ids
    )


def require_runs(caller: Principal, program: Program) -> None:
    require_program_role(caller, frozenset(program.manager_ids))


async def program_for(session: AsyncSession, caller: Principal, program_id: str) -> Program:
    """A program of the caller's tenant (NotFound otherwise)."""
    return await load_program(session, program_id.strip(), tenant_of(caller))


async def program_run_by(session: AsyncSession, caller: Principal, program_id: str) -> Program:
    """A program of the caller's tenant that the caller runs (HR, or one of its managers)."""
    program = await program_for(session, caller, program_id)
    require_runs(caller, program)
    return program


def part_of(caller: Principal, record: MatchRecord) -> bool:
    """The caller is the match's mentor or one of its mentees (one who left the group too)."""
    employee = caller.employee_id
    if caller.is_service or not employee:
        return False
    return employee == record.mentor_employee_id or any(m.employee_id == employee for m in record.members)


async def match_for(
    session: AsyncSession, caller: Principal, match_id: str, *, for_update: bool = False
) -> MatchRecord:
    """A match of the caller's tenant (NotFound otherwise, the same as a missing one)."""
    match_id = match_id.strip()
    if not match_id:
        raise InvalidArgument("match_id", "is required")
    record = await match_store.get_match(session, match_id, tenant=tenant_of(caller), for_update=for_update)
    if record is None:
        raise NotFound("match", match_id)
    return record


async def require_sees(session: AsyncSession, caller: Principal, record: MatchRecord) -> None:
    """A member of the match, the tenant's HR, or a manager of its program."""
    if part_of(caller, record) or is_hr(caller):
        return
    if caller.has_role(Role.PROGRAM_MANAGER):
        program = await program_for(session, caller, record.program_id)
        if manages(caller, program):
            return
    raise PermissionDenied(DenialReason.NOT_YOURS, "this match belongs to other people")


def answering_for(caller: Principal, employee_id: str) -> str:
    """Who answers a proposal: the caller themselves (an empty request id means them)."""
    return acting_for(caller, employee_id)


def ending_for(caller: Principal, employee_id: str) -> str:
    """Who ends a match: the caller, or, for HR, the member the request names."""
    return acting_for(caller, employee_id, hr_may=True)


def actor_of(caller: Principal, named: str) -> str:
    """The HR actor of a manual match: the caller; a request naming someone else is refused."""
    actor = person_of(caller)
    if named.strip() not in ("", actor):
        raise PermissionDenied(DenialReason.NOT_YOURS, "the actor of a manual match is the caller")
    return actor


@dataclass(frozen=True, slots=True)
class MatchListing:
    """What one caller may list: the tenant's matches, all of them (HR, a program's managers) or only
    those the caller is part of (``visible_to``) or, for a program manager, of the programs they run."""

    tenant: str
    employee_id: str
    visible_to: str | None = None
    managers_see: bool = False


async def listing_for(
    session: AsyncSession, caller: Principal, program_id: str, employee_id: str
) -> MatchListing:
    tenant = tenant_of(caller)
    employee_id = employee_id.strip()
    # A program named must be one of the caller's tenant, whoever asks.
    program = await program_for(session, caller, program_id) if program_id.strip() else None
    if is_hr(caller) or (program is not None and manages(caller, program)):
        return MatchListing(tenant, employee_id)
    me = person_of(caller)
    if caller.has_role(Role.PROGRAM_MANAGER):
        # Other people's matches only in the programs they run.
        return MatchListing(tenant, employee_id, visible_to=me, managers_see=True)
    return MatchListing(tenant, acting_for(caller, employee_id), visible_to=me)
