"""Command and query handlers: programs, enrollments, participants, contacts, and HRIS worker events.

Each runs inside the unit of work it is given (one database transaction): load through the store,
decide in the domain, persist, and stage the resulting events in the outbox in the same transaction,
so a change and its events commit or vanish together. Creates are idempotent by ``request_id``: a
retry returns the first result, a reused key with other content is refused.

Every RPC's command carries its caller: reads by id are scoped by the caller's tenant (another tenant's
program or enrolment is NotFound, as a missing one) and the caller is checked against what was loaded
(``permissions.py``) before anything changes.

:func:`handler_map`, at the end, is every command the service reacts to and its handler.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment import domain
from services.enrollment.adapters import store
from services.enrollment.adapters.outbox import keyed, stage
from services.enrollment.adapters.translate import PROFILE_FIELDS, PROGRAM_FIELDS, request_field_names
from services.enrollment.domain import (
    Employee,
    EmployeeStatus,
    Enrollment,
    HrisApplyResult,
    Participant,
    Program,
    ProgramStatus,
    participant_view,
)
from services.enrollment.service_layer import commands
from services.enrollment.service_layer.hris import DirectoryCache, HrisIngestion
from services.enrollment.service_layer.permissions import (
    require_contact_lookup,
    require_may_edit,
    require_may_read,
    require_owner_or_hr,
    require_runs,
)
from services.shared.access import acting_for, require_hr, runs_programs, tenant_of
from services.shared.auth import Principal
from services.shared.errors import AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound
from services.shared.ids import optional_id, require_id
from services.shared.messagebus import Command, Handler
from services.shared.paging import Page, decode_token, encode_token, page_size

MAX_REASON_LENGTH: Final = 500
DEFAULT_WITHDRAWAL_REASON: Final = "withdrawn by the participant"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _required_id(value: str, field: str) -> str:
    return require_id(value, field, missing="is required")


def _request_id(value: str) -> str | None:
    return optional_id(value, "request_id") or None


def _reason(value: str, default: str = "") -> str:
    text = value.strip() or default
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidArgument("reason", f"must be at most {MAX_REASON_LENGTH} characters")
    return text


async def _program(session: AsyncSession, tenant: str, program_id: str) -> Program:
    program = await store.get_program(session, tenant, _required_id(program_id, "program_id"))
    if program is None:
        raise NotFound("program", program_id)
    return program


async def _published(session: AsyncSession, caller: Principal, program_id: str) -> Program:
    """A program of the caller's tenant as they may see it: a draft is HR's and program managers' work
    in progress, so for anyone else it is NotFound like a missing program."""
    program = await _program(session, tenant_of(caller), program_id)
    if program.status is ProgramStatus.DRAFT and not runs_programs(caller):
        raise NotFound("program", program_id)
    return program


async def _enrollment(session: AsyncSession, tenant: str, enrollment_id: str) -> Enrollment:
    enrollment = await store.get_enrollment(session, tenant, _required_id(enrollment_id, "enrollment_id"))
    if enrollment is None:
        raise NotFound("enrollment", enrollment_id)
    return enrollment


async def _employee_and_chain(
    session: AsyncSession, tenant: str, employee_id: str
) -> tuple[Employee | None, tuple[str, ...]]:
    employee = await store.get_employee(session, tenant, employee_id)
    if employee is None:
        return None, ()
    chains = await store.chains_of(session, tenant, [employee_id])
    return employee, chains[employee_id]


async def _check_nominees(
    session: AsyncSession,
    tenant: str,
    nominations: tuple[str, ...],
    chain: tuple[str, ...],
    *,
    already_nominated: tuple[str, ...] = (),
) -> None:
    new = [nominee for nominee in nominations if nominee not in already_nominated]
    if not new:
        return
    nominees = await store.get_employees(session, tenant, new)
    with request_field_names(PROFILE_FIELDS):
        domain.check_nominees(nominations, nominees, chain, already_nominated=already_nominated)


async def _check_managers(
    session: AsyncSession, tenant: str, managers: frozenset[str], already: frozenset[str] = frozenset()
) -> None:
    """The managers a program newly names are employees of its tenant, still employed."""
    new = sorted(managers - already)
    if not new:
        return
    known = await store.get_employees(session, tenant, new)
    for manager_id in new:
        employee = known.get(manager_id)
        if employee is None:
            raise InvalidArgument("program.manager_ids", "names someone who is no employee of the tenant")
        if employee.status in (EmployeeStatus.TERMINATED, EmployeeStatus.ERASED):
            raise FailedPrecondition("manager_not_employed", "a named manager no longer works here")


# --- programs ------------------------------------------------------------------------------------------


async def create_program(
    session: AsyncSession, command: commands.CreateProgram, now: datetime | None = None
) -> Program:
    require_hr(command.caller)
    tenant = _required_id(tenant_of(command.caller, command.tenant), "tenant")
    request_id = _request_id(command.request_id)
    if request_id is not None:
        earlier = await store.get_program_by_request(session, tenant, request_id)
        if earlier is not None:
            program, fingerprint = earlier
            if fingerprint != command.fingerprint:
                raise InvalidArgument("request_id", "was already used for a different program")
            return program
    with request_field_names(PROGRAM_FIELDS, "program."):
        change = domain.create_program(
            program_id=uuid.uuid4().hex, tenant=tenant, spec=command.spec, now=_now(now), draft=command.draft
        )
    await _check_managers(session, tenant, change.state.spec.manager_ids)
    await store.insert_program(session, change.state, request_id=request_id, fingerprint=command.fingerprint)
    await stage(session, keyed(change.events))
    return change.state


async def update_program(
    session: AsyncSession, command: commands.UpdateProgram, now: datetime | None = None
) -> Program:
    """Apply the masked fields; a status in the mask opens a draft (OPEN) or closes (CLOSED)."""
    moment = _now(now)
    program = await _program(session, tenant_of(command.caller), command.program_id)
    require_runs(command.caller, program)
    with request_field_names(PROGRAM_FIELDS, "program."):
        patch, status = command.edit(program)
        require_may_edit(command.caller, program, patch, status)
        has_enrollments = await store.has_live_enrollments(session, program.program_id)
        change = domain.update_program(program, patch, has_enrollments=has_enrollments, now=moment)
    current, events = change.state, list(change.events)
    if status is not None and status is not current.status:
        if status is ProgramStatus.DRAFT:
            raise FailedPrecondition("program_published", "a published program cannot go back to draft")
        step = (
            domain.open_program(current, now=moment)
            if status is ProgramStatus.OPEN
            else domain.close_program(current, now=moment)
        )
        current, events = step.state, [*events, *step.events]
    if current is not program:
        await _check_managers(session, program.tenant, current.spec.manager_ids, program.spec.manager_ids)
        await store.update_program(session, current)
        await stage(session, keyed(events))
    return current


async def get_program(session: AsyncSession, query: commands.GetProgram) -> Program:
    """Any person of the program's tenant; a draft only those who run programs."""
    return await _published(session, query.caller, query.program_id)


