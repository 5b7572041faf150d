"""Value objects of an enrollment: role, status, the participant's profile and goals."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, time


class Role(enum.Enum):
    MENTOR = "MENTOR"
    MENTEE = "MENTEE"
    PEER = "PEER"


class EnrollmentStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    WITHDRAWN = "WITHDRAWN"


class PauseReason(enum.Enum):
    LEAVE = "LEAVE"


class WithdrawalCause(enum.Enum):
    """Why an enrollment was withdrawn (published next to the free-text reason)."""

    REQUESTED = "REQUESTED"  # the participant or HR withdrew it
    TERMINATED = "TERMINATED"  # the employee left the organisation (HRIS)
    ERASED = "ERASED"  # the employee's personal data was erased


@dataclass(frozen=True)
class Goal:
    """What the participant wants to achieve.

    Measurable (what a FORMAL program requires of a mentee): ``what``, ``metric`` and ``target`` are
    all given and ``due`` falls within the cohort (start <= due <= end), so progress can be tracked
    while the cohort runs.
    """

    what: str
    metric: str | None = None
    target: str | None = None
    due: date | None = None
    goal_id: str = ""  # stable within the profile; assigned ("g1", "g2", ...) when not given
    skill_tags: tuple[str, ...] = ()  # skills the goal is about: matching scores mentors offering them

    def is_measurable(self, cohort_start: date, cohort_end: date) -> bool:
        return (
            bool(self.what and self.metric and self.target)
            and self.due is not None
            and cohort_start <= self.due <= cohort_end
        )


@dataclass(frozen=True)
class TimeSlot:
    """A weekly slot in the participant's own time zone; weekday 0 = Monday."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Availability:
    """Hours a week the participant can give, and optionally when."""

    weekly_hours: float = 1.0
    slots: tuple[TimeSlot, ...] = ()
    # Usual working day in the participant's time zone (0-23 / 1-24; end < start: over midnight), which
    # matching uses for the timezone overlap of remote pairs. None: not given.
    work_start_hour: int | None = None
    work_end_hour: int | None = None


@dataclass(frozen=True)
class Preferences:
    """Soft wishes: matching scores them, never enforces them."""

    prefers_other_department: bool = False
    prefers_other_division: bool = False
    prefers_same_location: bool = False
    max_grade_gap: int | None = None


@dataclass(frozen=True)
class MustHaves:
    """Hard wishes: matching never pairs against them."""

    same_location: bool = False
    shared_language: bool = False
    other_department: bool = False
    languages: tuple[str, ...] = ()  # the partner must speak every one of these


@dataclass(frozen=True)
class Profile:
    """What a participant declares when enrolling. ``capacity`` (mentees at once) is for mentors only;
    ``nominations`` (preferred mentors' employee ids, best first) for mentees and peers only.
    """

    skills_offered: tuple[str, ...] = ()
    skills_wanted: tuple[str, ...] = ()
    goals: tuple[Goal, ...] = ()
    nominations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    availability: Availability = Availability()
    capacity: int | None = None
    preferences: Preferences = Preferences()
    must_haves: MustHaves = MustHaves()
    requested_skill_areas: tuple[str, ...] = ()  # mentees: one mentor per area


EMPTY_PROFILE = Profile(availability=Availability(weekly_hours=0.0))
