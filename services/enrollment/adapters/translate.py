"""Domain <-> protobuf (``mentoring.v1``): programs, profiles, participants, enrollments, contacts, and
HRIS worker records -> SCIM-named dictionaries for the domain's mapper.

Conventions where proto3 cannot tell "unset" from zero: a numeric program or profile setting of 0 means
the server default (as ``PageRequest.page_size`` does), an empty string means "none". Cohort dates are
days: a ``DateRange`` of the cohort is read as UTC days and written as 00:00 UTC of each day.

Domain errors name domain fields; :func:`renamed` turns them into the request's field paths
(``profile.nominations[2]`` -> ``profile.nominated_mentor_ids[2]``), so INVALID_ARGUMENT points at what
the caller sent.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time
from typing import Any, Final, TypeVar

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2, enrollment_pb2, events_pb2

from services.enrollment.domain import (
    Availability,
    Cohort,
    Delivery,
    DomainEvent,
    Eligibility,
    Employee,
    EmployeeStatus,
    Enrollment,
    EnrollmentStatus,
    EnrollmentWindow,
    Goal,
    GroupSize,
    HrisEventType,
    MatchingMode,
    MatchingObjective,
    MustHaves,
    Participant,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
    PauseReason,
    Preferences,
    Profile,
    Program,
    ProgramClosed,
    ProgramCreated,
    ProgramFormat,
    ProgramPatch,
    ProgramSpec,
    ProgramStatus,
    ProgramUpdated,
    Role,
    ScoringWeights,
    SessionCadence,
    SpeedRounds,
    WithdrawalCause,
)
from services.shared.errors import InvalidArgument
from services.shared.timestamps import instant, timestamp

E = TypeVar("E", bound=enum.Enum)

# The proto has no length for a speed round; rounds of this many minutes are assumed.
SPEED_ROUND_MINUTES: Final = 10
WEEKS_PER_MONTH: Final = 52 / 12
MAX_HOURS_PER_MONTH: Final = 173  # the domain's 40 hours a week

_DEFAULT_SPEC: Final = ProgramSpec(
    name="-",
    format=ProgramFormat.ONE_ON_ONE,
    delivery=Delivery.REMOTE,
    formal=False,
    enrollment_window=EnrollmentWindow(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)),
    cohort=Cohort(date.min, date.max),
)

# Program fields the server sets: a create ignores them, an update refuses them in its mask.
SERVER_FIELDS: Final = frozenset({"program_id", "tenant", "created_at", "updated_at"})

# Domain field path -> request field path (longest prefix wins; the rest is kept, e.g. "[3]").
PROGRAM_FIELDS: Final[Mapping[str, str]] = {
    "tenant": "tenant",
    "program_id": "program_id",
    "enrollment_window.opens": "program.enrollment_window.start",
    "enrollment_window.closes": "program.enrollment_window.end",
    "eligibility.grade_min": "program.eligibility.min_grade",
    "eligibility.grade_max": "program.eligibility.max_grade",
    "eligibility.minimum_tenure_days": "program.eligibility.min_tenure_days",
    "cap_per_mentor": "program.mentor_cap_across_programs",
    "group_size.min_size": "program.group_size.min",
    "group_size.max_size": "program.group_size.max",
    "weights.repeat_penalty": "program.weights.repeat_pairing_penalty",
    "cadence.duration_minutes": "program.cadence.session_minutes",
    "speed_rounds": "program.speed_rounds",
    "remote_min_overlap_hours": "program.min_overlap_hours",
}
PROFILE_FIELDS: Final[Mapping[str, str]] = {
    "profile.nominations": "profile.nominated_mentor_ids",
    "profile.availability.weekly_hours": "profile.availability.hours_per_month",
    "profile.must_haves.same_location": "profile.preferences.must_share_location",
    "profile.must_haves.languages": "profile.preferences.must_speak_languages",
}


def renamed(error: InvalidArgument, renames: Mapping[str, str], default_prefix: str = "") -> InvalidArgument:
    """The same error naming the request's field instead of the domain's."""
    field = error.field
    target = None
    for domain_path in sorted(renames, key=len, reverse=True):
        if field == domain_path or field.startswith((domain_path + ".", domain_path + "[")):
            target = renames[domain_path]
            suffix = field[len(domain_path) :]
            if domain_path == "speed_rounds":
                suffix = ""  # one integer on the wire
            target += suffix
            break
    if target is None:
        target = field if field.startswith(default_prefix) else default_prefix + field
    if target == field:
        return error
    return InvalidArgument(target, error.message.removeprefix(f"{field}: "))


@contextmanager
def request_field_names(renames: Mapping[str, str], default_prefix: str = "") -> Iterator[None]:
    """Re-raise the domain's InvalidArgument naming the request's field (see :func:`renamed`)."""
    try:
        yield
    except InvalidArgument as error:
        clone = renamed(error, renames, default_prefix)
        if clone is error:
            raise
        raise clone from error


# --- enums ---------------------------------------------------------------------------------------------


def _from_wire(wrapper: Any, prefix: str, domain: type[E], number: int, field: str, default: E | None) -> E:
    if number == 0:
        if default is None:
            raise InvalidArgument(field, "is required")
        return default
    try:
        name: str = wrapper.Name(number)
    except ValueError:
        raise InvalidArgument(field, f"unknown value {number}") from None
    return domain(name.removeprefix(prefix))


def _to_wire(wrapper: Any, prefix: str, member: enum.Enum) -> Any:
    return wrapper.Value(prefix + member.value)


def program_format(
    number: int, field: str = "program.format", optional: bool = False
) -> ProgramFormat | None:
    if optional and number == 0:
        return None
    return _from_wire(common_pb2.ProgramFormat, "PROGRAM_FORMAT_", ProgramFormat, number, field, None)


def program_status(number: int, field: str = "status") -> ProgramStatus | None:
    """A status filter: unspecified means any."""
    if number == 0:
        return None
    return _from_wire(common_pb2.ProgramStatus, "PROGRAM_STATUS_", ProgramStatus, number, field, None)


def role(number: int, field: str = "role", optional: bool = False) -> Role | None:
    if optional and number == 0:
        return None
    return _from_wire(common_pb2.Role, "ROLE_", Role, number, field, None)


def enrollment_status(number: int, field: str = "status") -> EnrollmentStatus | None:
    if number == 0:
        return None
    return _from_wire(
        common_pb2.EnrollmentStatus, "ENROLLMENT_STATUS_", EnrollmentStatus, number, field, None
    )


def role_to_wire(member: Role) -> common_pb2.Role.ValueType:
    result: common_pb2.Role.ValueType = _to_wire(common_pb2.Role, "ROLE_", member)
    return result


# --- timestamps ------------------------------------------------------------------------------------------


def day_timestamp(day: date) -> Timestamp:
    return timestamp(datetime.combine(day, time(0), tzinfo=UTC))


# --- programs ------------------------------------------------------------------------------------------


def _range(message: common_pb2.Program, name: str) -> tuple[datetime, datetime]:
    if not message.HasField(name):  # type: ignore[arg-type]
        raise InvalidArgument(f"program.{name}", "is required")
    period: common_pb2.DateRange = getattr(message, name)
    for part in ("start", "end"):
        if not period.HasField(part):
            raise InvalidArgument(f"program.{name}.{part}", "is required")
    return instant(period.start), instant(period.end)


def spec_from_wire(
    message: common_pb2.Program, *, minutes_per_round: int = SPEED_ROUND_MINUTES
) -> ProgramSpec:
    """A whole program spec from the wire (defaults for zeros); the domain validates it."""
    opens, closes = _range(message, "enrollment_window")
    cohort_start, cohort_end = _range(message, "cohort")
    defaults = _DEFAULT_SPEC
    capacity = message.mentor_capacity_default or defaults.mentor_capacity_default
    rules = message.eligibility
    weights = message.weights
    return ProgramSpec(
        name=message.name,
        description=message.description,
        format=_from_wire(
            common_pb2.ProgramFormat, "PROGRAM_FORMAT_", ProgramFormat, message.format, "program.format", None
        ),
        delivery=_from_wire(
            common_pb2.Delivery, "DELIVERY_", Delivery, message.delivery, "program.delivery", None
        ),
        formal=message.formal,
        enrollment_window=EnrollmentWindow(opens, closes),
        cohort=Cohort(cohort_start.date(), cohort_end.date()),
        eligibility=Eligibility(
            departments=frozenset(rules.departments),
            divisions=frozenset(rules.divisions),
            locations=frozenset(rules.locations),
            grade_min=rules.min_grade or None,
            grade_max=rules.max_grade or None,
            minimum_tenure_days=rules.min_tenure_days,
        ),
        mentor_capacity_default=capacity,
        cap_per_mentor=message.mentor_cap_across_programs or max(defaults.cap_per_mentor, capacity),
        group_size=GroupSize(message.group_size.min, message.group_size.max)
        if message.HasField("group_size") and (message.group_size.min or message.group_size.max)
        else None,
        matching_mode=_from_wire(
            common_pb2.MatchingMode,
            "MATCHING_MODE_",
            MatchingMode,
            message.matching_mode,
            "program.matching_mode",
            defaults.matching_mode,
        ),
        weights=ScoringWeights(
            skills=weights.skills,
            goals=weights.goals,
            nomination=weights.nomination,
            diversity=weights.diversity,
            seniority_gap=weights.seniority_gap,
            repeat_penalty=weights.repeat_pairing_penalty,
        )
        if message.HasField("weights")
        else defaults.weights,
        cadence=SessionCadence(
            every_days=message.cadence.every_days or defaults.cadence.every_days,
            duration_minutes=message.cadence.session_minutes or defaults.cadence.duration_minutes,
        ),
        reverse_skill=message.reverse_skill or None,
        speed_rounds=SpeedRounds(message.speed_rounds, minutes_per_round) if message.speed_rounds else None,
        remote_min_overlap_hours=message.min_overlap_hours or defaults.remote_min_overlap_hours,
        objective=_from_wire(
            common_pb2.MatchingObjective,
            "MATCHING_OBJECTIVE_",
            MatchingObjective,
            message.objective,
            "program.objective",
            defaults.objective,
        ),
        peer_grade_tolerance=message.peer_grade_tolerance or defaults.peer_grade_tolerance,
        response_window_hours=message.response_window_hours or defaults.response_window_hours,
    )


def program_to_wire(program: Program) -> common_pb2.Program:
    spec = program.spec
    rules = spec.eligibility
    message = common_pb2.Program(
        program_id=program.program_id,
        tenant=program.tenant,
        name=spec.name,
        description=spec.description,
        format=_to_wire(common_pb2.ProgramFormat, "PROGRAM_FORMAT_", spec.format),
        delivery=_to_wire(common_pb2.Delivery, "DELIVERY_", spec.delivery),
        formal=spec.formal,
        enrollment_window=common_pb2.DateRange(
            start=timestamp(spec.enrollment_window.opens), end=timestamp(spec.enrollment_window.closes)
        ),
        cohort=common_pb2.DateRange(
            start=day_timestamp(spec.cohort.start), end=day_timestamp(spec.cohort.end)
        ),
        eligibility=common_pb2.Eligibility(
            departments=sorted(rules.departments),
            divisions=sorted(rules.divisions),
            locations=sorted(rules.locations),
            min_grade=rules.grade_min or 0,
            max_grade=rules.grade_max or 0,
            min_tenure_days=rules.minimum_tenure_days,
        ),
        mentor_capacity_default=spec.mentor_capacity_default,
        mentor_cap_across_programs=spec.cap_per_mentor,
        matching_mode=_to_wire(common_pb2.MatchingMode, "MATCHING_MODE_", spec.matching_mode),
        objective=_to_wire(common_pb2.MatchingObjective, "MATCHING_OBJECTIVE_", spec.objective),
        weights=common_pb2.ScoringWeights(
            skills=spec.weights.skills,
            goals=spec.weights.goals,
            nomination=spec.weights.nomination,
            diversity=spec.weights.diversity,
            seniority_gap=spec.weights.seniority_gap,
            repeat_pairing_penalty=spec.weights.repeat_penalty,
        ),
        cadence=common_pb2.SessionCadence(
            every_days=spec.cadence.every_days, session_minutes=spec.cadence.duration_minutes
        ),
        reverse_skill=spec.reverse_skill or "",
        speed_rounds=spec.speed_rounds.rounds if spec.speed_rounds else 0,
        min_overlap_hours=spec.remote_min_overlap_hours,
        peer_grade_tolerance=spec.peer_grade_tolerance,
        response_window_hours=spec.response_window_hours,
        status=_to_wire(common_pb2.ProgramStatus, "PROGRAM_STATUS_", program.status),
        created_at=timestamp(program.created_at),
        updated_at=timestamp(program.updated_at),
    )
    if spec.group_size is not None:
        message.group_size.CopyFrom(
            common_pb2.GroupSize(min=spec.group_size.min_size, max=spec.group_size.max_size)
        )
    return message


def update_paths(message: common_pb2.Program, mask: field_mask_pb2.FieldMask) -> list[str]:
    """The mask's paths, checked; without a mask, every field the request sets (AIP-134), server-set
    ones ignored (so a program read, edited and sent back whole is accepted)."""
    paths = list(mask.paths) or [
        descriptor.name for descriptor, _ in message.ListFields() if descriptor.name not in SERVER_FIELDS
    ]
    if not paths:
        raise InvalidArgument("update_mask", "names no field to change")
    for path in paths:
        if not field_mask_pb2.FieldMask(paths=[path]).IsValidForDescriptor(common_pb2.Program.DESCRIPTOR):
            raise InvalidArgument("update_mask", f"{path!r} is not a field of Program")
        if path.split(".")[0] in SERVER_FIELDS:
            raise InvalidArgument("update_mask", f"{path!r} is set by the server")
    return paths


def program_patch(
    program: Program, message: common_pb2.Program, paths: list[str]
) -> tuple[ProgramPatch, ProgramStatus | None]:
    """The patch that the masked fields of ``message`` make to ``program``, and the status asked for.

    Nested paths (``eligibility.departments``) change only that part: the mask is merged into the
    program as it is on the wire, and the merged whole is read back.
    """
    status_requested = None
    spec_paths = [path for path in paths if path != "status"]
    if "status" in paths:
        status_requested = _from_wire(
            common_pb2.ProgramStatus, "PROGRAM_STATUS_", ProgramStatus, message.status, "program.status", None
        )
    if not spec_paths:
        return ProgramPatch(), status_requested
    merged = program_to_wire(program)
    field_mask_pb2.FieldMask(paths=spec_paths).MergeMessage(
        message, merged, replace_message_field=True, replace_repeated_field=True
    )
    minutes = (
        program.spec.speed_rounds.minutes_per_round if program.spec.speed_rounds else SPEED_ROUND_MINUTES
    )
    spec = spec_from_wire(merged, minutes_per_round=minutes)
    patch = ProgramPatch(**{f.name: getattr(spec, f.name) for f in fields(ProgramSpec)})
    return patch, status_requested


@dataclass(frozen=True)
class MaskedProgramEdit:
    """An update request's masked fields, applied to the stored program by :func:`program_patch`."""

    message: common_pb2.Program
    paths: tuple[str, ...]

    def __call__(self, program: Program) -> tuple[ProgramPatch, ProgramStatus | None]:
        return program_patch(program, self.message, list(self.paths))


