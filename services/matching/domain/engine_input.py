"""The engine's inputs from what enrollment published: a program's settings and a participant's view.

A zero in the program means "the default" for group sizes, speed rounds, the minimum timezone overlap
and the peer grade tolerance, as the enrollment service documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.matching.domain.enrollments import Enrollment, MatchingMode, Profile, Program, ProgramWeights
from services.matching.domain.model import (
    Participant,
    ProgramFormat,
    ProgramSettings,
    Role,
    ScoringWeights,
)
from services.shared.errors import InvalidArgument

DEFAULT_WORK_START_HOUR: Final = 9
DEFAULT_WORK_END_HOUR: Final = 17


def _weights(weights: ProgramWeights) -> ScoringWeights:
    values = {
        "skills": weights.skills,
        "goals": weights.goals,
        "nomination": weights.nomination,
        "diversity": weights.diversity,
        "seniority_gap": weights.seniority_gap,
        "repeat_pairing": weights.repeat_pairing_penalty,
    }
    if not any(values.values()):
        return ScoringWeights()  # none given: the engine's defaults
    try:
        return ScoringWeights(**values)
    except InvalidArgument as error:
        raise InvalidArgument(f"program.{error.field}", error.message.split(": ", 1)[-1]) from error


def program_settings(
    program: Program,
    *,
    multi_mentor_per_skill: bool = False,
    solver_time_limit_seconds: float = 20.0,
    solver_workers: int = 2,
) -> ProgramSettings:
    """The engine's settings of a program. A mentee-choice program falls back to scores for mentees whose
    nominations cannot be honoured, so nobody is left out only for not nominating."""
    mentee_choice = program.matching_mode is MatchingMode.MENTEE_CHOICE
    try:
        return ProgramSettings(
            program_id=program.program_id or "program",
            format=program.format,
            delivery=program.delivery,
            objective=program.objective,
            weights=_weights(program.weights),
            min_overlap_minutes=round(program.min_overlap_hours * 60) if program.min_overlap_hours else 120,
            peer_grade_tolerance=program.peer_grade_tolerance or 1,
            reverse_skills=frozenset({program.reverse_skill} if program.reverse_skill.strip() else ()),
            group_min_size=program.group_min_size or 2,
            group_max_size=program.group_max_size or max(6, program.group_min_size),
            speed_rounds=program.speed_rounds or 3,
            multi_mentor_per_skill=multi_mentor_per_skill,
            mentee_choice=mentee_choice,
            choice_fallback_to_scores=mentee_choice,
            solver_time_limit_seconds=solver_time_limit_seconds,
            solver_workers=solver_workers,
        )
    except InvalidArgument as error:
        field = {"reverse_skills": "reverse_skill", "min_overlap_minutes": "min_overlap_hours"}.get(
            error.field, error.field
        )
        raise InvalidArgument(f"program.{field}", error.message.split(": ", 1)[-1]) from error


def uses_skill_areas(program: Program, participants: Iterable[Enrollment]) -> bool:
    """One mentor per requested skill area, when a one-on-one program's mentees asked for areas."""
    return program.format is ProgramFormat.ONE_ON_ONE and any(
        p.role is Role.MENTEE and p.profile.requested_skill_areas for p in participants
    )


def best_possible_score(settings: ProgramSettings) -> float:
    """The most a pair can score in the program (every positive component at its full weight)."""
    weights = settings.weights
    return weights.skills + weights.goals + weights.nomination + weights.diversity + weights.seniority_gap


def ineligibility(program: Program, participant: Enrollment) -> str | None:
    """Why the program's eligibility rules exclude the participant now (their attributes may have
    changed since they enrolled), or None. Tenure is checked by enrollment at enrolment time."""
    rules = program.eligibility
    if rules.departments and participant.department not in rules.departments:
        return "department is not eligible for this program"
    if rules.divisions and participant.division not in rules.divisions:
        return "division is not eligible for this program"
    if rules.locations and participant.location not in rules.locations:
        return "location is not eligible for this program"
    if rules.min_grade and participant.grade < rules.min_grade:
        return f"grade below the program's minimum {rules.min_grade}"
    if rules.max_grade and participant.grade > rules.max_grade:
        return f"grade above the program's maximum {rules.max_grade}"
    if participant.timezone and not _known_timezone(participant.timezone):
        return "timezone is not a known IANA zone"
    return None


