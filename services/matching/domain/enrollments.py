"""What enrollment tells matching: programs and the participants enrolled in them, as matching keeps
them in its candidate pools. Numbers keep the contract's convention: zero means "the default" (group
sizes, speed rounds, the minimum timezone overlap, the peer grade tolerance, capacities, windows)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from services.matching.domain.model import Delivery, Objective, ProgramFormat, Role


class MatchingMode(enum.StrEnum):
    OPTIMISE = "optimise"
    MENTEE_CHOICE = "mentee_choice"
    HR_MANUAL = "hr_manual"  # HR matches by hand; the solver only suggests


class ProgramStatus(enum.StrEnum):
    UNSPECIFIED = "unspecified"
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class EnrollmentStatus(enum.StrEnum):
    UNSPECIFIED = "unspecified"
    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who may take part (empty or zero: no restriction)."""

    departments: tuple[str, ...] = ()
    divisions: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    min_grade: int = 0
    max_grade: int = 0
    min_tenure_days: int = 0


@dataclass(frozen=True, slots=True)
class ProgramWeights:
    """Scoring weights as the program gives them; all zero means the engine's defaults."""

    skills: float = 0.0
    goals: float = 0.0
    nomination: float = 0.0
    diversity: float = 0.0
    seniority_gap: float = 0.0
    repeat_pairing_penalty: float = 0.0


@dataclass(frozen=True, slots=True)
class Program:
    program_id: str
    tenant: str = ""
    format: ProgramFormat = ProgramFormat.ONE_ON_ONE
    delivery: Delivery = Delivery.REMOTE
    eligibility: Eligibility = field(default_factory=Eligibility)
    mentor_capacity_default: int = 0
    mentor_cap_across_programs: int = 0
    group_min_size: int = 0
    group_max_size: int = 0
    matching_mode: MatchingMode = MatchingMode.OPTIMISE
    objective: Objective = Objective.MAX_MATCHED_THEN_SCORE
    weights: ProgramWeights = field(default_factory=ProgramWeights)
    reverse_skill: str = ""
    speed_rounds: int = 0
    min_overlap_hours: float = 0.0
    peer_grade_tolerance: int = 0
    response_window_hours: int = 0
    status: ProgramStatus = ProgramStatus.UNSPECIFIED
    manager_ids: tuple[str, ...] = ()  # employee ids of the program managers who run it

    @property
    def closed(self) -> bool:
        return self.status is ProgramStatus.CLOSED


@dataclass(frozen=True, slots=True)
class Goal:
    goal_id: str = ""
    skill_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """What an employee declares when enrolling (no names or e-mails: those stay in enrollment)."""

    skills_offered: tuple[str, ...] = ()
    skills_wanted: tuple[str, ...] = ()
    goals: tuple[Goal, ...] = ()
    nominated_mentor_ids: tuple[str, ...] = ()  # ranked
    languages: tuple[str, ...] = ()
    hours_per_month: int = 0
    work_start_hour: int = 0  # local time; start == end (e.g. both unset) means the default day
    work_end_hour: int = 0
    capacity: int = 0  # mentors: mentees at once in this program; 0: the program's default
    prefers_other_department: bool = False
    must_share_location: bool = False
    must_speak_languages: tuple[str, ...] = ()
    requested_skill_areas: tuple[str, ...] = ()  # one mentor per area


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A participant of one program: opaque ids and attributes."""

    enrollment_id: str
    program_id: str
    employee_id: str
    role: Role | None  # None: a role matching does not know
    grade: int = 0
    department: str = ""
    division: str = ""
    location: str = ""
    timezone: str = ""
    profile: Profile = field(default_factory=Profile)
    management_chain_ids: tuple[str, ...] = ()  # manager first, then skip-level, up to the top
    mentor_cap_across_programs: int = 0
    status: EnrollmentStatus = EnrollmentStatus.UNSPECIFIED

    @property
    def active(self) -> bool:
        return self.status is EnrollmentStatus.ACTIVE