def program_edit(message: common_pb2.Program, paths: list[str]) -> MaskedProgramEdit:
    """What an UpdateProgram request asks (``paths`` from :func:`update_paths`)."""
    return MaskedProgramEdit(message, tuple(paths))


# --- profiles ------------------------------------------------------------------------------------------


def profile_from_wire(message: common_pb2.Profile) -> Profile:
    hours = message.availability.hours_per_month
    if not 0 <= hours <= MAX_HOURS_PER_MONTH:
        raise InvalidArgument(
            "profile.availability.hours_per_month", f"must be between 0 and {MAX_HOURS_PER_MONTH}"
        )
    start, end = message.availability.work_start_hour, message.availability.work_end_hour
    availability = Availability(
        work_start_hour=None if start == end == 0 else start,
        work_end_hour=None if start == end == 0 else end,
    )
    if hours:
        availability = replace(availability, weekly_hours=hours / WEEKS_PER_MONTH)
    return Profile(
        skills_offered=tuple(message.skills_offered),
        skills_wanted=tuple(message.skills_wanted),
        goals=tuple(
            Goal(
                what=goal.what,
                metric=goal.metric or None,
                target=goal.target or None,
                due=instant(goal.due).date() if goal.HasField("due") else None,
                goal_id=goal.goal_id,
                skill_tags=tuple(goal.skill_tags),
            )
            for goal in message.goals
        ),
        nominations=tuple(message.nominated_mentor_ids),
        languages=tuple(message.languages),
        availability=availability,
        capacity=message.capacity or None,
        preferences=Preferences(prefers_other_department=message.preferences.prefers_other_department),
        must_haves=MustHaves(
            same_location=message.preferences.must_share_location,
            languages=tuple(message.preferences.must_speak_languages),
        ),
        requested_skill_areas=tuple(message.requested_skill_areas),
    )


