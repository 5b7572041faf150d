"""The matching model: participants, program settings, and what a solver returns.

Everything here is a frozen, slotted dataclass or a string enum, so values can cross threads, be hashed
where they hold no mappings, and be turned into JSON by ``audit``. Skills, goal tags and languages are
normalised on construction (trimmed, inner whitespace collapsed, case-folded: the enrollment service's
rule), so ``"Machine  Learning"`` and ``"machine learning"`` are one skill; locations, departments and
divisions are normalised the same way (``"Berlin"`` is ``"berlin"``). Ids (participant, employee,
nominations, chains, partners) are opaque and compare exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from services.shared.errors import InvalidArgument

MAX_NOMINATIONS: Final = 10
MINUTES_PER_DAY: Final = 24 * 60
# Scores are kept in integer milli-points so that solvers, tests and reports agree to the unit.
SCORE_SCALE: Final = 1000

COMPONENTS: Final = ("skills", "goals", "nomination", "diversity", "seniority_gap", "repeat_pairing")


class Role(enum.StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    PEER = "peer"


class ProgramFormat(enum.StrEnum):
    ONE_ON_ONE = "one_on_one"
    GROUP = "group"
    PEER = "peer"
    REVERSE = "reverse"
    SPEED = "speed"


class Delivery(enum.StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"
    HYBRID = "hybrid"


class Objective(enum.StrEnum):
    """What a solver maximises. Both are lexicographic and exact on the graph a solver is given.

    ``MAX_MATCHED_THEN_SCORE``: the most people matched, then the highest total score among those.
    ``MAX_SCORE``: the highest total score (a pair with a negative score is never formed), then the most
    people matched among those.
    """

    MAX_MATCHED_THEN_SCORE = "max_matched_then_score"
    MAX_SCORE = "max_score"


def normalise_tag(value: str) -> str:
    """Trim, collapse inner whitespace and case-fold (same rule as the enrollment service)."""
    return " ".join(value.split()).casefold()


def normalise_tags(values: Iterable[str]) -> frozenset[str]:
    return frozenset(tag for tag in (normalise_tag(value) for value in values) if tag)


@dataclass(frozen=True, slots=True)
class Participant:
    """One person enrolled in one program, as the matching engine sees them.

    ``participant_id`` is the enrollment's opaque id; ``employee_id`` is the HRIS worker id (the same
    person across programs). ``management_chain`` lists employee ids upwards: manager, skip-level, ...,
    top. ``nominations`` are employee ids of mentors the mentee admires, best first (at most 10).
    ``past_partner_ids`` are employee ids of earlier partners in any program; ``declined_partner_ids``
    are employee ids of people this person declined, or was declined by, in this program (a hard rule:
    never proposed again). Working hours are minutes
    after local midnight; ``work_end_minute`` < ``work_start_minute`` means a shift over midnight.
    ``utc_offset_minutes``, when given, wins over ``timezone`` (an IANA name resolved for the program's
    reference date). ``capacity`` is how many partners this person takes in this program;
    ``load_elsewhere`` counts active matches in other programs and ``global_cap`` caps all programs
    together. ``ineligible_reason`` is set upstream by the eligibility rules of the program.
    Must-haves are hard rules on the counterpart (mentor; for PEER each peer's must-haves bind the
    other): offer every ``must_have_skills``, speak every ``must_have_languages``, share the location
    (``must_share_location``), grade at least ``must_have_min_grade``. ``do_not_pair_ids`` are employee
    ids this person is never paired with, either way round (HR's conflicts of interest and the person's
    own "not with").
    """

    participant_id: str
    employee_id: str
    role: Role
    grade: int
    department: str = ""
    division: str = ""
    location: str = ""
    timezone: str = "UTC"
    utc_offset_minutes: int | None = None
    work_start_minute: int = 9 * 60
    work_end_minute: int = 17 * 60
    languages: frozenset[str] = frozenset()
    skills_offered: frozenset[str] = frozenset()
    skills_wanted: frozenset[str] = frozenset()
    goal_skill_tags: frozenset[str] = frozenset()
    nominations: tuple[str, ...] = ()
    management_chain: tuple[str, ...] = ()
    capacity: int = 1
    load_elsewhere: int = 0
    global_cap: int | None = None
    prefers_other_department: bool = False
    past_partner_ids: frozenset[str] = frozenset()
    declined_partner_ids: frozenset[str] = frozenset()
    requested_skill_areas: tuple[str, ...] = ()
    ineligible_reason: str | None = None
    must_have_skills: frozenset[str] = frozenset()
    must_have_languages: frozenset[str] = frozenset()
    must_share_location: bool = False
    must_have_min_grade: int | None = None
    do_not_pair_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.participant_id:
            raise InvalidArgument("participant_id", "must not be empty")
        if not self.employee_id:
            raise InvalidArgument("employee_id", "must not be empty")
        object.__setattr__(self, "role", Role(self.role))
        for name in (
            "languages",
            "skills_offered",
            "skills_wanted",
            "goal_skill_tags",
            "must_have_skills",
            "must_have_languages",
        ):
            object.__setattr__(self, name, normalise_tags(getattr(self, name)))
        for name in ("location", "department", "division"):
            object.__setattr__(self, name, normalise_tag(getattr(self, name)))
        object.__setattr__(self, "past_partner_ids", frozenset(self.past_partner_ids))
        object.__setattr__(self, "declined_partner_ids", frozenset(self.declined_partner_ids))
        object.__setattr__(self, "do_not_pair_ids", frozenset(self.do_not_pair_ids))
        # Duplicated nominations keep their best rank.
        nominations = tuple(dict.fromkeys(self.nominations))
        if len(nominations) > MAX_NOMINATIONS:
            raise InvalidArgument("nominations", f"at most {MAX_NOMINATIONS} nominations")
        object.__setattr__(self, "nominations", nominations)
        object.__setattr__(self, "management_chain", tuple(self.management_chain))
        areas = tuple(dict.fromkeys(tag for tag in map(normalise_tag, self.requested_skill_areas) if tag))
        object.__setattr__(self, "requested_skill_areas", areas)
        for name in ("work_start_minute", "work_end_minute"):
            minute = getattr(self, name)
            if not 0 <= minute <= MINUTES_PER_DAY:
                raise InvalidArgument(name, f"must be within 0..{MINUTES_PER_DAY}")
        if self.work_start_minute % MINUTES_PER_DAY == self.work_end_minute % MINUTES_PER_DAY:
            raise InvalidArgument("work_end_minute", "working hours must not be empty")
        if self.capacity < 0:
            raise InvalidArgument("capacity", "must be >= 0")
        if self.load_elsewhere < 0:
            raise InvalidArgument("load_elsewhere", "must be >= 0")
        if self.global_cap is not None and self.global_cap < 0:
            raise InvalidArgument("global_cap", "must be >= 0")
        if self.utc_offset_minutes is not None and not -14 * 60 <= self.utc_offset_minutes <= 14 * 60:
            raise InvalidArgument("utc_offset_minutes", "must be within -840..840")

    @property
    def remaining_capacity(self) -> int:
        """Partners this person can still take here: min(capacity, global cap - load elsewhere), >= 0."""
        remaining = self.capacity
        if self.global_cap is not None:
            remaining = min(remaining, self.global_cap - self.load_elsewhere)
        return max(remaining, 0)

    @property
    def working_minutes(self) -> int:
        return (self.work_end_minute - self.work_start_minute) % MINUTES_PER_DAY


@dataclass(frozen=True, slots=True)
class ScoringWeights:
    """Points of each soft-score component; a component's value in [0, 1] is multiplied by its weight.

    ``repeat_pairing`` is a penalty: its points are subtracted. With the defaults a pair scores at most
    100 and at least -30.
    """

    skills: float = 35.0
    goals: float = 25.0
    nomination: float = 20.0
    diversity: float = 10.0
    seniority_gap: float = 10.0
    repeat_pairing: float = 30.0

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            value = getattr(self, name)
            if not 0 <= value <= 1000:
                raise InvalidArgument(f"weights.{name}", "must be within 0..1000")


@dataclass(frozen=True, slots=True)
class ProgramSettings:
    """How one program matches. Pruning and solver knobs have safe defaults.

    ``candidates_per_mentee`` / ``candidates_per_mentor``: the assignment solver starts from the best
    ``k`` feasible pairs of each mentee and of each mentor, then proves optimality on the full graph with
    LP duals and adds any pair that could improve the result (0 = give it the full graph at once).
    ``reference_date`` fixes the UTC offsets of IANA timezones (daylight saving); ``None`` = today (UTC).
    """

    program_id: str = "program"
    format: ProgramFormat = ProgramFormat.ONE_ON_ONE
    delivery: Delivery = Delivery.REMOTE
    objective: Objective = Objective.MAX_MATCHED_THEN_SCORE
    weights: ScoringWeights = field(default_factory=ScoringWeights)
    min_overlap_minutes: int = 120
    peer_grade_tolerance: int = 1
    reverse_skills: frozenset[str] = frozenset()
    group_min_size: int = 2
    group_max_size: int = 6
    speed_rounds: int = 3
    multi_mentor_per_skill: bool = False
    mentee_choice: bool = False
    choice_fallback_to_scores: bool = False
    preferred_gap_min: int = 1
    preferred_gap_max: int = 3
    reference_date: date | None = None
    candidates_per_mentee: int = 16
    candidates_per_mentor: int = 4
    certify_optimality: bool = True
    solver_time_limit_seconds: float = 20.0
    solver_workers: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", ProgramFormat(self.format))
        object.__setattr__(self, "delivery", Delivery(self.delivery))
        object.__setattr__(self, "objective", Objective(self.objective))
        object.__setattr__(self, "reverse_skills", normalise_tags(self.reverse_skills))
        if self.format is ProgramFormat.REVERSE and not self.reverse_skills:
            raise InvalidArgument("reverse_skills", "a reverse program names at least one skill")
        if not 0 <= self.min_overlap_minutes <= MINUTES_PER_DAY:
            raise InvalidArgument("min_overlap_minutes", f"must be within 0..{MINUTES_PER_DAY}")
        if self.peer_grade_tolerance < 0:
            raise InvalidArgument("peer_grade_tolerance", "must be >= 0")
        if not 1 <= self.group_min_size <= self.group_max_size:
            raise InvalidArgument("group_min_size", "need 1 <= group_min_size <= group_max_size")
        if self.speed_rounds < 1:
            raise InvalidArgument("speed_rounds", "must be >= 1")
        if not 0 <= self.preferred_gap_min <= self.preferred_gap_max:
            raise InvalidArgument("preferred_gap_min", "need 0 <= preferred_gap_min <= preferred_gap_max")
        if self.candidates_per_mentee < 0 or self.candidates_per_mentor < 0:
            raise InvalidArgument("candidates_per_mentee", "must be >= 0")
        if self.solver_time_limit_seconds <= 0:
            raise InvalidArgument("solver_time_limit_seconds", "must be > 0")
        if self.solver_workers < 1:
            raise InvalidArgument("solver_workers", "must be >= 1")


@dataclass(frozen=True, slots=True)
class Pool:
    """The candidates of one program (eligible or not: ineligible ones get a reason, not a match)."""

    participants: tuple[Participant, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "participants", tuple(self.participants))
        seen: set[str] = set()
        by_role: dict[Role, set[str]] = {role: set() for role in Role}
        for index, participant in enumerate(self.participants):
            if participant.participant_id in seen:
                raise InvalidArgument(f"participants[{index}].participant_id", "duplicate participant id")
            seen.add(participant.participant_id)
            if participant.employee_id in by_role[participant.role]:
                raise InvalidArgument(
                    f"participants[{index}].employee_id", f"employee enrolled twice as {participant.role}"
                )
            by_role[participant.role].add(participant.employee_id)

    def with_role(self, role: Role) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.role is role)


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    """A pair's soft score: ``units`` in milli-points, ``points`` per component (repeat_pairing <= 0)."""

    units: int
    component_units: Mapping[str, int]

    @property
    def total(self) -> float:
        return self.units / SCORE_SCALE

    @property
    def points(self) -> dict[str, float]:
        return {name: value / SCORE_SCALE for name, value in self.component_units.items()}


