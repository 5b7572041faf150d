"""Translations: the wire (mentoring.v1 Program / Participant / Match / MatchingRun) <-> matching's
domain. Proto3 cannot tell an unset number from zero: the domain keeps the zeros, and the engine's
inputs (``domain.engine_input``) read them as "the default"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

from mentoring.v1 import common_pb2, matching_pb2

from services.matching.domain import Delivery, Objective, ProgramFormat, QualityReport, Role, Unmatched
from services.matching.domain.enrollments import (
    Eligibility,
    Enrollment,
    EnrollmentStatus,
    Goal,
    MatchingMode,
    Profile,
    Program,
    ProgramStatus,
    ProgramWeights,
)
from services.matching.domain.introductions import Introduction
from services.matching.domain.lifecycle import DeclineCause, EndCause, MatchRecord, Side, Status
from services.matching.domain.runs import CHANGED_DURING_RUN, CHANGED_DURING_RUN_TEXT, RunReport, StoredRun
from services.shared.errors import InvalidArgument
from services.shared.timestamps import timestamp

K = TypeVar("K")
V = TypeVar("V")

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


MATCHING_MODES: Final = {
    common_pb2.MATCHING_MODE_UNSPECIFIED: MatchingMode.OPTIMISE,
    common_pb2.MATCHING_MODE_OPTIMISE: MatchingMode.OPTIMISE,
    common_pb2.MATCHING_MODE_MENTEE_CHOICE: MatchingMode.MENTEE_CHOICE,
    common_pb2.MATCHING_MODE_HR_MANUAL: MatchingMode.HR_MANUAL,
}
PROGRAM_STATUSES: Final = {
    common_pb2.PROGRAM_STATUS_UNSPECIFIED: ProgramStatus.UNSPECIFIED,
    common_pb2.PROGRAM_STATUS_DRAFT: ProgramStatus.DRAFT,
    common_pb2.PROGRAM_STATUS_OPEN: ProgramStatus.OPEN,
    common_pb2.PROGRAM_STATUS_CLOSED: ProgramStatus.CLOSED,
}
ENROLLMENT_STATUSES: Final = {
    common_pb2.ENROLLMENT_STATUS_UNSPECIFIED: EnrollmentStatus.UNSPECIFIED,
    common_pb2.ENROLLMENT_STATUS_ACTIVE: EnrollmentStatus.ACTIVE,
    common_pb2.ENROLLMENT_STATUS_PAUSED: EnrollmentStatus.PAUSED,
    common_pb2.ENROLLMENT_STATUS_WITHDRAWN: EnrollmentStatus.WITHDRAWN,
}


def _inverse(mapping: Mapping[K, V]) -> dict[V, K]:
    """Domain -> wire: the first wire value of each domain value (an unset wire value maps to a default,
    which is written back as that default)."""
    inverse: dict[V, K] = {}
    for wire, value in mapping.items():
        inverse.setdefault(value, wire)
    return inverse


FORMATS_TO_WIRE: Final = {**_inverse(FORMATS), ProgramFormat.ONE_ON_ONE: common_pb2.PROGRAM_FORMAT_ONE_ON_ONE}
DELIVERIES_TO_WIRE: Final = {**_inverse(DELIVERIES), Delivery.REMOTE: common_pb2.DELIVERY_REMOTE}
MATCHING_MODES_TO_WIRE: Final = {
    **_inverse(MATCHING_MODES),
    MatchingMode.OPTIMISE: common_pb2.MATCHING_MODE_OPTIMISE,
}
PROGRAM_STATUSES_TO_WIRE: Final = _inverse(PROGRAM_STATUSES)
ENROLLMENT_STATUSES_TO_WIRE: Final = _inverse(ENROLLMENT_STATUSES)
ROLES_TO_WIRE: Final = _inverse(ROLES)


# ---- in: programs, participants, causes ----------------------------------------------------------

WITHDRAWAL_CAUSES: Final[Mapping[int, EndCause]] = {
    common_pb2.WITHDRAWAL_CAUSE_TERMINATED: EndCause.EMPLOYEE_TERMINATED,
    common_pb2.WITHDRAWAL_CAUSE_ERASED: EndCause.EMPLOYEE_ERASED,
}


def withdrawal_cause(cause: common_pb2.WithdrawalCause.ValueType) -> EndCause:
    """Why the matches of a withdrawn enrolment end: its cause, never its free-text reason."""
    return WITHDRAWAL_CAUSES.get(cause, EndCause.PARTICIPANT_WITHDRAWN)


def program_from_wire(program: common_pb2.Program) -> Program:
    rules = program.eligibility
    weights = program.weights
    return Program(
        program_id=program.program_id,
        tenant=program.tenant,
        format=FORMATS.get(program.format, ProgramFormat.ONE_ON_ONE),
        delivery=DELIVERIES.get(program.delivery, Delivery.REMOTE),
        eligibility=Eligibility(
            departments=tuple(rules.departments),
            divisions=tuple(rules.divisions),
            locations=tuple(rules.locations),
            min_grade=rules.min_grade,
            max_grade=rules.max_grade,
            min_tenure_days=rules.min_tenure_days,
        ),
        mentor_capacity_default=program.mentor_capacity_default,
        mentor_cap_across_programs=program.mentor_cap_across_programs,
        group_min_size=program.group_size.min,
        group_max_size=program.group_size.max,
        matching_mode=MATCHING_MODES.get(program.matching_mode, MatchingMode.OPTIMISE),
        objective=(
            Objective.MAX_SCORE
            if program.objective == common_pb2.MATCHING_OBJECTIVE_BEST_SCORE
            else Objective.MAX_MATCHED_THEN_SCORE
        ),
        weights=ProgramWeights(
            skills=weights.skills,
            goals=weights.goals,
            nomination=weights.nomination,
            diversity=weights.diversity,
            seniority_gap=weights.seniority_gap,
            repeat_pairing_penalty=weights.repeat_pairing_penalty,
        ),
        reverse_skill=program.reverse_skill,
        speed_rounds=program.speed_rounds,
        min_overlap_hours=program.min_overlap_hours,
        peer_grade_tolerance=program.peer_grade_tolerance,
        response_window_hours=program.response_window_hours,
        status=PROGRAM_STATUSES.get(program.status, ProgramStatus.UNSPECIFIED),
        manager_ids=tuple(program.manager_ids),
    )


def program_to_wire(program: Program) -> common_pb2.Program:
    rules = program.eligibility
    weights = program.weights
    return common_pb2.Program(
        program_id=program.program_id,
        tenant=program.tenant,
        format=FORMATS_TO_WIRE[program.format],
        delivery=DELIVERIES_TO_WIRE[program.delivery],
        eligibility=common_pb2.Eligibility(
            departments=list(rules.departments),
            divisions=list(rules.divisions),
            locations=list(rules.locations),
            min_grade=rules.min_grade,
            max_grade=rules.max_grade,
            min_tenure_days=rules.min_tenure_days,
        ),
        mentor_capacity_default=program.mentor_capacity_default,
        mentor_cap_across_programs=program.mentor_cap_across_programs,
        group_size=common_pb2.GroupSize(min=program.group_min_size, max=program.group_max_size),
        matching_mode=MATCHING_MODES_TO_WIRE[program.matching_mode],
        objective=(
            common_pb2.MATCHING_OBJECTIVE_BEST_SCORE
            if program.objective is Objective.MAX_SCORE
            else common_pb2.MATCHING_OBJECTIVE_MOST_MATCHED_THEN_SCORE
        ),
        weights=common_pb2.ScoringWeights(
            skills=weights.skills,
            goals=weights.goals,
            nomination=weights.nomination,
            diversity=weights.diversity,
            seniority_gap=weights.seniority_gap,
            repeat_pairing_penalty=weights.repeat_pairing_penalty,
        ),
        reverse_skill=program.reverse_skill,
        speed_rounds=program.speed_rounds,
        min_overlap_hours=program.min_overlap_hours,
        peer_grade_tolerance=program.peer_grade_tolerance,
        response_window_hours=program.response_window_hours,
        status=PROGRAM_STATUSES_TO_WIRE[program.status],
        manager_ids=list(program.manager_ids),
    )


def program_status_to_wire(status: ProgramStatus) -> common_pb2.ProgramStatus.ValueType:
    return PROGRAM_STATUSES_TO_WIRE[status]


def enrollment_status_to_wire(status: EnrollmentStatus) -> common_pb2.EnrollmentStatus.ValueType:
    return ENROLLMENT_STATUSES_TO_WIRE[status]


def role_to_wire(role: Role | None) -> common_pb2.Role.ValueType:
    return common_pb2.ROLE_UNSPECIFIED if role is None else ROLES_TO_WIRE[role]


def participant_from_wire(participant: common_pb2.Participant) -> Enrollment:
    profile = participant.profile
    return Enrollment(
        enrollment_id=participant.enrollment_id,
        program_id=participant.program_id,
        employee_id=participant.employee_id,
        role=ROLES.get(participant.role),
        grade=participant.grade,
        department=participant.department,
        division=participant.division,
        location=participant.location,
        timezone=participant.timezone,
        profile=Profile(
            skills_offered=tuple(profile.skills_offered),
            skills_wanted=tuple(profile.skills_wanted),
            goals=tuple(Goal(goal.goal_id, tuple(goal.skill_tags)) for goal in profile.goals),
            nominated_mentor_ids=tuple(profile.nominated_mentor_ids),
            languages=tuple(profile.languages),
            hours_per_month=profile.availability.hours_per_month,
            work_start_hour=profile.availability.work_start_hour,
            work_end_hour=profile.availability.work_end_hour,
            capacity=profile.capacity,
            prefers_other_department=profile.preferences.prefers_other_department,
            must_share_location=profile.preferences.must_share_location,
            must_speak_languages=tuple(profile.preferences.must_speak_languages),
            requested_skill_areas=tuple(profile.requested_skill_areas),
        ),
        management_chain_ids=tuple(participant.management_chain_ids),
        mentor_cap_across_programs=participant.mentor_cap_across_programs,
        status=ENROLLMENT_STATUSES.get(participant.status, EnrollmentStatus.UNSPECIFIED),
    )


def participant_to_wire(participant: Enrollment) -> common_pb2.Participant:
    profile = participant.profile
    return common_pb2.Participant(
        enrollment_id=participant.enrollment_id,
        program_id=participant.program_id,
        employee_id=participant.employee_id,
        role=role_to_wire(participant.role),
        grade=participant.grade,
        department=participant.department,
        division=participant.division,
        location=participant.location,
        timezone=participant.timezone,
        profile=common_pb2.Profile(
            skills_offered=list(profile.skills_offered),
            skills_wanted=list(profile.skills_wanted),
            goals=[
                common_pb2.Goal(goal_id=goal.goal_id, skill_tags=list(goal.skill_tags))
                for goal in profile.goals
            ],
            nominated_mentor_ids=list(profile.nominated_mentor_ids),
            languages=list(profile.languages),
            availability=common_pb2.Availability(
                hours_per_month=profile.hours_per_month,
                work_start_hour=profile.work_start_hour,
                work_end_hour=profile.work_end_hour,
            ),
            capacity=profile.capacity,
            preferences=common_pb2.Preferences(
                prefers_other_department=profile.prefers_other_department,
                must_share_location=profile.must_share_location,
                must_speak_languages=list(profile.must_speak_languages),
            ),
            requested_skill_areas=list(profile.requested_skill_areas),
        ),
        management_chain_ids=list(participant.management_chain_ids),
        mentor_cap_across_programs=participant.mentor_cap_across_programs,
        status=ENROLLMENT_STATUSES_TO_WIRE[participant.status],
    )


# ---- out: matches, runs ----------------------------------------------------------------------------


def role_of(side: Side, format_name: str) -> common_pb2.Role.ValueType:
    if side is Side.SYSTEM:
        return common_pb2.ROLE_UNSPECIFIED
    if format_name == ProgramFormat.PEER:
        return common_pb2.ROLE_PEER
    return common_pb2.ROLE_MENTOR if side is Side.MENTOR else common_pb2.ROLE_MENTEE


def status_filter_from_wire(status: common_pb2.MatchStatus.ValueType) -> Status | None:
    """A listing's status filter: none when unspecified; a value the service does not know is refused."""
    if status == common_pb2.MATCH_STATUS_UNSPECIFIED:
        return None
    found = STATUS_FROM_WIRE.get(status)
    if found is None:
        raise InvalidArgument("status", "is not a known match status")
    return found


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