def _goal_to_wire(goal: Goal) -> common_pb2.Goal:
    message = common_pb2.Goal(
        goal_id=goal.goal_id,
        what=goal.what,
        metric=goal.metric or "",
        target=goal.target or "",
        skill_tags=list(goal.skill_tags),
    )
    if goal.due is not None:
        message.due.CopyFrom(day_timestamp(goal.due))
    return message


def _availability_to_wire(availability: Availability) -> common_pb2.Availability:
    return common_pb2.Availability(
        hours_per_month=round(availability.weekly_hours * WEEKS_PER_MONTH),
        work_start_hour=availability.work_start_hour or 0,
        work_end_hour=availability.work_end_hour or 0,
    )


def profile_to_wire(profile: Profile, *, languages: tuple[str, ...] | None = None) -> common_pb2.Profile:
    return common_pb2.Profile(
        skills_offered=list(profile.skills_offered),
        skills_wanted=list(profile.skills_wanted),
        goals=[_goal_to_wire(goal) for goal in profile.goals],
        nominated_mentor_ids=list(profile.nominations),
        languages=list(profile.languages if languages is None else languages),
        availability=_availability_to_wire(profile.availability),
        capacity=profile.capacity or 0,
        preferences=common_pb2.Preferences(
            prefers_other_department=profile.preferences.prefers_other_department,
            must_share_location=profile.must_haves.same_location,
            must_speak_languages=list(profile.must_haves.languages),
        ),
        requested_skill_areas=list(profile.requested_skill_areas),
    )


