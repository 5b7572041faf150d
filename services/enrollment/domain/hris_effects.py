"""What an HRIS result does to the employee's enrollments (:class:`LifecycleEffect`), and the
republishing of participants whose attributes or management chain changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.enrollment.domain.common import require_aware
from services.enrollment.domain.directory import (
    EraseParticipantData,
    LifecycleEffect,
    PauseEnrollments,
    RefreshParticipant,
    ResumeEnrollments,
    WithdrawEnrollments,
)
from services.enrollment.domain.employees import Employee
from services.enrollment.domain.enrollment_lifecycle import (
    erase_enrollment,
    pause_for_leave,
    resume_after_leave,
    withdraw,
)
from services.enrollment.domain.enrollments import Enrollment
from services.enrollment.domain.events import Change, DomainEvent, ParticipantUpdated
from services.enrollment.domain.participants import participant_view
from services.enrollment.domain.profile import WithdrawalCause
from services.enrollment.domain.programs import Program


@dataclass(frozen=True)
class EnrollmentBatch:
    """Several enrollments changed by one HRIS effect: save ``enrollments``, outbox ``events``."""

    enrollments: tuple[Enrollment, ...] = ()
    events: tuple[DomainEvent, ...] = ()


def refresh_participants(
    *,
    employee: Employee,
    management_chain: tuple[str, ...],
    enrollments: Sequence[Enrollment],
    programs: Mapping[str, Program],
    now: datetime,
) -> EnrollmentBatch:
    """ParticipantUpdated (reason "hris") for each live enrollment: after an HRIS attribute change,
    or for a report whose chain changed (:class:`RefreshReportsChains`). No enrollment changes.
    """
    require_aware(now, "now")
    events: list[DomainEvent] = [
        ParticipantUpdated(
            tenant=enrollment.tenant,
            occurred_at=now,
            participant=participant_view(
                enrollment, programs[enrollment.program_id], employee, management_chain
            ),
            reason="hris",
        )
        for enrollment in enrollments
        if enrollment.is_live
    ]
    return EnrollmentBatch((), tuple(events))


def apply_effects(
    effects: Iterable[LifecycleEffect],
    *,
    employee: Employee,
    management_chain: tuple[str, ...],
    enrollments: Sequence[Enrollment],
    programs: Mapping[str, Program],
    now: datetime,
) -> EnrollmentBatch:
    """Run an HRIS result's effects on *this* employee's enrollments (all programs, any status).

    ``programs`` maps the enrollments' program ids to programs. :class:`RefreshReportsChains` is not
    handled here (it concerns other employees): find the reports with ``ReportsIndex`` and call
    :func:`refresh_participants` for each. Returns the enrollments that changed (latest state, each
    once) and the events in order.
    """
    require_aware(now, "now")
    current = {enrollment.enrollment_id: enrollment for enrollment in enrollments}
    changed: dict[str, None] = {}
    events: list[DomainEvent] = []

    def step(effect: LifecycleEffect, enrollment: Enrollment) -> Change[Enrollment]:
        if isinstance(effect, WithdrawEnrollments):
            if not enrollment.is_live:
                return Change(enrollment)
            return withdraw(enrollment, effect.reason, now=now, cause=WithdrawalCause.TERMINATED)
        if isinstance(effect, PauseEnrollments):
            return pause_for_leave(enrollment, now=now)
        if isinstance(effect, ResumeEnrollments):
            return resume_after_leave(
                enrollment,
                program=programs[enrollment.program_id],
                employee=employee,
                management_chain=management_chain,
                now=now,
            )
        if isinstance(effect, RefreshParticipant):
            batch = refresh_participants(
                employee=employee,
                management_chain=management_chain,
                enrollments=(enrollment,),
                programs=programs,
                now=now,
            )
            return Change(enrollment, batch.events)
        if isinstance(effect, EraseParticipantData):
            return erase_enrollment(enrollment, now=now)
        return Change(enrollment)  # RefreshReportsChains: the reports' enrollments, not these

    for effect in effects:
        for before in list(current.values()):
            change = step(effect, before)
            if change.state is not before:
                current[before.enrollment_id] = change.state
                changed.setdefault(before.enrollment_id, None)
            events.extend(change.events)
    return EnrollmentBatch(tuple(current[enrollment_id] for enrollment_id in changed), tuple(events))
