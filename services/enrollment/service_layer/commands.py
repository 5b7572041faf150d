"""What the gRPC entrypoint asks the handlers to do, already translated from the wire."""

from __future__ import annotations

from dataclasses import dataclass, field

from mentoring.v1 import common_pb2

from services.enrollment.domain import (
    EnrollmentStatus,
    Profile,
    ProgramFormat,
    ProgramSpec,
    ProgramStatus,
    Role,
)


@dataclass(frozen=True)
class CreateProgram:
    tenant: str
    spec: ProgramSpec
    draft: bool = False
    request_id: str = ""
    fingerprint: str = ""  # of the request, so a reused request_id with other content is refused


@dataclass(frozen=True)
class UpdateProgram:
    """The masked fields of ``program`` (wire form: nested paths merge into the stored program)."""

    program_id: str
    program: common_pb2.Program
    paths: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CloseProgram:
    program_id: str
    reason: str = ""


@dataclass(frozen=True)
class ListPrograms:
    tenant: str
    status: ProgramStatus | None = None
    program_format: ProgramFormat | None = None
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class Enrol:
    program_id: str
    employee_id: str
    role: Role
    profile: Profile
    request_id: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class UpdateEnrollment:
    enrollment_id: str
    profile: Profile


@dataclass(frozen=True)
class WithdrawEnrollment:
    enrollment_id: str
    reason: str = ""


@dataclass(frozen=True)
class ListParticipants:
    program_id: str
    role: Role | None = None
    status: EnrollmentStatus | None = None
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class LookUpContact:
    employee_id: str
    tenant: str = ""  # empty: the id must be known in exactly one tenant