# --- participants, enrollments, contacts -----------------------------------------------------------------


def participant_to_wire(participant: Participant) -> common_pb2.Participant:
    """Matching's view: opaque ids and attributes, never a name or an e-mail address."""
    profile = Profile(
        skills_offered=participant.skills_offered,
        skills_wanted=participant.skills_wanted,
        goals=participant.goals,
        nominations=participant.nominations,
        availability=participant.availability,
        capacity=participant.capacity,
        preferences=participant.preferences,
        must_haves=participant.must_haves,
        requested_skill_areas=participant.requested_skill_areas,
    )
    return common_pb2.Participant(
        enrollment_id=participant.enrollment_id,
        program_id=participant.program_id,
        employee_id=participant.employee_id,
        role=role_to_wire(participant.role),
        grade=participant.grade or 0,
        department=participant.department or "",
        division=participant.division or "",
        location=participant.location or "",
        timezone=participant.timezone or "",
        profile=profile_to_wire(profile, languages=participant.languages),
        management_chain_ids=list(participant.management_chain),
        mentor_cap_across_programs=participant.cap_across_programs or 0,
        status=_to_wire(common_pb2.EnrollmentStatus, "ENROLLMENT_STATUS_", participant.status),
    )


def status_reason(enrollment: Enrollment) -> str:
    if enrollment.withdrawal_reason:
        return enrollment.withdrawal_reason
    return enrollment.pause_reason.value.lower() if enrollment.pause_reason else ""


