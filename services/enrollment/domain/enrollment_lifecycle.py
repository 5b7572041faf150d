"""The enrollment's transitions: enrol, change the profile, withdraw, and what an HRIS lifecycle change
does to it (pause for a leave, resume after it, erase). Each returns a :class:`Change`: the new state
and the events to publish.

Order of checks on enrol: malformed input (InvalidArgument) first, then double enrolment
(AlreadyExists), then the business rules (FailedPrecondition) in the order of :data:`RULES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Final

from services.enrollment.domain.common import require_aware, require_text
from services.enrollment.domain.directory import WITHDRAWN_ERASED
from services.enrollment.domain.eligibility import RULE_MESSAGES, check_formal_goals, eligibility_failures
from services.enrollment.domain.employees import Employee
from services.enrollment.domain.enrollments import Enrollment
from services.enrollment.domain.events import (
    Change,
    DomainEvent,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
)
from services.enrollment.domain.participants import participant_view
from services.enrollment.domain.profile import (
    EMPTY_PROFILE,
    EnrollmentStatus,
    PauseReason,
    Profile,
    Role,
    WithdrawalCause,
)
from services.enrollment.domain.profile_rules import validate_profile
from services.enrollment.domain.programs import Program, ProgramStatus
from services.shared.errors import AlreadyExists, FailedPrecondition, NotFound

MAX_REASON_LENGTH: Final = 500


def _require_employee(employee: Employee | None, employee_id: str, tenant: str) -> Employee:
    if employee is None or employee.employee_id != employee_id or employee.tenant != tenant:
        raise NotFound("employee", employee_id)
    return employee


def enrol(
    *,
    enrollment_id: str,
    program: Program,
    employee_id: str,
    employee: Employee | None,
    role: Role,
    profile: Profile,
    existing: Iterable[Enrollment],
    management_chain: tuple[str, ...],
    now: datetime,
) -> Change[Enrollment]:
    """Enrol ``employee`` in ``program``.

    ``existing``: the employee's enrollments in this program (any status). ``management_chain``: from
    :func:`management_chain`, published for matching. Raises NotFound (unknown employee),
    InvalidArgument (role / profile), AlreadyExists (a live enrollment in this program),
    FailedPrecondition (first failing rule of :data:`RULES`).
    """
    require_aware(now, "now")
    require_text(enrollment_id, "enrollment_id", max_length=128)
    known = _require_employee(employee, employee_id, program.tenant)
    clean_profile = validate_profile(profile, role=role, employee_id=employee_id, program=program)
    if any(
        e.is_live and e.program_id == program.program_id and e.employee_id == employee_id for e in existing
    ):
        raise AlreadyExists("enrollment", f"{program.program_id}/{employee_id}")
    failures = eligibility_failures(program, known, now=now)
    if failures:
        raise FailedPrecondition(failures[0], RULE_MESSAGES[failures[0]])
    check_formal_goals(clean_profile, role, program)
    enrollment = Enrollment(
        enrollment_id=enrollment_id,
        tenant=program.tenant,
        program_id=program.program_id,
        employee_id=employee_id,
        role=role,
        profile=clean_profile,
        status=EnrollmentStatus.ACTIVE,
        enrolled_at=now,
        updated_at=now,
    )
    participant = participant_view(enrollment, program, known, management_chain)
    return Change(
        enrollment, (ParticipantEnrolled(tenant=program.tenant, occurred_at=now, participant=participant),)
    )


def update_profile(
    enrollment: Enrollment,
    profile: Profile,
    *,
    program: Program,
    employee: Employee | None,
    management_chain: tuple[str, ...],
    now: datetime,
) -> Change[Enrollment]:
    """Replace the profile (re-validated, goal rule included). Allowed while ACTIVE or PAUSED and the
    program is not CLOSED, also after the enrollment window (matching may not have run yet).
    """
    require_aware(now, "now")
    known = _require_employee(employee, enrollment.employee_id, enrollment.tenant)
    clean_profile = validate_profile(
        profile, role=enrollment.role, employee_id=enrollment.employee_id, program=program
    )
    if not enrollment.is_live:
        raise FailedPrecondition("enrollment_withdrawn", "a withdrawn enrollment cannot change")
    if program.status is ProgramStatus.CLOSED:
        raise FailedPrecondition("program_closed", "the program is closed")
    check_formal_goals(clean_profile, enrollment.role, program)
    if clean_profile == enrollment.profile:
        return Change(enrollment)
    updated = replace(enrollment, profile=clean_profile, updated_at=now, revision=enrollment.revision + 1)
    participant = participant_view(updated, program, known, management_chain)
    return Change(
        updated,
        (
            ParticipantUpdated(
                tenant=updated.tenant, occurred_at=now, participant=participant, reason="profile"
            ),
        ),
    )


def withdraw(
    enrollment: Enrollment,
    reason: str,
    *,
    now: datetime,
    cause: WithdrawalCause = WithdrawalCause.REQUESTED,
) -> Change[Enrollment]:
    """Withdraw (at will, or on termination). FailedPrecondition ``enrollment_withdrawn`` if already."""
    require_aware(now, "now")
    clean_reason = require_text(reason, "reason", max_length=MAX_REASON_LENGTH)
    if not enrollment.is_live:
        raise FailedPrecondition("enrollment_withdrawn", "the enrollment is already withdrawn")
    withdrawn = replace(
        enrollment,
        status=EnrollmentStatus.WITHDRAWN,
        withdrawal_reason=clean_reason,
        pause_reason=None,
        updated_at=now,
        revision=enrollment.revision + 1,
    )
    return Change(withdrawn, (_withdrawn_event(withdrawn, now, cause),))


def pause_for_leave(enrollment: Enrollment, *, now: datetime) -> Change[Enrollment]:
    """ACTIVE -> PAUSED (reason LEAVE); anything else is left as it is."""
    require_aware(now, "now")
    if enrollment.status is not EnrollmentStatus.ACTIVE:
        return Change(enrollment)
    paused = replace(
        enrollment,
        status=EnrollmentStatus.PAUSED,
        pause_reason=PauseReason.LEAVE,
        updated_at=now,
        revision=enrollment.revision + 1,
    )
    event = ParticipantPaused(
        tenant=paused.tenant,
        occurred_at=now,
        program_id=paused.program_id,
        enrollment_id=paused.enrollment_id,
        employee_id=paused.employee_id,
        reason=PauseReason.LEAVE.value.lower(),
        cause=PauseReason.LEAVE,
    )
    return Change(paused, (event,))


def resume_after_leave(
    enrollment: Enrollment,
    *,
    program: Program,
    employee: Employee,
    management_chain: tuple[str, ...],
    now: datetime,
) -> Change[Enrollment]:
    """PAUSED by a leave -> ACTIVE; anything else (e.g. withdrawn meanwhile) is left as it is."""
    require_aware(now, "now")
    if enrollment.status is not EnrollmentStatus.PAUSED or enrollment.pause_reason is not PauseReason.LEAVE:
        return Change(enrollment)
    resumed = replace(
        enrollment,
        status=EnrollmentStatus.ACTIVE,
        pause_reason=None,
        updated_at=now,
        revision=enrollment.revision + 1,
    )
    participant = participant_view(resumed, program, employee, management_chain)
    return Change(
        resumed, (ParticipantResumed(tenant=resumed.tenant, occurred_at=now, participant=participant),)
    )


def erase_enrollment(enrollment: Enrollment, *, now: datetime) -> Change[Enrollment]:
    """Erasure: withdraw if live (reason "erased") and scrub the profile (goals are free text)."""
    require_aware(now, "now")
    events: tuple[DomainEvent, ...] = ()
    status, reason = enrollment.status, enrollment.withdrawal_reason
    if enrollment.is_live:
        status, reason = EnrollmentStatus.WITHDRAWN, WITHDRAWN_ERASED
    if enrollment.profile == EMPTY_PROFILE and status is enrollment.status:
        return Change(enrollment)
    erased = replace(
        enrollment,
        profile=EMPTY_PROFILE,
        status=status,
        withdrawal_reason=reason,
        pause_reason=None,
        updated_at=now,
        revision=enrollment.revision + 1,
    )
    if enrollment.is_live:
        events = (_withdrawn_event(erased, now, WithdrawalCause.ERASED),)
    return Change(erased, events)


def _withdrawn_event(enrollment: Enrollment, now: datetime, cause: WithdrawalCause) -> ParticipantWithdrawn:
    return ParticipantWithdrawn(
        tenant=enrollment.tenant,
        occurred_at=now,
        program_id=enrollment.program_id,
        enrollment_id=enrollment.enrollment_id,
        employee_id=enrollment.employee_id,
        reason=enrollment.withdrawal_reason or "",
        cause=cause,
    )
