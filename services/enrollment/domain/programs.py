"""Program aggregate: what a mentoring program is, who may join, how matching weighs candidates.

Lifecycle: DRAFT (editable, not accepting enrollments) -> OPEN (accepting within the enrollment
window) -> CLOSED (terminal: read-only; existing enrollments and matches live on).

Updates once enrollments exist: ``format`` is frozen (roles and matching depend on it) and ``formal``
may not be switched on (enrolled mentees were never asked for measurable goals); everything else may
change and applies to new enrollments only (existing ones are not re-checked).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Final

from services.enrollment.domain.common import (
    ABSENT,
    MAX_GRADE,
    Absent,
    Carried,
    clean_text,
    require_aware,
    require_enum,
    require_int,
    require_number,
    require_text,
)
from services.shared.errors import InvalidArgument

MAX_NAME_LENGTH: Final = 200
MAX_DESCRIPTION_LENGTH: Final = 5000
MAX_CAPACITY: Final = 50
MAX_RESPONSE_HOURS: Final = 30 * 24
MAX_MANAGERS: Final = 20
MAX_ID_LENGTH: Final = 128


class ProgramFormat(enum.Enum):
    ONE_ON_ONE = "ONE_ON_ONE"
    GROUP = "GROUP"
    PEER = "PEER"
    REVERSE = "REVERSE"
    SPEED = "SPEED"


class Delivery(enum.Enum):
    IN_PERSON = "IN_PERSON"
    REMOTE = "REMOTE"
    HYBRID = "HYBRID"


class MatchingMode(enum.Enum):
    OPTIMISE = "OPTIMISE"
    MENTEE_CHOICE = "MENTEE_CHOICE"
    HR_MANUAL = "HR_MANUAL"


class MatchingObjective(enum.Enum):
    """What the solver maximises: the number matched first (then the score), or the total score."""

    MOST_MATCHED_THEN_SCORE = "MOST_MATCHED_THEN_SCORE"
    BEST_SCORE = "BEST_SCORE"


class ProgramStatus(enum.Enum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class EnrollmentWindow:
    """Enrollments are accepted from ``opens`` (inclusive) to ``closes`` (exclusive)."""

    opens: datetime
    closes: datetime

    def contains(self, moment: datetime) -> bool:
        return self.opens <= moment < self.closes


@dataclass(frozen=True)
class Cohort:
    """The days the mentoring relationships run, both inclusive."""

    start: date
    end: date


@dataclass(frozen=True)
class Eligibility:
    """Who may enrol. An empty set means any; names compare case-insensitively."""

    departments: frozenset[str] = frozenset()
    divisions: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    grade_min: int | None = None
    grade_max: int | None = None
    minimum_tenure_days: int = 0


@dataclass(frozen=True)
class GroupSize:
    """Mentees per group (GROUP programs)."""

    min_size: int
    max_size: int


@dataclass(frozen=True)
class ScoringWeights:
    """Weights of the soft score's terms; all non-negative."""

    skills: float = 1.0
    goals: float = 1.0
    nomination: float = 1.0
    diversity: float = 0.5
    seniority_gap: float = 0.5
    repeat_penalty: float = 1.0


@dataclass(frozen=True)
class SessionCadence:
    """One session every ``every_days`` days (14 ~ two a month), ``duration_minutes`` long."""

    every_days: int = 14
    duration_minutes: int = 60

    @property
    def sessions_per_month(self) -> float:
        return 30.0 / self.every_days


@dataclass(frozen=True)
class SpeedRounds:
    """SPEED programs: how many rotations in an event and how long each lasts."""

    rounds: int
    minutes_per_round: int


