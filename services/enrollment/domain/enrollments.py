"""Enrollment aggregate: one employee taking part in one program, in one role, with a profile.

States: ACTIVE -> PAUSED (only by a leave; resumed when the leave ends) -> ACTIVE; any -> WITHDRAWN
(at will with a reason, or on termination / erasure). WITHDRAWN is final for that enrollment; the
employee may enrol again in the same program with a new enrollment.

Order of checks on enrol: malformed input (InvalidArgument) first, then double enrolment
(AlreadyExists), then the business rules (FailedPrecondition) in the order of :data:`RULES`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Final

from services.enrollment.domain.common import (
    normalise_tags,
    require_aware,
    require_int,
    require_number,
    require_tags,
    require_text,
)
from services.enrollment.domain.directory import (
    MAX_GRADE,
    WITHDRAWN_ERASED,
    Employee,
    EmployeeStatus,
    EraseParticipantData,
    LifecycleEffect,
    PauseEnrollments,
    RefreshParticipant,
    ResumeEnrollments,
    WithdrawEnrollments,
)
from services.enrollment.domain.events import (
    Change,
    DomainEvent,
    Participant,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
)
from services.enrollment.domain.profile import (
    EMPTY_PROFILE,
    Availability,
    EnrollmentStatus,
    Goal,
    MustHaves,
    PauseReason,
    Preferences,
    Profile,
    Role,
    TimeSlot,
)
from services.enrollment.domain.programs import Program, ProgramFormat, ProgramStatus
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

MAX_NOMINATIONS: Final = 10
MAX_GOALS: Final = 10
MAX_SLOTS: Final = 50
MAX_REASON_LENGTH: Final = 500
MAX_WEEKLY_HOURS: Final = 40.0

# Business rules, in the order they are checked (FailedPrecondition.rule).
RULES: Final = (
    "program_closed",
    "program_not_open",
    "enrollment_window",
    "employee_status",
    "department",
    "division",
    "location",
    "grade_range",
    "minimum_tenure",
    "formal_goals_required",
)


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


@dataclass(frozen=True)
class EnrollmentBatch:
    """Several enrollments changed by one HRIS effect: save ``enrollments``, outbox ``events``."""

    enrollments: tuple[Enrollment, ...] = ()
    events: tuple[DomainEvent, ...] = ()


# --- input validation ------------------------------------------------------------------------------


def allowed_roles(program_format: ProgramFormat) -> frozenset[Role]:
    """PEER programs take peers only; every other format takes mentors and mentees."""
    if program_format is ProgramFormat.PEER:
        return frozenset({Role.PEER})
    return frozenset({Role.MENTOR, Role.MENTEE})


def validate_profile(profile: Profile, *, role: Role, employee_id: str, program: Program) -> Profile:
    """Check a profile for this role in this program; return it normalised (tags lower-cased,
    mentor capacity defaulted). InvalidArgument names the field, e.g. ``profile.nominations[3]``.

    REVERSE programs: a mentor must offer the program's reverse skill; a mentee is taken to want it.
    Nominations are not checked against the directory (a nominee may not be enrolled yet); matching
    ignores nominees who are not mentors in the program.
    """
    if not isinstance(role, Role):
        raise InvalidArgument("role", "must be MENTOR, MENTEE or PEER")
    if role not in allowed_roles(program.spec.format):
        raise InvalidArgument("role", f"a {program.spec.format.name} program does not take {role.name}s")
    if not isinstance(profile, Profile):
        raise InvalidArgument("profile", "must be a Profile")
    skills_offered = require_tags(profile.skills_offered, "profile.skills_offered")
    skills_wanted = require_tags(profile.skills_wanted, "profile.skills_wanted")
    reverse_skill = program.spec.reverse_skill
    if reverse_skill is not None:
        if role is Role.MENTOR and reverse_skill not in skills_offered:
            raise InvalidArgument("profile.skills_offered", f"a reverse mentor must offer {reverse_skill!r}")
        if role is Role.MENTEE:
            skills_wanted = normalise_tags((*skills_wanted, reverse_skill))
    return replace(
        profile,
        skills_offered=skills_offered,
        skills_wanted=skills_wanted,
        goals=_validate_goals(profile.goals),
        nominations=_validate_nominations(profile.nominations, role=role, employee_id=employee_id),
        languages=require_tags(profile.languages, "profile.languages", max_length=35),
        availability=_validate_availability(profile.availability),
        capacity=_validate_capacity(profile.capacity, role=role, program=program),
        preferences=_validate_preferences(profile.preferences),
        must_haves=_validate_must_haves(profile.must_haves),
        requested_skill_areas=_validate_skill_areas(profile.requested_skill_areas, role=role),
    )


def _validate_goals(goals: object) -> tuple[Goal, ...]:
    if not isinstance(goals, tuple | list):
        raise InvalidArgument("profile.goals", "must be a list of goals")
    if len(goals) > MAX_GOALS:
        raise InvalidArgument("profile.goals", f"at most {MAX_GOALS} goals")
    cleaned: list[Goal] = []
    given_ids: set[str] = set()
    for index, goal in enumerate(goals):
        field = f"profile.goals[{index}]"
        if not isinstance(goal, Goal):
            raise InvalidArgument(field, "must be a Goal")
        metric = None if goal.metric is None else require_text(goal.metric, f"{field}.metric", max_length=500)
        target = None if goal.target is None else require_text(goal.target, f"{field}.target", max_length=500)
        if goal.due is not None and (not isinstance(goal.due, date) or isinstance(goal.due, datetime)):
            raise InvalidArgument(f"{field}.due", "must be a date")
        goal_id = require_text(goal.goal_id, f"{field}.goal_id", max_length=64, allow_empty=True)
        if goal_id in given_ids:
            raise InvalidArgument(f"{field}.goal_id", "two goals have the same id")
        if goal_id:
            given_ids.add(goal_id)
        cleaned.append(
            Goal(
                what=require_text(goal.what, f"{field}.what", max_length=500),
                metric=metric or None,
                target=target or None,
                due=goal.due,
                goal_id=goal_id,
                skill_tags=require_tags(goal.skill_tags, f"{field}.skill_tags", max_items=10),
            )
        )
    return _with_goal_ids(cleaned, given_ids)


def _with_goal_ids(goals: list[Goal], taken: set[str]) -> tuple[Goal, ...]:
    """Give each goal without an id the first free ``g<n>``, so progress can refer to it later."""
    numbers = (f"g{n}" for n in range(1, 2 * MAX_GOALS + 2))
    named: list[Goal] = []
    for goal in goals:
        if not goal.goal_id:
            goal = replace(goal, goal_id=next(name for name in numbers if name not in taken))
        named.append(goal)
    return tuple(named)


def _validate_nominations(nominations: object, *, role: Role, employee_id: str) -> tuple[str, ...]:
    if isinstance(nominations, str) or not isinstance(nominations, tuple | list):
        raise InvalidArgument("profile.nominations", "must be a list of employee ids")
    if nominations and role is Role.MENTOR:
        raise InvalidArgument("profile.nominations", "only mentees and peers nominate")
    if len(nominations) > MAX_NOMINATIONS:
        raise InvalidArgument("profile.nominations", f"at most {MAX_NOMINATIONS} nominations")
    seen: set[str] = set()
    for index, nominee in enumerate(nominations):
        field = f"profile.nominations[{index}]"
        if not isinstance(nominee, str) or not nominee.strip():
            raise InvalidArgument(field, "must be an employee id")
        if nominee == employee_id:
            raise InvalidArgument(field, "cannot nominate yourself")
        if nominee in seen:
            raise InvalidArgument(field, "nominated twice")
        seen.add(nominee)
    return tuple(nominations)


def check_nominees(
    nominations: Sequence[str],
    nominees: Mapping[str, Employee],
    management_chain: tuple[str, ...],
    *,
    already_nominated: Iterable[str] = (),
) -> None:
    """Whom a mentee nominates must be in the directory, still employed, and outside the mentee's
    management chain (a mentor is never the mentee's boss). ``nominees``: the directory records of the
    nominated ids; nominations kept from an earlier profile are not checked again (a nominee who left
    since does not block an unrelated profile change; matching skips them)."""
    kept = set(already_nominated)
    for index, nominee in enumerate(nominations):
        if nominee in kept:
            continue
        field = f"profile.nominations[{index}]"
        employee = nominees.get(nominee)
        if employee is None:
            raise InvalidArgument(field, "no employee has this id")
        if employee.status in (EmployeeStatus.TERMINATED, EmployeeStatus.ERASED):
            raise FailedPrecondition("nominee_not_employed", f"nominated mentor {index} no longer works here")
        if nominee in management_chain:
            raise FailedPrecondition(
                "management_chain", f"nominated mentor {index} is in your management chain"
            )


def _validate_availability(availability: object) -> Availability:
    if not isinstance(availability, Availability):
        raise InvalidArgument("profile.availability", "must be an Availability")
    weekly_hours = availability.weekly_hours
    if isinstance(weekly_hours, bool) or not isinstance(weekly_hours, int | float) or weekly_hours <= 0:
        raise InvalidArgument("profile.availability.weekly_hours", "must be a positive number")
    require_number(weekly_hours, "profile.availability.weekly_hours", minimum=0.0, maximum=MAX_WEEKLY_HOURS)
    if not isinstance(availability.slots, tuple | list):
        raise InvalidArgument("profile.availability.slots", "must be a list of time slots")
    if len(availability.slots) > MAX_SLOTS:
        raise InvalidArgument("profile.availability.slots", f"at most {MAX_SLOTS} slots")
    for index, slot in enumerate(availability.slots):
        field = f"profile.availability.slots[{index}]"
        if not isinstance(slot, TimeSlot):
            raise InvalidArgument(field, "must be a TimeSlot")
        require_int(slot.weekday, f"{field}.weekday", minimum=0, maximum=6)
        if not isinstance(slot.start, time) or not isinstance(slot.end, time):
            raise InvalidArgument(field, "start and end must be times of day")
        if slot.end <= slot.start:
            raise InvalidArgument(f"{field}.end", "must be after start")
    start, end = availability.work_start_hour, availability.work_end_hour
    if (start is None) != (end is None):
        raise InvalidArgument(
            "profile.availability.work_end_hour" if end is None else "profile.availability.work_start_hour",
            "working hours need both a start and an end",
        )
    if start is not None and end is not None:
        require_int(start, "profile.availability.work_start_hour", minimum=0, maximum=23)
        require_int(end, "profile.availability.work_end_hour", minimum=1, maximum=24)
        if start == end % 24:
            raise InvalidArgument("profile.availability.work_end_hour", "must differ from work_start_hour")
    return replace(availability, weekly_hours=float(weekly_hours), slots=tuple(availability.slots))


def _validate_capacity(capacity: object, *, role: Role, program: Program) -> int | None:
    if role is not Role.MENTOR:
        if capacity is not None:
            raise InvalidArgument("profile.capacity", "only mentors have a capacity")
        return None
    if capacity is None:
        return program.spec.mentor_capacity_default
    return require_int(capacity, "profile.capacity", minimum=1, maximum=program.spec.cap_per_mentor)


def _validate_preferences(preferences: object) -> Preferences:
    if not isinstance(preferences, Preferences):
        raise InvalidArgument("profile.preferences", "must be Preferences")
    for name in ("prefers_other_department", "prefers_other_division", "prefers_same_location"):
        if not isinstance(getattr(preferences, name), bool):
            raise InvalidArgument(f"profile.preferences.{name}", "must be a boolean")
    if preferences.max_grade_gap is not None:
        require_int(
            preferences.max_grade_gap, "profile.preferences.max_grade_gap", minimum=0, maximum=MAX_GRADE
        )
    return preferences


def _validate_must_haves(must_haves: object) -> MustHaves:
    if not isinstance(must_haves, MustHaves):
        raise InvalidArgument("profile.must_haves", "must be MustHaves")
    for name in ("same_location", "shared_language", "other_department"):
        if not isinstance(getattr(must_haves, name), bool):
            raise InvalidArgument(f"profile.must_haves.{name}", "must be a boolean")
    languages = require_tags(
        must_haves.languages, "profile.must_haves.languages", max_items=10, max_length=35
    )
    return replace(must_haves, languages=languages)


def _validate_skill_areas(areas: object, *, role: Role) -> tuple[str, ...]:
    tags = require_tags(areas, "profile.requested_skill_areas", max_items=MAX_NOMINATIONS)
    if tags and role is not Role.MENTEE:
        raise InvalidArgument("profile.requested_skill_areas", "only mentees request skill areas")
    return tags


# --- business rules --------------------------------------------------------------------------------


def _in(allowed: frozenset[str], value: str | None) -> bool:
    return not allowed or (value is not None and value.casefold() in {a.casefold() for a in allowed})


def eligibility_failures(program: Program, employee: Employee, *, now: datetime) -> tuple[str, ...]:
    """Every rule of :data:`RULES` (but the goal rule) that refuses this employee now, in order.

    Tenure is counted in whole days from the hire date to ``now``'s date; an unknown grade or hire
    date fails a program that restricts grade or tenure.
    """
    require_aware(now, "now")
    failures: list[str] = []
    if program.status is ProgramStatus.CLOSED:
        failures.append("program_closed")
    elif program.status is ProgramStatus.DRAFT:
        failures.append("program_not_open")
    if not program.spec.enrollment_window.contains(now):
        failures.append("enrollment_window")
    if employee.status is not EmployeeStatus.ACTIVE:
        failures.append("employee_status")
    rules = program.spec.eligibility
    if not _in(rules.departments, employee.department):
        failures.append("department")
    if not _in(rules.divisions, employee.division):
        failures.append("division")
    if not _in(rules.locations, employee.location):
        failures.append("location")
    if rules.grade_min is not None or rules.grade_max is not None:
        grade = employee.grade
        if (
            grade is None
            or (rules.grade_min is not None and grade < rules.grade_min)
            or (rules.grade_max is not None and grade > rules.grade_max)
        ):
            failures.append("grade_range")
    if rules.minimum_tenure_days > 0:
        tenure = employee.tenure_days(now.date())
        if tenure is None or tenure < rules.minimum_tenure_days:
            failures.append("minimum_tenure")
    return tuple(failures)


def has_measurable_goal(profile: Profile, program: Program) -> bool:
    cohort = program.spec.cohort
    return any(goal.is_measurable(cohort.start, cohort.end) for goal in profile.goals)


def _check_formal_goals(profile: Profile, role: Role, program: Program) -> None:
    if program.spec.formal and role in (Role.MENTEE, Role.PEER) and not has_measurable_goal(profile, program):
        raise FailedPrecondition(
            "formal_goals_required",
            "a formal program needs a measurable goal: what, metric, target, due within the cohort",
        )


_RULE_MESSAGES: Final = {
    "program_closed": "the program is closed",
    "program_not_open": "the program is not open for enrollment yet",
    "enrollment_window": "the enrollment window is not open",
    "employee_status": "only active employees can enrol",
    "department": "the program is not open to this department",
    "division": "the program is not open to this division",
    "location": "the program is not open to this location",
    "grade_range": "the employee's grade is outside the program's range",
    "minimum_tenure": "the employee has not been with the company long enough",
}


def _require_employee(employee: Employee | None, employee_id: str, tenant: str) -> Employee:
    if employee is None or employee.employee_id != employee_id or employee.tenant != tenant:
        raise NotFound("employee", employee_id)
    return employee


# --- commands ----------------------------------------------------------------------------------------


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
        raise FailedPrecondition(failures[0], _RULE_MESSAGES[failures[0]])
    _check_formal_goals(clean_profile, role, program)
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
    _check_formal_goals(clean_profile, enrollment.role, program)
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


def withdraw(enrollment: Enrollment, reason: str, *, now: datetime) -> Change[Enrollment]:
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
    return Change(withdrawn, (_withdrawn_event(withdrawn, now),))


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
        events = (_withdrawn_event(erased, now),)
    return Change(erased, events)


def _withdrawn_event(enrollment: Enrollment, now: datetime) -> ParticipantWithdrawn:
    return ParticipantWithdrawn(
        tenant=enrollment.tenant,
        occurred_at=now,
        program_id=enrollment.program_id,
        enrollment_id=enrollment.enrollment_id,
        employee_id=enrollment.employee_id,
        reason=enrollment.withdrawal_reason or "",
    )


# --- matching's view and HRIS effects ---------------------------------------------------------------


def participant_view(
    enrollment: Enrollment, program: Program, employee: Employee, management_chain: tuple[str, ...]
) -> Participant:
    """What matching sees of one enrollment: no name, no e-mail."""
    profile = enrollment.profile
    is_mentor = enrollment.role is Role.MENTOR
    return Participant(
        enrollment_id=enrollment.enrollment_id,
        program_id=enrollment.program_id,
        employee_id=enrollment.employee_id,
        role=enrollment.role,
        status=enrollment.status,
        grade=employee.grade,
        department=employee.department,
        division=employee.division,
        organization=employee.organization,
        location=employee.location,
        timezone=employee.timezone,
        languages=normalise_tags((*employee.languages, *profile.languages)),
        hris_skills=employee.skills,
        skills_offered=profile.skills_offered,
        skills_wanted=profile.skills_wanted,
        goals=profile.goals,
        nominations=profile.nominations,
        capacity=profile.capacity if is_mentor else None,
        cap_across_programs=program.spec.cap_per_mentor if is_mentor else None,
        management_chain=management_chain,
        preferences=profile.preferences,
        must_haves=profile.must_haves,
        availability=profile.availability,
        requested_skill_areas=profile.requested_skill_areas,
    )


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
            return withdraw(enrollment, effect.reason, now=now) if enrollment.is_live else Change(enrollment)
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
