"""Programs, domain <-> wire: a whole spec from a create, the program back, and an update's
masked fields merged into the stored program."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Final

from google.protobuf import field_mask_pb2
from mentoring.v1 import common_pb2

from services.enrollment.adapters.translate.enums import day_timestamp, enum_from_wire, enum_to_wire
from services.enrollment.domain import (
    Cohort,
    Delivery,
    Eligibility,
    EnrollmentWindow,
    GroupSize,
    MatchingMode,
    MatchingObjective,
    Program,
    ProgramFormat,
    ProgramPatch,
    ProgramSpec,
    ProgramStatus,
    ScoringWeights,
    SessionCadence,
    SpeedRounds,
)
from services.shared.errors import InvalidArgument, shown
from services.shared.timestamps import instant, timestamp

# The proto has no length for a speed round; rounds of this many minutes are assumed.
SPEED_ROUND_MINUTES: Final = 10

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
        format=enum_from_wire(
            common_pb2.ProgramFormat, "PROGRAM_FORMAT_", ProgramFormat, message.format, "program.format", None
        ),
        delivery=enum_from_wire(
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
        matching_mode=enum_from_wire(
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
        objective=enum_from_wire(
            common_pb2.MatchingObjective,
            "MATCHING_OBJECTIVE_",
            MatchingObjective,
            message.objective,
            "program.objective",
            defaults.objective,
        ),
        peer_grade_tolerance=message.peer_grade_tolerance or defaults.peer_grade_tolerance,
        response_window_hours=message.response_window_hours or defaults.response_window_hours,
        manager_ids=frozenset(message.manager_ids),
    )


def program_to_wire(program: Program) -> common_pb2.Program:
    spec = program.spec
    rules = spec.eligibility
    message = common_pb2.Program(
        program_id=program.program_id,
        tenant=program.tenant,
        name=spec.name,
        description=spec.description,
        format=enum_to_wire(common_pb2.ProgramFormat, "PROGRAM_FORMAT_", spec.format),
        delivery=enum_to_wire(common_pb2.Delivery, "DELIVERY_", spec.delivery),
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
        matching_mode=enum_to_wire(common_pb2.MatchingMode, "MATCHING_MODE_", spec.matching_mode),
        objective=enum_to_wire(common_pb2.MatchingObjective, "MATCHING_OBJECTIVE_", spec.objective),
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
        status=enum_to_wire(common_pb2.ProgramStatus, "PROGRAM_STATUS_", program.status),
        created_at=timestamp(program.created_at),
        updated_at=timestamp(program.updated_at),
        manager_ids=sorted(spec.manager_ids),
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
            raise InvalidArgument("update_mask", f"{shown(path)!r} is not a field of Program")
        if path.split(".")[0] in SERVER_FIELDS:
            raise InvalidArgument("update_mask", f"{shown(path)!r} is set by the server")
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
        status_requested = enum_from_wire(
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
