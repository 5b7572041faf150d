"""Translations: the wire (mentoring.v1 Program / Participant / Match) <-> the engine's model.

Proto3 cannot tell an unset number from zero, so a zero means "the default" for group sizes, speed
rounds, the minimum timezone overlap and the peer grade tolerance, as the enrollment service documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mentoring.v1 import common_pb2, matching_pb2

from services.matching.domain import (
    Delivery,
    Objective,
    Participant,
    ProgramFormat,
    ProgramSettings,
    QualityReport,
    Role,
    ScoringWeights,
    Unmatched,
)
from services.matching.domain.lifecycle import DeclineCause, EndCause, MatchRecord, Side, Status
from services.shared.errors import InvalidArgument
from services.shared.timestamps import timestamp

DEFAULT_WORK_START_HOUR: Final = 9
DEFAULT_WORK_END_HOUR: Final = 17

FORMATS: Final = {
    common_pb2.PROGRAM_FORMAT_UNSPECIFIED: ProgramFormat.ONE_ON_ONE,
    common_pb2.PROGRAM_FORMAT_ONE_ON_ONE: ProgramFormat.ONE_ON_ONE,
    common_pb2.PROGRAM_FORMAT_GROUP: ProgramFormat.GROUP,
    common_pb2.PROGRAM_FORMAT_PEER: ProgramFormat.PEER,
    common_pb2.PROGRAM_FORMAT_REVERSE: ProgramFormat.REVERSE,
    common_pb2.PROGRAM_FORMAT_SPEED: ProgramFormat.SPEED,
}
DELIVERIES: Final = {
    common_pb2.DELIVERY_UNSPECIFIED: Delivery.REMOTE,
    common_pb2.DELIVERY_IN_PERSON: Delivery.IN_PERSON,
    common_pb2.DELIVERY_REMOTE: Delivery.REMOTE,
    common_pb2.DELIVERY_HYBRID: Delivery.HYBRID,
}
ROLES: Final = {
    common_pb2.ROLE_MENTOR: Role.MENTOR,
    common_pb2.ROLE_MENTEE: Role.MENTEE,
    common_pb2.ROLE_PEER: Role.PEER,
}
STATUS_TO_WIRE: Final = {
    Status.PROPOSED: common_pb2.MATCH_STATUS_PROPOSED,
    Status.ACTIVE: common_pb2.MATCH_STATUS_ACTIVE,
    Status.DECLINED: common_pb2.MATCH_STATUS_DECLINED,
    Status.EXPIRED: common_pb2.MATCH_STATUS_EXPIRED,
    Status.ENDED: common_pb2.MATCH_STATUS_ENDED,
}
STATUS_FROM_WIRE: Final = {wire: status for status, wire in STATUS_TO_WIRE.items()}
END_CAUSES: Final = {
    EndCause.AT_WILL: common_pb2.END_CAUSE_AT_WILL,
    EndCause.MANAGEMENT_CHAIN: common_pb2.END_CAUSE_MANAGEMENT_CHAIN,
    EndCause.PARTICIPANT_PAUSED: common_pb2.END_CAUSE_PARTICIPANT_PAUSED,
    EndCause.PARTICIPANT_WITHDRAWN: common_pb2.END_CAUSE_PARTICIPANT_WITHDRAWN,
    EndCause.EMPLOYEE_TERMINATED: common_pb2.END_CAUSE_EMPLOYEE_TERMINATED,
    EndCause.EMPLOYEE_ERASED: common_pb2.END_CAUSE_EMPLOYEE_ERASED,
}
DECLINE_CAUSES: Final = {
    DeclineCause.DECLINED: common_pb2.DECLINE_CAUSE_DECLINED,
    DeclineCause.EXPIRED: common_pb2.DECLINE_CAUSE_EXPIRED,
}


def program_format(program: common_pb2.Program) -> ProgramFormat:
    return FORMATS.get(program.format, ProgramFormat.ONE_ON_ONE)


def _weights(weights: common_pb2.ScoringWeights) -> ScoringWeights:
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
    program: common_pb2.Program,
    *,
    multi_mentor_per_skill: bool = False,
    solver_time_limit_seconds: float = 20.0,
    solver_workers: int = 2,
) -> ProgramSettings:
    """The engine's settings of a program. A mentee-choice program falls back to scores for mentees whose
    nominations cannot be honoured, so nobody is left out only for not nominating."""
    mentee_choice = program.matching_mode == common_pb2.MATCHING_MODE_MENTEE_CHOICE
    try:
        return ProgramSettings(
            program_id=program.program_id or "program",
            format=program_format(program),
            delivery=DELIVERIES.get(program.delivery, Delivery.REMOTE),
            objective=(
                Objective.MAX_SCORE
                if program.objective == common_pb2.MATCHING_OBJECTIVE_BEST_SCORE
                else Objective.MAX_MATCHED_THEN_SCORE
            ),
            weights=_weights(program.weights),
            min_overlap_minutes=round(program.min_overlap_hours * 60) if program.min_overlap_hours else 120,
            peer_grade_tolerance=program.peer_grade_tolerance or 1,
            reverse_skills=frozenset({program.reverse_skill} if program.reverse_skill.strip() else ()),
            group_min_size=program.group_size.min or 2,
            group_max_size=program.group_size.max or max(6, program.group_size.min),
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


def best_possible_score(settings: ProgramSettings) -> float:
    """The most a pair can score in the program (every positive component at its full weight)."""
    weights = settings.weights
    return weights.skills + weights.goals + weights.nomination + weights.diversity + weights.seniority_gap


def ineligibility(program: common_pb2.Program, participant: common_pb2.Participant) -> str | None:
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


def _working_minutes(availability: common_pb2.Availability) -> tuple[int, int]:
    start = availability.work_start_hour
    end = availability.work_end_hour
    if not (0 <= start <= 23 and 1 <= end <= 24) or start == end % 24:
        return DEFAULT_WORK_START_HOUR * 60, DEFAULT_WORK_END_HOUR * 60
    return start * 60, end * 60


def goal_skill_tags(profile: common_pb2.Profile) -> frozenset[str]:
    return frozenset(tag for goal in profile.goals for tag in goal.skill_tags)


def declared_capacity(program: common_pb2.Program, participant: common_pb2.Participant) -> int:
    """Mentees a mentor takes at once in the program: their own figure, else the program's default."""
    return participant.profile.capacity or program.mentor_capacity_default or 1