@dataclass(frozen=True)
class ProgramSpec:
    """Everything an administrator sets on a program (validated by :func:`validate_spec`)."""

    name: str
    format: ProgramFormat
    delivery: Delivery
    formal: bool
    enrollment_window: EnrollmentWindow
    cohort: Cohort
    description: str = ""
    eligibility: Eligibility = Eligibility()
    mentor_capacity_default: int = 1
    cap_per_mentor: int = 3  # mentees one mentor may have at once across all programs
    group_size: GroupSize | None = None  # required for GROUP, refused otherwise
    matching_mode: MatchingMode = MatchingMode.OPTIMISE
    weights: ScoringWeights = ScoringWeights()
    cadence: SessionCadence = SessionCadence()
    reverse_skill: str | None = None  # required for REVERSE, refused otherwise
    speed_rounds: SpeedRounds | None = None  # required for SPEED, refused otherwise
    remote_min_overlap_hours: float = 2.0  # REMOTE / HYBRID: shared working hours a pair needs
    objective: MatchingObjective = MatchingObjective.MOST_MATCHED_THEN_SCORE
    peer_grade_tolerance: int = 1  # PEER: largest grade difference between peers
    response_window_hours: int = 72  # how long a proposed match waits for both answers
    # Employee ids of the program managers who run this program (set by HR); none: HR alone runs it.
    manager_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProgramPatch:
    """Partial update: ABSENT fields keep their value; nested values are replaced whole."""

    name: Carried[str] = ABSENT
    format: Carried[ProgramFormat] = ABSENT
    delivery: Carried[Delivery] = ABSENT
    formal: Carried[bool] = ABSENT
    enrollment_window: Carried[EnrollmentWindow] = ABSENT
    cohort: Carried[Cohort] = ABSENT
    description: Carried[str] = ABSENT
    eligibility: Carried[Eligibility] = ABSENT
    mentor_capacity_default: Carried[int] = ABSENT
    cap_per_mentor: Carried[int] = ABSENT
    group_size: Carried[GroupSize | None] = ABSENT
    matching_mode: Carried[MatchingMode] = ABSENT
    weights: Carried[ScoringWeights] = ABSENT
    cadence: Carried[SessionCadence] = ABSENT
    reverse_skill: Carried[str | None] = ABSENT
    speed_rounds: Carried[SpeedRounds | None] = ABSENT
    remote_min_overlap_hours: Carried[float] = ABSENT
    objective: Carried[MatchingObjective] = ABSENT
    peer_grade_tolerance: Carried[int] = ABSENT
    response_window_hours: Carried[int] = ABSENT
    manager_ids: Carried[frozenset[str]] = ABSENT

    def carried(self) -> dict[str, object]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not isinstance(getattr(self, f.name), Absent)
        }


@dataclass(frozen=True)
class Program:
    program_id: str
    tenant: str
    spec: ProgramSpec
    status: ProgramStatus
    created_at: datetime
    updated_at: datetime
    revision: int = 1  # +1 per change: optimistic concurrency for the store


def validate_spec(spec: ProgramSpec) -> ProgramSpec:
    """Check every field; return the spec normalised (trimmed text). InvalidArgument names the field."""
    name = require_text(spec.name, "name", max_length=MAX_NAME_LENGTH)
    description = require_text(
        spec.description, "description", max_length=MAX_DESCRIPTION_LENGTH, allow_empty=True
    )
    require_enum(spec.format, ProgramFormat, "format")
    require_enum(spec.delivery, Delivery, "delivery")
    require_enum(spec.matching_mode, MatchingMode, "matching_mode")
    if not isinstance(spec.formal, bool):
        raise InvalidArgument("formal", "must be a boolean")
    _check_window(spec.enrollment_window)
    _check_cohort(spec.cohort, spec.enrollment_window)
    eligibility = _check_eligibility(spec.eligibility)
    require_int(spec.mentor_capacity_default, "mentor_capacity_default", minimum=1, maximum=MAX_CAPACITY)
    require_int(spec.cap_per_mentor, "cap_per_mentor", minimum=1, maximum=MAX_CAPACITY)
    if spec.cap_per_mentor < spec.mentor_capacity_default:
        raise InvalidArgument("cap_per_mentor", "must be at least mentor_capacity_default")
    _check_group_size(spec)
    _check_weights(spec.weights)
    if not isinstance(spec.cadence, SessionCadence):
        raise InvalidArgument("cadence", "must be a SessionCadence")
    require_int(spec.cadence.every_days, "cadence.every_days", minimum=1, maximum=365)
    require_int(spec.cadence.duration_minutes, "cadence.duration_minutes", minimum=5, maximum=480)
    reverse_skill = _check_reverse_skill(spec)
    _check_speed_rounds(spec)
    require_number(spec.remote_min_overlap_hours, "remote_min_overlap_hours", minimum=0.0, maximum=24.0)
    require_enum(spec.objective, MatchingObjective, "objective")
    require_int(spec.peer_grade_tolerance, "peer_grade_tolerance", minimum=0, maximum=MAX_GRADE)
    require_int(spec.response_window_hours, "response_window_hours", minimum=1, maximum=MAX_RESPONSE_HOURS)
    return replace(
        spec,
        name=name,
        description=description,
        eligibility=eligibility,
        reverse_skill=reverse_skill,
        manager_ids=_check_managers(spec.manager_ids),
    )


def _check_managers(values: object) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, frozenset | set | tuple | list):
        raise InvalidArgument("manager_ids", "must be a set of employee ids")
    managers = frozenset(require_text(value, "manager_ids", max_length=MAX_ID_LENGTH) for value in values)
    if len(managers) > MAX_MANAGERS:
        raise InvalidArgument("manager_ids", f"must name at most {MAX_MANAGERS} managers")
    return managers