@dataclass(frozen=True, slots=True)
class Match:
    """One pairing. For PEER both ids are peers (``mentor_id`` < ``mentee_id``) and the score is the mean
    of both directions. ``round_index`` is set for speed mentoring (0-based), ``skill_area`` when a mentee
    has one mentor per requested skill area, ``group_id`` (the mentor's id) for group programs."""

    mentor_id: str
    mentee_id: str
    score: float
    breakdown: Mapping[str, float]
    skill_area: str | None = None
    round_index: int | None = None
    group_id: str | None = None


class UnmatchedCode(enum.StrEnum):
    """Stable codes of why someone was left without a partner."""

    INELIGIBLE = "ineligible"
    ROLE_NOT_IN_FORMAT = "role_not_in_format"
    NO_REMAINING_CAPACITY = "no_remaining_capacity"
    NO_ELIGIBLE_MENTOR = "no_eligible_mentor"
    NO_ELIGIBLE_MENTEE = "no_eligible_mentee"
    NO_ELIGIBLE_PEER = "no_eligible_peer"
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    PARTNERS_MATCHED_ELSEWHERE = "partners_matched_elsewhere"
    SCORE_NOT_BENEFICIAL = "score_not_beneficial"
    GROUP_BELOW_MINIMUM = "group_below_minimum"
    NO_NOMINATIONS = "no_nominations"
    NO_FEASIBLE_NOMINATION = "no_feasible_nomination"
    NOMINATIONS_FULL = "nominations_full"
    NOT_CHOSEN = "not_chosen"
    NO_MENTOR_FOR_SKILL_AREA = "no_mentor_for_skill_area"
    PARTIAL_SCHEDULE = "partial_schedule"
    SOLVER_LIMIT = "solver_limit"


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Why one participant (or one of a mentee's skill areas, or speed rounds) stayed unmatched.

    ``rule_counts`` counts, per hard rule, the counterparts that rule excludes; ``dominant_rule`` is the
    rule that alone excludes the most counterparts (relaxing it would open the most pairs).
    """

    participant_id: str
    role: Role
    code: UnmatchedCode
    text: str
    dominant_rule: str | None = None
    rule_counts: Mapping[str, int] = field(default_factory=dict)
    skill_area: str | None = None


class Optimality(enum.StrEnum):
    PROVEN_OPTIMAL = "proven_optimal"  # exact optimum of the full graph, proven (solver status or duals)
    OPTIMAL_ON_PRUNED_GRAPH = "optimal_on_pruned_graph"  # exact on the candidate graph, not proven on all
    WITHIN_BOUND = "within_bound"  # a proven upper bound is known (share_of_optimum is a lower bound)
    NOT_OPTIMISED = "not_optimised"  # e.g. deferred acceptance: stable, not score-optimal


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Measured quality of one result.

    ``optimum_score`` is the exact optimum of the same objective when known (else a proven upper bound
    when ``optimality`` is WITHIN_BOUND); ``matched`` and ``max_matchable`` count mentees (peers for
    PEER, meetings for SPEED, mentee skill areas for multi-mentor programs); ``blocking_pairs`` counts
    pairs that both prefer each other to what they got (None where not defined).
    """

    solver: str
    objective: Objective
    total_score: float
    optimum_score: float | None
    share_of_optimum: float | None
    optimality: Optimality
    matched: int
    max_matchable: int | None
    candidates: int
    blocking_pairs: int | None
    solve_seconds: float
    details: Mapping[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MatchingResult:
    program_id: str
    format: ProgramFormat
    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    quality: QualityReport