def cap_across_programs(program: common_pb2.Program, participant: common_pb2.Participant) -> int | None:
    cap = participant.mentor_cap_across_programs or program.mentor_cap_across_programs
    return cap or None


@dataclass(frozen=True, slots=True)
class Workload:
    """A mentor's live mentees in this program and in all others (from the matches table)."""

    here: int = 0
    elsewhere: int = 0


def engine_participant(
    participant: common_pb2.Participant,
    program: common_pb2.Program,
    *,
    workload: Workload = Workload(),
    deduct_load_here: bool = True,
    past_partner_ids: Iterable[str] = (),
    role: Role | None = None,
    participant_id: str | None = None,
    requested_skill_areas: Iterable[str] | None = None,
) -> Participant:
    """The engine's view of an enrolled participant.

    Capacity: a mentor's own figure (else the program default), the cap across programs (their own,
    else the program's) and ``workload.elsewhere`` as load elsewhere. With ``deduct_load_here`` the
    mentees already held in this program are taken off both (a full solve); without, the caller
    passes them as loads (incremental proposals, manual checks). A mentee who must speak given
    languages keeps only those: a mentor then has to share one of them.
    """
    profile = participant.profile
    engine_role = role or ROLES.get(participant.role)
    if engine_role is None:
        raise InvalidArgument("participant.role", "must be mentor, mentee or peer")
    start, end = _working_minutes(profile.availability)
    languages: Iterable[str] = profile.languages
    if engine_role is not Role.MENTOR and profile.preferences.must_speak_languages:
        languages = profile.preferences.must_speak_languages
    capacity = declared_capacity(program, participant) if engine_role is Role.MENTOR else 1
    global_cap = cap_across_programs(program, participant) if engine_role is Role.MENTOR else None
    if deduct_load_here and workload.here:
        capacity = max(capacity - workload.here, 0)
        global_cap = None if global_cap is None else max(global_cap - workload.here, 0)
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
        global_cap=global_cap,
        prefers_other_department=profile.preferences.prefers_other_department,
        past_partner_ids=frozenset(past_partner_ids),
        requested_skill_areas=tuple(
            profile.requested_skill_areas if requested_skill_areas is None else requested_skill_areas
        ),
        ineligible_reason=reason,
    )