def _check_window(window: EnrollmentWindow) -> None:
    if not isinstance(window, EnrollmentWindow):
        raise InvalidArgument("enrollment_window", "must be an EnrollmentWindow")
    for part in ("opens", "closes"):
        try:
            require_aware(getattr(window, part), part)
        except ValueError as error:
            raise InvalidArgument(
                f"enrollment_window.{part}", "must be a timezone-aware date-time"
            ) from error
    if window.closes <= window.opens:
        raise InvalidArgument("enrollment_window.closes", "must be after enrollment_window.opens")


def _check_cohort(cohort: Cohort, window: EnrollmentWindow) -> None:
    if not isinstance(cohort, Cohort):
        raise InvalidArgument("cohort", "must be a Cohort")
    for part in ("start", "end"):
        value = getattr(cohort, part)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidArgument(f"cohort.{part}", "must be a date")
    if cohort.end < cohort.start:
        raise InvalidArgument("cohort.end", "must not be before cohort.start")
    if cohort.start < window.opens.date():
        raise InvalidArgument("cohort.start", "must not be before the enrollment window opens")


def _check_eligibility(eligibility: Eligibility) -> Eligibility:
    if not isinstance(eligibility, Eligibility):
        raise InvalidArgument("eligibility", "must be an Eligibility")
    departments = _name_set(eligibility.departments, "eligibility.departments")
    divisions = _name_set(eligibility.divisions, "eligibility.divisions")
    locations = _name_set(eligibility.locations, "eligibility.locations")
    for part in ("grade_min", "grade_max"):
        value = getattr(eligibility, part)
        if value is not None:
            require_int(value, f"eligibility.{part}", minimum=0, maximum=MAX_GRADE)
    if (
        eligibility.grade_min is not None
        and eligibility.grade_max is not None
        and eligibility.grade_min > eligibility.grade_max
    ):
        raise InvalidArgument("eligibility.grade_min", "must not exceed eligibility.grade_max")
    require_int(eligibility.minimum_tenure_days, "eligibility.minimum_tenure_days", minimum=0, maximum=36500)
    return replace(eligibility, departments=departments, divisions=divisions, locations=locations)


def _name_set(values: object, field: str) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, frozenset | set | tuple | list):
        raise InvalidArgument(field, "must be a set of names")
    return frozenset(require_text(value, field, max_length=MAX_NAME_LENGTH) for value in values)


def _check_group_size(spec: ProgramSpec) -> None:
    if spec.format is not ProgramFormat.GROUP:
        if spec.group_size is not None:
            raise InvalidArgument("group_size", "only GROUP programs have a group size")
        return
    if spec.group_size is None:
        raise InvalidArgument("group_size", "is required for a GROUP program")
    if not isinstance(spec.group_size, GroupSize):
        raise InvalidArgument("group_size", "must be a GroupSize")
    require_int(spec.group_size.min_size, "group_size.min_size", minimum=2, maximum=MAX_CAPACITY)
    require_int(spec.group_size.max_size, "group_size.max_size", minimum=2, maximum=MAX_CAPACITY)
    if spec.group_size.min_size > spec.group_size.max_size:
        raise InvalidArgument("group_size.min_size", "must not exceed group_size.max_size")


def _check_weights(weights: ScoringWeights) -> None:
    if not isinstance(weights, ScoringWeights):
        raise InvalidArgument("weights", "must be ScoringWeights")
    for weight in fields(weights):
        require_number(getattr(weights, weight.name), f"weights.{weight.name}", minimum=0.0, maximum=1000.0)


def _check_reverse_skill(spec: ProgramSpec) -> str | None:
    if spec.format is not ProgramFormat.REVERSE:
        if spec.reverse_skill is not None:
            raise InvalidArgument("reverse_skill", "only REVERSE programs name a reverse skill")
        return None
    if spec.reverse_skill is None:
        raise InvalidArgument("reverse_skill", "is required for a REVERSE program")
    return clean_text(require_text(spec.reverse_skill, "reverse_skill", max_length=80)).casefold()


def _check_speed_rounds(spec: ProgramSpec) -> None:
    if spec.format is not ProgramFormat.SPEED:
        if spec.speed_rounds is not None:
            raise InvalidArgument("speed_rounds", "only SPEED programs have rounds")
        return
    if spec.speed_rounds is None:
        raise InvalidArgument("speed_rounds", "is required for a SPEED program")
    if not isinstance(spec.speed_rounds, SpeedRounds):
        raise InvalidArgument("speed_rounds", "must be SpeedRounds")
    require_int(spec.speed_rounds.rounds, "speed_rounds.rounds", minimum=1, maximum=50)
    require_int(spec.speed_rounds.minutes_per_round, "speed_rounds.minutes_per_round", minimum=3, maximum=120)