def enrollment_to_wire(enrollment: Enrollment) -> enrollment_pb2.Enrollment:
    return enrollment_pb2.Enrollment(
        enrollment_id=enrollment.enrollment_id,
        program_id=enrollment.program_id,
        employee_id=enrollment.employee_id,
        role=role_to_wire(enrollment.role),
        profile=profile_to_wire(enrollment.profile),
        status=_to_wire(common_pb2.EnrollmentStatus, "ENROLLMENT_STATUS_", enrollment.status),
        status_reason=status_reason(enrollment),
    )


def contact_to_wire(employee: Employee) -> enrollment_pb2.EmployeeContact:
    return enrollment_pb2.EmployeeContact(
        employee_id=employee.employee_id,
        display_name=employee.display_name or "",
        email=employee.email or "",
        timezone=employee.timezone or "",
        status=_to_wire(common_pb2.EmployeeStatus, "EMPLOYEE_STATUS_", employee.status),
    )


def employee_status_to_wire(status: EmployeeStatus) -> common_pb2.EmployeeStatus.ValueType:
    result: common_pb2.EmployeeStatus.ValueType = _to_wire(
        common_pb2.EmployeeStatus, "EMPLOYEE_STATUS_", status
    )
    return result


# --- HRIS worker records -----------------------------------------------------------------------------------

# The message each HRIS event type travels in (its CloudEvents type comes from the registry).
WORKER_MESSAGES: Final[Mapping[HrisEventType, type[Message]]] = {
    HrisEventType.HIRED: events_pb2.WorkerHired,
    HrisEventType.UPDATED: events_pb2.WorkerUpdated,
    HrisEventType.TRANSFERRED: events_pb2.WorkerTransferred,
    HrisEventType.LEAVE_STARTED: events_pb2.WorkerLeaveStarted,
    HrisEventType.LEAVE_ENDED: events_pb2.WorkerLeaveEnded,
    HrisEventType.TERMINATED: events_pb2.WorkerTerminated,
    HrisEventType.REHIRED: events_pb2.WorkerRehired,
    HrisEventType.ERASED: events_pb2.WorkerErased,
}