def run_to_wire(report: RunReport) -> matching_pb2.MatchingRun:
    """A run as answered. A preview's matches carry no id, no status and no times: nothing was stored."""
    matches = [match_to_wire(record) for record in report.matches]
    if report.dry_run:
        for message in matches:
            message.match_id = ""
            message.status = common_pb2.MATCH_STATUS_UNSPECIFIED
            message.ClearField("proposed_at")
            message.ClearField("respond_by")
    unmatched = [unmatched_to_wire(item) for item in report.unmatched]
    unmatched.extend(
        common_pb2.UnmatchedParticipant(
            enrollment_id=mentee_id, reason_code=CHANGED_DURING_RUN, reason=CHANGED_DURING_RUN_TEXT
        )
        for mentee_id in report.changed_during_run
    )
    return matching_pb2.MatchingRun(
        run_id=report.run_id,
        program_id=report.program_id,
        matches=matches,
        unmatched=unmatched,
        quality=quality_to_wire(report.quality),
        dry_run=report.dry_run,
    )


def outcome_to_wire(run: RunReport | StoredRun) -> matching_pb2.MatchingRun:
    """What RunMatching answers: the new run, or the one stored for the same request id."""
    if isinstance(run, StoredRun):
        return matching_pb2.MatchingRun.FromString(run.encoded)
    return run_to_wire(run)


def introduction_to_wire(row: Introduction) -> matching_pb2.Introduction:
    return matching_pb2.Introduction(
        introduction_id=row.introduction_id,
        introducer_employee_id=row.introducer_employee_id,
        mentee_employee_id=row.mentee_employee_id,
        mentor_employee_id=row.mentor_employee_id,
        program_id=row.program_id,
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
