"""Export into the audit format: a program's engine input (pool and settings) as the file that
``services.matching.entrypoints.audit`` re-runs, so HR can audit what was really solved."""

from __future__ import annotations

from typing import Any

from services.matching.domain.audit import FORMAT_VERSION
from services.matching.domain.model import COMPONENTS, Participant, Pool, ProgramSettings


def _hours(participant: Participant) -> str:
    start, end = participant.work_start_minute, participant.work_end_minute
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def export_participant(participant: Participant) -> dict[str, Any]:
    """One participant as an audit file entry (``load_program`` reads it back to an equal one)."""
    entry: dict[str, Any] = {
        "participant_id": participant.participant_id,
        "employee_id": participant.employee_id,
        "role": str(participant.role),
        "grade": participant.grade,
        "department": participant.department,
        "division": participant.division,
        "location": participant.location,
        "timezone": participant.timezone,
        "working_hours": _hours(participant),
        "capacity": participant.capacity,
        "load_elsewhere": participant.load_elsewhere,
        "global_cap": participant.global_cap,
        "prefers_other_department": participant.prefers_other_department,
        "nominations": list(participant.nominations),
        "management_chain": list(participant.management_chain),
        "requested_skill_areas": list(participant.requested_skill_areas),
        "ineligible_reason": participant.ineligible_reason,
        "must_share_location": participant.must_share_location,
        "must_have_min_grade": participant.must_have_min_grade,
    }
    if participant.utc_offset_minutes is not None:
        entry["utc_offset_minutes"] = participant.utc_offset_minutes
    for name in (
        "languages",
        "skills_offered",
        "skills_wanted",
        "goal_skill_tags",
        "past_partner_ids",
        "declined_partner_ids",
        "must_have_skills",
        "must_have_languages",
        "do_not_pair_ids",
    ):
        entry[name] = sorted(getattr(participant, name))
    return entry


def export_program(pool: Pool, settings: ProgramSettings) -> dict[str, Any]:
    """A program's engine input as an audit file (``format_version`` 1): what was really solved."""
    weights = settings.weights
    program: dict[str, Any] = {
        "program_id": settings.program_id,
        "format": str(settings.format),
        "delivery": str(settings.delivery),
        "objective": str(settings.objective),
        "reference_date": None if settings.reference_date is None else settings.reference_date.isoformat(),
        "weights": {name: getattr(weights, name) for name in COMPONENTS},
        "min_overlap_minutes": settings.min_overlap_minutes,
        "peer_grade_tolerance": settings.peer_grade_tolerance,
        "reverse_skills": sorted(settings.reverse_skills),
        "group_min_size": settings.group_min_size,
        "group_max_size": settings.group_max_size,
        "speed_rounds": settings.speed_rounds,
        "multi_mentor_per_skill": settings.multi_mentor_per_skill,
        "mentee_choice": settings.mentee_choice,
        "choice_fallback_to_scores": settings.choice_fallback_to_scores,
        "preferred_gap": [settings.preferred_gap_min, settings.preferred_gap_max],
        "candidates_per_mentee": settings.candidates_per_mentee,
        "candidates_per_mentor": settings.candidates_per_mentor,
        "certify_optimality": settings.certify_optimality,
    }
    return {
        "format_version": FORMAT_VERSION,
        "program": program,
        "participants": [export_participant(person) for person in pool.participants],
    }
