"""Enrollment aggregate: one employee taking part in one program, in one role, with a profile.

States: ACTIVE -> PAUSED (only by a leave; resumed when the leave ends) -> ACTIVE; any -> WITHDRAWN
(at will with a reason, or on termination / erasure). WITHDRAWN is final for that enrollment; the
employee may enrol again in the same program with a new enrollment. The transitions are in
:mod:`enrollment_lifecycle`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.enrollment.domain.profile import EnrollmentStatus, PauseReason, Profile, Role


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: str
    tenant: str
    program_id: str
    employee_id: str
    role: Role
    profile: Profile
    status: EnrollmentStatus
    enrolled_at: datetime
    updated_at: datetime
    pause_reason: PauseReason | None = None
    withdrawal_reason: str | None = None
    revision: int = 1  # +1 per change: optimistic concurrency for the store

    @property
    def is_live(self) -> bool:
        """Not withdrawn: counts for double enrolment and receives HRIS refreshes."""
        return self.status is not EnrollmentStatus.WITHDRAWN