async def close_program(
    session: AsyncSession, command: commands.CloseProgram, now: datetime | None = None
) -> Program:
    """Close for good; closing a closed program returns it unchanged (a retry is harmless)."""
    require_hr(command.caller)
    program = await _program(session, tenant_of(command.caller), command.program_id)
    reason = _reason(command.reason)
    change = domain.close_program(program, now=_now(now))
    if change.state is not program:
        await store.update_program(session, change.state, closed_reason=reason)
        await stage(session, keyed(change.events))
    return change.state


async def list_programs(session: AsyncSession, query: commands.ListPrograms) -> Page[Program]:
    tenant = _required_id(tenant_of(query.caller, query.tenant), "tenant")
    size = page_size(query.page_size)
    listing = f"programs:{tenant}"
    key = decode_token(listing, query.page_token, 2)
    after = None
    if key is not None:
        try:
            after = (datetime.fromisoformat(key[0]), key[1])
        except ValueError as error:
            raise InvalidArgument("page.page_token", "is not a token this service issued") from error
    hide_drafts = not runs_programs(query.caller)
    found = await store.list_programs(
        session,
        tenant=tenant,
        status=query.status,
        program_format=query.program_format,
        after=after,
        limit=size + 1,
        hide_drafts=hide_drafts,
    )
    items = found[:size]
    token = ""
    if len(found) > size:
        last = items[-1]
        token = encode_token(listing, [last.created_at.isoformat(), last.program_id])
    total = await store.count_programs(
        session,
        tenant=tenant,
        status=query.status,
        program_format=query.program_format,
        hide_drafts=hide_drafts,
    )
    return Page(items, token, total)