# ---- out: matches, runs ----------------------------------------------------------------------------


def role_of(side: Side, format_name: str) -> common_pb2.Role.ValueType:
    if side is Side.SYSTEM:
        return common_pb2.ROLE_UNSPECIFIED
    if format_name == ProgramFormat.PEER:
        return common_pb2.ROLE_PEER
    return common_pb2.ROLE_MENTOR if side is Side.MENTOR else common_pb2.ROLE_MENTEE


def end_cause_to_wire(cause: EndCause | None) -> common_pb2.EndCause.ValueType:
    return common_pb2.END_CAUSE_UNSPECIFIED if cause is None else END_CAUSES[cause]


def decline_cause_to_wire(cause: DeclineCause | None) -> common_pb2.DeclineCause.ValueType:
    return common_pb2.DECLINE_CAUSE_UNSPECIFIED if cause is None else DECLINE_CAUSES[cause]


def match_to_wire(record: MatchRecord) -> common_pb2.Match:
    """A stored match on the wire: opaque ids and scores, never a name."""
    mentees = record.mentees
    message = common_pb2.Match(
        match_id=record.match_id,
        program_id=record.program_id,
        mentor_enrollment_id=record.mentor_enrollment_id,
        mentee_enrollment_ids=[member.enrollment_id for member in mentees],
        mentor_employee_id=record.mentor_employee_id,
        mentee_employee_ids=[member.employee_id for member in mentees],
        score=record.score,
        breakdown=[
            common_pb2.ScoreComponent(name=name, points=points) for name, points in record.breakdown.items()
        ],
        status=STATUS_TO_WIRE[record.status],
        mentor_accepted=record.mentor_accepted,
        mentee_accepted=bool(mentees) and all(member.accepted for member in mentees),
        skill_area=record.skill_area,
        origin=str(record.origin),
        override_reason=record.override_reason,
        end_reason=record.end_reason,
        speed_round=record.speed_round,
        end_cause=end_cause_to_wire(record.end_cause),
    )
    message.proposed_at.CopyFrom(timestamp(record.proposed_at))
    message.respond_by.CopyFrom(timestamp(record.respond_by))
    return message


def unmatched_to_wire(item: Unmatched) -> common_pb2.UnmatchedParticipant:
    text = item.text if item.skill_area is None else f"{item.text} (skill area '{item.skill_area}')"
    return common_pb2.UnmatchedParticipant(
        enrollment_id=item.participant_id, reason_code=str(item.code), reason=text
    )


def quality_to_wire(quality: QualityReport) -> matching_pb2.QualityReport:
    """Figures the engine could not define for a solver travel as -1 (max_matchable, blocking_pairs) or
    0 (optimum_score and share_of_optimum, when the optimum was not computed)."""
    return matching_pb2.QualityReport(
        total_score=quality.total_score,
        optimum_score=quality.optimum_score or 0.0,
        share_of_optimum=quality.share_of_optimum or 0.0,
        matched=quality.matched,
        max_matchable=-1 if quality.max_matchable is None else quality.max_matchable,
        blocking_pairs=-1 if quality.blocking_pairs is None else quality.blocking_pairs,
        solve_seconds=quality.solve_seconds,
    )