def _known_timezone(name: str) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _working_minutes(profile: Profile) -> tuple[int, int]:
    start = profile.work_start_hour
    end = profile.work_end_hour
    if not (0 <= start <= 23 and 1 <= end <= 24) or start == end % 24:
        return DEFAULT_WORK_START_HOUR * 60, DEFAULT_WORK_END_HOUR * 60
    return start * 60, end * 60


def goal_skill_tags(profile: Profile) -> frozenset[str]:
    return frozenset(tag for goal in profile.goals for tag in goal.skill_tags)


def declared_capacity(program: Program, participant: Enrollment) -> int:
    """Mentees a mentor takes at once in the program: their own figure, else the program's default."""
    return participant.profile.capacity or program.mentor_capacity_default or 1


def cap_across_programs(program: Program, participant: Enrollment) -> int | None:
    """The cap across programs one enrolment states: the person's own figure, else its program's."""
    cap = participant.mentor_cap_across_programs or program.mentor_cap_across_programs
    return cap or None


def person_cap(stated: Iterable[int | None]) -> int | None:
    """The cap across programs of a person, from what each of their mentor enrolments states: the
    strictest (smallest) one. The cap belongs to the person, not to an enrolment: a program saying 6 must
    not lift the 2 another program of theirs says. The smallest is chosen over "the most recent" because
    it does not depend on the order events arrive in, and never lets a person hold more than any HR
    setting allows. None: no cap."""
    caps = [cap for cap in stated if cap]
    return min(caps) if caps else None


@dataclass(frozen=True, slots=True)
class Workload:
    """A mentor's live mentees in this program and in all others (from the matches table)."""

    here: int = 0
    elsewhere: int = 0


def engine_participant(
    participant: Enrollment,
    program: Program,
    *,
    workload: Workload = Workload(),
    deduct_load_here: bool = True,
    past_partner_ids: Iterable[str] = (),
    declined_partner_ids: Iterable[str] = (),
    global_cap: int | Literal["enrolment"] | None = "enrolment",
    role: Role | None = None,
    participant_id: str | None = None,
    requested_skill_areas: Iterable[str] | None = None,
) -> Participant:
    """The engine's view of an enrolled participant.

    Capacity: a mentor's own figure (else the program default), the cap across programs (their own,
    else the program's) and ``workload.elsewhere`` as load elsewhere. With ``deduct_load_here`` the
    mentees already held in this program are taken off both (a full solve); without, the caller
    passes them as loads (incremental proposals, manual checks). ``global_cap``: the person's cap across
    programs (see :func:`person_cap`), by default the one this enrolment states. A mentee who must speak
    given languages keeps only those: a mentor then has to share one of them.
    """
    profile = participant.profile
    engine_role = role or participant.role
    if engine_role is None:
        raise InvalidArgument("participant.role", "must be mentor, mentee or peer")
    start, end = _working_minutes(profile)
    languages: Iterable[str] = profile.languages
    if engine_role is not Role.MENTOR and profile.must_speak_languages:
        languages = profile.must_speak_languages
    capacity = declared_capacity(program, participant) if engine_role is Role.MENTOR else 1
    cap: int | None = None
    if engine_role is Role.MENTOR:
        cap = cap_across_programs(program, participant) if global_cap == "enrolment" else global_cap
    if deduct_load_here and workload.here:
        capacity = max(capacity - workload.here, 0)
        cap = None if cap is None else max(cap - workload.here, 0)
    reason = ineligibility(program, participant)
    return Participant(
        participant_id=participant_id or participant.enrollment_id,
        employee_id=participant.employee_id,
        role=engine_role,
        grade=participant.grade,
        department=participant.department,
        division=participant.division,
        location=participant.location,
        timezone=participant.timezone if _known_timezone(participant.timezone) else "UTC",
        work_start_minute=start,
        work_end_minute=end,
        languages=frozenset(languages),
        skills_offered=frozenset(profile.skills_offered),
        skills_wanted=frozenset(profile.skills_wanted),
        goal_skill_tags=goal_skill_tags(profile),
        nominations=tuple(dict.fromkeys(profile.nominated_mentor_ids))[:10],
        management_chain=tuple(participant.management_chain_ids),
        capacity=capacity,
        load_elsewhere=workload.elsewhere if engine_role is Role.MENTOR else 0,
        global_cap=cap,
        prefers_other_department=profile.prefers_other_department,
        past_partner_ids=frozenset(past_partner_ids),
        declined_partner_ids=frozenset(declined_partner_ids),
        requested_skill_areas=tuple(
            profile.requested_skill_areas if requested_skill_areas is None else requested_skill_areas
        ),
        ineligible_reason=reason,
    )