# --- enrollments ---------------------------------------------------------------------------------------


async def enrol(session: AsyncSession, command: commands.Enrol, now: datetime | None = None) -> Enrollment:
    employee_id = _required_id(command.employee_id, "employee_id")
    acting_for(command.caller, employee_id, hr_may=True)
    program = await _published(session, command.caller, command.program_id)
    request_id = _request_id(command.request_id)
    if request_id is not None:
        earlier = await store.get_enrollment_by_request(session, program.program_id, request_id)
        if earlier is not None:
            enrollment, fingerprint = earlier
            if fingerprint != command.fingerprint:
                raise InvalidArgument("request_id", "was already used for a different enrolment")
            return enrollment
    employee, chain = await _employee_and_chain(session, program.tenant, employee_id)
    existing = await store.enrollments_of_employee(session, program.tenant, employee_id, program.program_id)
    with request_field_names(PROFILE_FIELDS):
        change = domain.enrol(
            enrollment_id=uuid.uuid4().hex,
            program=program,
            employee_id=employee_id,
            employee=employee,
            role=command.role,
            profile=command.profile,
            existing=existing,
            management_chain=chain,
            now=_now(now),
        )
    await _check_nominees(session, program.tenant, change.state.profile.nominations, chain)
    try:
        await store.insert_enrollment(
            session, change.state, request_id=request_id, fingerprint=command.fingerprint
        )
    except IntegrityError as error:  # a concurrent enrolment won the race (PostgreSQL)
        raise AlreadyExists("enrollment", f"{program.program_id}/{employee_id}") from error
    await stage(session, keyed(change.events))
    return change.state


async def update_enrollment(
    session: AsyncSession, command: commands.UpdateEnrollment, now: datetime | None = None
) -> Enrollment:
    enrollment = await _enrollment(session, tenant_of(command.caller), command.enrollment_id)
    require_owner_or_hr(command.caller, enrollment)
    program = await _program(session, enrollment.tenant, enrollment.program_id)
    employee, chain = await _employee_and_chain(session, enrollment.tenant, enrollment.employee_id)
    with request_field_names(PROFILE_FIELDS):
        change = domain.update_profile(
            enrollment,
            command.profile,
            program=program,
            employee=employee,
            management_chain=chain,
            now=_now(now),
        )
    await _check_nominees(
        session,
        enrollment.tenant,
        change.state.profile.nominations,
        chain,
        already_nominated=enrollment.profile.nominations,
    )
    if change.state is not enrollment:
        await store.update_enrollments(session, [change.state])
        await stage(session, keyed(change.events))
    return change.state


async def withdraw_enrollment(
    session: AsyncSession, command: commands.WithdrawEnrollment, now: datetime | None = None
) -> Enrollment:
    enrollment = await _enrollment(session, tenant_of(command.caller), command.enrollment_id)
    require_owner_or_hr(command.caller, enrollment)
    reason = _reason(command.reason, DEFAULT_WITHDRAWAL_REASON)
    change = domain.withdraw(enrollment, reason, now=_now(now))
    withdrawn = change.state
    await store.update_enrollments(session, [withdrawn])
    await stage(session, keyed(change.events), views=await _views(session, [withdrawn]))
    return withdrawn


