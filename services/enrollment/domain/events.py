"""Domain events the enrollment service publishes on ``enrollment.events.v1`` (through the outbox).

Keyed by program, except the tenant-wide :class:`EmployeeErased` (keyed ``tenant:employee``).
Participant events carry what matching needs and no names or e-mail addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from services.enrollment.domain.profile import (
    Availability,
    EnrollmentStatus,
    Goal,
    MustHaves,
    Preferences,
    Role,
)

if TYPE_CHECKING:
    from services.enrollment.domain.programs import Program

T = TypeVar("T")


@dataclass(frozen=True)
class Participant:
    """Matching's view of one enrollment: HRIS attributes + declared profile + live management chain."""

    enrollment_id: str
    program_id: str
    employee_id: str
    role: Role
    status: EnrollmentStatus
    grade: int | None
    department: str | None
    division: str | None
    organization: str | None
    location: str | None
    timezone: str | None
    languages: tuple[str, ...]  # HRIS languages and the profile's, de-duplicated
    hris_skills: tuple[str, ...]
    skills_offered: tuple[str, ...]
    skills_wanted: tuple[str, ...]
    goals: tuple[Goal, ...]
    nominations: tuple[str, ...]
    capacity: int | None  # mentors only: mentees at once in this program
    cap_across_programs: int | None  # mentors only: mentees at once over every program
    management_chain: tuple[str, ...]  # manager, skip-level, ... (employee ids)
    preferences: Preferences
    must_haves: MustHaves
    availability: Availability
    requested_skill_areas: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class _Event:
    tenant: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class ProgramCreated(_Event):
    TYPE: ClassVar[str] = "mentoring.enrollment.program.created.v1"
    program: Program

    @property
    def key(self) -> str:
        return self.program.program_id


@dataclass(frozen=True, kw_only=True)
class ProgramUpdated(_Event):
    TYPE: ClassVar[str] = "mentoring.enrollment.program.updated.v1"
    program: Program
    changed_fields: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.program.program_id


@dataclass(frozen=True, kw_only=True)
class ProgramClosed(_Event):
    TYPE: ClassVar[str] = "mentoring.enrollment.program.closed.v1"
    program_id: str

    @property
    def key(self) -> str:
        return self.program_id


@dataclass(frozen=True, kw_only=True)
class _ParticipantView(_Event):
    """An event carrying the participant's full current view, keyed by its program."""

    participant: Participant

    @property
    def key(self) -> str:
        return self.participant.program_id


@dataclass(frozen=True, kw_only=True)
class _ParticipantStatus(_Event):
    """A status change carrying ids and a reason; the wire adds the participant's latest view."""

    program_id: str
    enrollment_id: str
    employee_id: str
    reason: str

    @property
    def key(self) -> str:
        return self.program_id


@dataclass(frozen=True, kw_only=True)
class ParticipantEnrolled(_ParticipantView):
    TYPE: ClassVar[str] = "mentoring.enrollment.participant.enrolled.v1"


@dataclass(frozen=True, kw_only=True)
class ParticipantUpdated(_ParticipantView):
    """Full current view; ``reason``: "profile" (participant edited), "hris" (attributes or chain)."""

    TYPE: ClassVar[str] = "mentoring.enrollment.participant.updated.v1"
    reason: str


@dataclass(frozen=True, kw_only=True)
class ParticipantPaused(_ParticipantStatus):
    TYPE: ClassVar[str] = "mentoring.enrollment.participant.paused.v1"


@dataclass(frozen=True, kw_only=True)
class ParticipantResumed(_ParticipantView):
    """Full current view: attributes may have changed while the participant was away."""

    TYPE: ClassVar[str] = "mentoring.enrollment.participant.resumed.v1"


@dataclass(frozen=True, kw_only=True)
class ParticipantWithdrawn(_ParticipantStatus):
    TYPE: ClassVar[str] = "mentoring.enrollment.participant.withdrawn.v1"


@dataclass(frozen=True, kw_only=True)
class EmployeeErased(_Event):
    """Tombstone: downstream services drop whatever they hold about this employee id."""

    TYPE: ClassVar[str] = "mentoring.enrollment.employee.erased.v1"
    employee_id: str

    @property
    def key(self) -> str:
        return f"{self.tenant}:{self.employee_id}"


DomainEvent = (
    ProgramCreated
    | ProgramUpdated
    | ProgramClosed
    | ParticipantEnrolled
    | ParticipantUpdated
    | ParticipantPaused
    | ParticipantResumed
    | ParticipantWithdrawn
    | EmployeeErased
)


@dataclass(frozen=True)
class Change(Generic[T]):
    """What a command produced: the aggregate's new state and the events to write to the outbox in
    the same transaction. A command that changed nothing returns the state it got and no events.
    """

    state: T
    events: tuple[DomainEvent, ...] = ()