# WorkerRecord optional string fields -> SCIM attribute names the domain's mapper reads.
_WORKER_TEXT_FIELDS: Final = (
    ("manager", "manager"),
    ("department", "department"),
    ("division", "division"),
    ("organization", "organization"),
    ("cost_center", "costCenter"),
    ("name", "name"),
    ("email", "email"),
    ("title", "title"),
    ("location", "location"),
    ("timezone", "timezone"),
    ("status", "status"),
)


def worker_change_to_scim(change: events_pb2.WorkerChange) -> dict[str, object]:
    """A binary-mode HRIS change as the SCIM-named record the structured mode carries.

    Presence follows the proto: an optional field that is set is carried (an empty string clears it),
    an unset one leaves the attribute unchanged; lists are carried when their ``*_present`` flag is on.
    """
    worker = change.worker
    record: dict[str, object] = {"employeeNumber": worker.employee_number, "sequence": change.sequence}
    for proto_name, scim_name in _WORKER_TEXT_FIELDS:
        if worker.HasField(proto_name):  # type: ignore[arg-type]
            record[scim_name] = getattr(worker, proto_name)
    if worker.HasField("grade"):
        record["grade"] = worker.grade
    if worker.languages_present:
        record["languages"] = list(worker.languages)
    if worker.skills_present:
        record["skills"] = list(worker.skills)
    if worker.HasField("hire_date"):
        record["hireDate"] = instant(worker.hire_date).date().isoformat()
    if worker.HasField("termination_date"):
        record["terminationDate"] = instant(worker.termination_date).date().isoformat()
    if change.HasField("effective_time"):
        record["effectiveTime"] = instant(change.effective_time).isoformat()
    return record


# --- outgoing events -----------------------------------------------------------------------------------


def withdrawal_cause_to_wire(cause: WithdrawalCause) -> common_pb2.WithdrawalCause.ValueType:
    result: common_pb2.WithdrawalCause.ValueType = _to_wire(
        common_pb2.WithdrawalCause, "WITHDRAWAL_CAUSE_", cause
    )
    return result


def pause_cause_to_wire(cause: PauseReason) -> common_pb2.PauseCause.ValueType:
    result: common_pb2.PauseCause.ValueType = _to_wire(common_pb2.PauseCause, "PAUSE_CAUSE_", cause)
    return result


def event_to_wire(event: DomainEvent, views: Mapping[str, Participant]) -> tuple[Message, str]:
    """The protobuf payload and the CloudEvents subject of a domain event. ``views``: the participant
    of each paused or withdrawn enrollment (those events carry ids; the wire carries the participant)."""
    if isinstance(event, ProgramCreated):
        return events_pb2.ProgramCreated(program=program_to_wire(event.program)), event.program.program_id
    if isinstance(event, ProgramUpdated):
        return events_pb2.ProgramUpdated(program=program_to_wire(event.program)), event.program.program_id
    if isinstance(event, ProgramClosed):
        return events_pb2.ProgramClosed(program_id=event.program_id), event.program_id
    if isinstance(event, ParticipantEnrolled):
        participant = participant_to_wire(event.participant)
        return events_pb2.ParticipantEnrolled(participant=participant), event.participant.enrollment_id
    if isinstance(event, ParticipantUpdated):
        participant = participant_to_wire(event.participant)
        return events_pb2.ParticipantUpdated(participant=participant), event.participant.enrollment_id
    if isinstance(event, ParticipantResumed):
        participant = participant_to_wire(event.participant)
        return events_pb2.ParticipantResumed(participant=participant), event.participant.enrollment_id
    if isinstance(event, ParticipantPaused):
        return events_pb2.ParticipantPaused(
            participant=participant_to_wire(views[event.enrollment_id]),
            reason=event.reason,
            cause=pause_cause_to_wire(event.cause),
        ), event.enrollment_id
    if isinstance(event, ParticipantWithdrawn):
        return events_pb2.ParticipantWithdrawn(
            participant=participant_to_wire(views[event.enrollment_id]),
            reason=event.reason,
            cause=withdrawal_cause_to_wire(event.cause),
        ), event.enrollment_id
    return events_pb2.EmployeeErased(employee_id=event.employee_id), event.employee_id
