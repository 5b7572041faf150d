"""Domain events the enrollment service publishes on ``enrollment.events.v1`` (through the outbox;
``adapters/outbox.py`` gives each its message and the registry its CloudEvents type).

Keyed by program, except the tenant-wide :class:`EmployeeErased` (keyed ``tenant:employee``).
Participant events carry what matching needs and no names or e-mail addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from services.enrollment.domain.participants import Participant
from services.enrollment.domain.profile import PauseReason, WithdrawalCause
from services.enrollment.domain.programs import Program

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class _Event:
    tenant: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class ProgramCreated(_Event):
    program: Program

    @property
    def key(self) -> str:
        return self.program.program_id


@dataclass(frozen=True, kw_only=True)
class ProgramUpdated(_Event):
    program: Program
    changed_fields: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.program.program_id


@dataclass(frozen=True, kw_only=True)
class ProgramClosed(_Event):
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
    """Full view of the new enrollment."""


@dataclass(frozen=True, kw_only=True)
class ParticipantUpdated(_ParticipantView):
    """Full current view; ``reason``: "profile" (participant edited), "hris" (attributes or chain)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ParticipantPaused(_ParticipantStatus):
    cause: PauseReason = PauseReason.LEAVE


@dataclass(frozen=True, kw_only=True)
class ParticipantResumed(_ParticipantView):
    """Full current view: attributes may have changed while the participant was away."""


@dataclass(frozen=True, kw_only=True)
class ParticipantWithdrawn(_ParticipantStatus):
    """``cause``: at the participant's (or HR's) request, or the employee left or was erased."""

    cause: WithdrawalCause = WithdrawalCause.REQUESTED


@dataclass(frozen=True, kw_only=True)
class EmployeeErased(_Event):
    """Tombstone: downstream services drop whatever they hold about this employee id."""

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
