"""Every command and query the enrollment service accepts, already translated from the wire: the gRPC
API's calls and the HRIS topic's batches. Each names the result its handler returns.

Every command an RPC issues carries its ``caller`` (keyword-only, required): the handler checks it against
the objects it loads and scopes every read by the caller's tenant. Only the HRIS batches (a consumer's)
have no caller, and no RPC issues them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.enrollment.domain import (
    Employee,
    Enrollment,
    EnrollmentStatus,
    HrisApplyResult,
    HrisEvent,
    Participant,
    Profile,
    Program,
    ProgramFormat,
    ProgramPatch,
    ProgramSpec,
    ProgramStatus,
    Role,
)
from services.shared.auth import Principal
from services.shared.errors import DomainError
from services.shared.messagebus import Command, Query
from services.shared.paging import Page

# What an update asks of the stored program: the patch it makes to it and the status asked for, if any
# (a masked update merges nested fields into the stored program, so it needs to see it).
ProgramEdit = Callable[[Program], tuple[ProgramPatch, ProgramStatus | None]]


# --- programs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateProgram(Command[Program]):
    tenant: str
    spec: ProgramSpec
    draft: bool = False
    request_id: str = ""
    fingerprint: str = ""  # of the request, so a reused request_id with other content is refused
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class UpdateProgram(Command[Program]):
    program_id: str
    edit: ProgramEdit
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class CloseProgram(Command[Program]):
    program_id: str
    reason: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class GetProgram(Query[Program]):
    program_id: str
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class ListPrograms(Query[Page[Program]]):
    tenant: str
    status: ProgramStatus | None = None
    program_format: ProgramFormat | None = None
    page_size: int = 0
    page_token: str = ""
    caller: Principal = field(kw_only=True)


# --- enrollments ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrol(Command[Enrollment]):
    program_id: str
    employee_id: str
    role: Role
    profile: Profile
    request_id: str = ""
    fingerprint: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class UpdateEnrollment(Command[Enrollment]):
    enrollment_id: str
    profile: Profile
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class WithdrawEnrollment(Command[Enrollment]):
    enrollment_id: str
    reason: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class GetEnrollment(Query[Enrollment]):
    enrollment_id: str
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True)
class ListParticipants(Query[Page[Participant]]):
    program_id: str
    role: Role | None = None
    status: EnrollmentStatus | None = None
    page_size: int = 0
    page_token: str = ""
    caller: Principal = field(kw_only=True)


# --- contacts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookUpContact(Query[Employee]):
    employee_id: str
    tenant: str = ""  # the tenant the calling service names (services have no tenant of their own)
    caller: Principal = field(kw_only=True)


# --- HRIS worker events (hris.worker.events.v1) --------------------------------------------------------


@dataclass(frozen=True)
class ApplyHrisEvents(Command[list[HrisApplyResult | DomainError]]):
    """A consumed batch of HRIS events with the id of the CloudEvent each came in (the causation id of
    what it publishes), applied in order; one result or rejection per event."""

    events: Sequence[tuple[HrisEvent, str | None]]