async def get_enrollment(session: AsyncSession, query: commands.GetEnrollment) -> Enrollment:
    enrollment = await _enrollment(session, tenant_of(query.caller), query.enrollment_id)
    program = await _program(session, enrollment.tenant, enrollment.program_id)
    require_may_read(query.caller, enrollment, program)
    return enrollment


async def list_participants(session: AsyncSession, query: commands.ListParticipants) -> Page[Participant]:
    program = await _program(session, tenant_of(query.caller), query.program_id)
    require_runs(query.caller, program)
    size = page_size(query.page_size)
    listing = f"participants:{program.program_id}"
    key = decode_token(listing, query.page_token, 1)
    found = await store.list_enrollments(
        session,
        program_id=program.program_id,
        role=query.role,
        status=query.status,
        after=None if key is None else key[0],
        limit=size + 1,
    )
    items = found[:size]
    token = encode_token(listing, [items[-1].enrollment_id]) if len(found) > size else ""
    views = await _views(session, items, {program.program_id: program})
    total = await store.count_enrollments(
        session, program_id=program.program_id, role=query.role, status=query.status
    )
    return Page([views[enrollment.enrollment_id] for enrollment in items], token, total)


async def _views(
    session: AsyncSession, enrollments: list[Enrollment], programs: dict[str, Program] | None = None
) -> dict[str, Participant]:
    """Matching's view of each enrollment, with the live management chain (one query for all)."""
    if not enrollments:
        return {}
    tenant = enrollments[0].tenant
    employee_ids = [enrollment.employee_id for enrollment in enrollments]
    employees = await store.get_employees(session, tenant, employee_ids)
    chains = await store.chains_of(session, tenant, employee_ids)
    known = dict(programs or {})
    missing = {enrollment.program_id for enrollment in enrollments} - set(known)
    known.update(await store.get_programs(session, missing))
    return {
        enrollment.enrollment_id: participant_view(
            enrollment,
            known[enrollment.program_id],
            employees[enrollment.employee_id],
            chains[enrollment.employee_id],
        )
        for enrollment in enrollments
    }


# --- contacts ------------------------------------------------------------------------------------------


async def look_up_contact(session: AsyncSession, query: commands.LookUpContact) -> Employee:
    """The directory record behind a contact look-up (name, e-mail, time zone, status), for a service
    that may look contacts up, in the tenant it names (employee ids are unique within a tenant only)."""
    require_contact_lookup(query.caller)
    employee_id = _required_id(query.employee_id, "employee_id")
    tenant = tenant_of(query.caller, query.tenant)
    employee = await store.get_employee(session, tenant, employee_id)
    if employee is None:
        raise NotFound("employee", employee_id)
    return employee


# --- HRIS worker events --------------------------------------------------------------------------------


async def apply_hris_events(
    ingestion: HrisIngestion, session: AsyncSession, command: commands.ApplyHrisEvents
) -> list[HrisApplyResult | DomainError]:
    return await ingestion.apply_batch(session, command.events)


# --- the service's one map -----------------------------------------------------------------------------


def handler_map(
    cache: DirectoryCache | None = None, on_erased: Callable[[], None] | None = None
) -> dict[type[Command[Any]], Handler]:
    """Every command and query of the service and its handler. ``cache``: the HRIS consumer's directory
    cache, kept between batches (a fresh one by default); ``on_erased``: called once a batch that erased
    someone has committed."""
    ingestion = HrisIngestion(cache) if on_erased is None else HrisIngestion(cache, on_erased)
    return {
        commands.CreateProgram: create_program,
        commands.UpdateProgram: update_program,
        commands.CloseProgram: close_program,
        commands.GetProgram: get_program,
        commands.ListPrograms: list_programs,
        commands.Enrol: enrol,
        commands.UpdateEnrollment: update_enrollment,
        commands.WithdrawEnrollment: withdraw_enrollment,
        commands.GetEnrollment: get_enrollment,
        commands.ListParticipants: list_participants,
        commands.LookUpContact: look_up_contact,
        commands.ApplyHrisEvents: partial(apply_hris_events, ingestion),
    }
