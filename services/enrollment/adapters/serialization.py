"""Domain value objects <-> JSON documents for the store (program specs, profiles, field versions).

Plain dictionaries of strings and numbers, so the columns read the same on SQLite and PostgreSQL.
Instants are ISO 8601 with their UTC offset; days are ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from services.enrollment.domain import (
    Availability,
    Cohort,
    Delivery,
    Eligibility,
    EnrollmentWindow,
    Goal,
    GroupSize,
    MatchingMode,
    MatchingObjective,
    MustHaves,
    Preferences,
    Profile,
    ProgramFormat,
    ProgramSpec,
    ScoringWeights,
    SessionCadence,
    SpeedRounds,
    TimeSlot,
    Version,
)

Document = dict[str, Any]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_day(value: object) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def spec_to_json(spec: ProgramSpec) -> Document:
    rules = spec.eligibility
    return {
        "name": spec.name,
        "description": spec.description,
        "format": spec.format.value,
        "delivery": spec.delivery.value,
        "formal": spec.formal,
        "enrollment_window": [
            spec.enrollment_window.opens.isoformat(),
            spec.enrollment_window.closes.isoformat(),
        ],
        "cohort": [spec.cohort.start.isoformat(), spec.cohort.end.isoformat()],
        "eligibility": {
            "departments": sorted(rules.departments),
            "divisions": sorted(rules.divisions),
            "locations": sorted(rules.locations),
            "grade_min": rules.grade_min,
            "grade_max": rules.grade_max,
            "minimum_tenure_days": rules.minimum_tenure_days,
        },
        "mentor_capacity_default": spec.mentor_capacity_default,
        "cap_per_mentor": spec.cap_per_mentor,
        "group_size": None
        if spec.group_size is None
        else [spec.group_size.min_size, spec.group_size.max_size],
        "matching_mode": spec.matching_mode.value,
        "weights": {
            "skills": spec.weights.skills,
            "goals": spec.weights.goals,
            "nomination": spec.weights.nomination,
            "diversity": spec.weights.diversity,
            "seniority_gap": spec.weights.seniority_gap,
            "repeat_penalty": spec.weights.repeat_penalty,
        },
        "cadence": [spec.cadence.every_days, spec.cadence.duration_minutes],
        "reverse_skill": spec.reverse_skill,
        "speed_rounds": None
        if spec.speed_rounds is None
        else [spec.speed_rounds.rounds, spec.speed_rounds.minutes_per_round],
        "remote_min_overlap_hours": spec.remote_min_overlap_hours,
        "objective": spec.objective.value,
        "peer_grade_tolerance": spec.peer_grade_tolerance,
        "response_window_hours": spec.response_window_hours,
    }


def spec_from_json(document: Mapping[str, Any]) -> ProgramSpec:
    rules = document["eligibility"]
    group_size = document["group_size"]
    speed_rounds = document["speed_rounds"]
    return ProgramSpec(
        name=document["name"],
        description=document["description"],
        format=ProgramFormat(document["format"]),
        delivery=Delivery(document["delivery"]),
        formal=bool(document["formal"]),
        enrollment_window=EnrollmentWindow(
            datetime.fromisoformat(document["enrollment_window"][0]),
            datetime.fromisoformat(document["enrollment_window"][1]),
        ),
        cohort=Cohort(date.fromisoformat(document["cohort"][0]), date.fromisoformat(document["cohort"][1])),
        eligibility=Eligibility(
            departments=frozenset(rules["departments"]),
            divisions=frozenset(rules["divisions"]),
            locations=frozenset(rules["locations"]),
            grade_min=rules["grade_min"],
            grade_max=rules["grade_max"],
            minimum_tenure_days=rules["minimum_tenure_days"],
        ),
        mentor_capacity_default=document["mentor_capacity_default"],
        cap_per_mentor=document["cap_per_mentor"],
        group_size=None if group_size is None else GroupSize(group_size[0], group_size[1]),
        matching_mode=MatchingMode(document["matching_mode"]),
        weights=ScoringWeights(**document["weights"]),
        cadence=SessionCadence(document["cadence"][0], document["cadence"][1]),
        reverse_skill=document["reverse_skill"],
        speed_rounds=None if speed_rounds is None else SpeedRounds(speed_rounds[0], speed_rounds[1]),
        remote_min_overlap_hours=float(document["remote_min_overlap_hours"]),
        objective=MatchingObjective(document["objective"]),
        peer_grade_tolerance=document["peer_grade_tolerance"],
        response_window_hours=document["response_window_hours"],
    )


def profile_to_json(profile: Profile) -> Document:
    availability = profile.availability
    return {
        "skills_offered": list(profile.skills_offered),
        "skills_wanted": list(profile.skills_wanted),
        "goals": [
            {
                "goal_id": goal.goal_id,
                "what": goal.what,
                "metric": goal.metric,
                "target": goal.target,
                "due": _day(goal.due),
                "skill_tags": list(goal.skill_tags),
            }
            for goal in profile.goals
        ],
        "nominations": list(profile.nominations),
        "languages": list(profile.languages),
        "availability": {
            "weekly_hours": availability.weekly_hours,
            "slots": [
                [slot.weekday, slot.start.isoformat(), slot.end.isoformat()] for slot in availability.slots
            ],
            "work_start_hour": availability.work_start_hour,
            "work_end_hour": availability.work_end_hour,
        },
        "capacity": profile.capacity,
        "preferences": {
            "prefers_other_department": profile.preferences.prefers_other_department,
            "prefers_other_division": profile.preferences.prefers_other_division,
            "prefers_same_location": profile.preferences.prefers_same_location,
            "max_grade_gap": profile.preferences.max_grade_gap,
        },
        "must_haves": {
            "same_location": profile.must_haves.same_location,
            "shared_language": profile.must_haves.shared_language,
            "other_department": profile.must_haves.other_department,
            "languages": list(profile.must_haves.languages),
        },
        "requested_skill_areas": list(profile.requested_skill_areas),
    }


def profile_from_json(document: Mapping[str, Any]) -> Profile:
    availability = document["availability"]
    must_haves = document["must_haves"]
    return Profile(
        skills_offered=tuple(document["skills_offered"]),
        skills_wanted=tuple(document["skills_wanted"]),
        goals=tuple(
            Goal(
                what=goal["what"],
                metric=goal["metric"],
                target=goal["target"],
                due=_parse_day(goal["due"]),
                goal_id=goal["goal_id"],
                skill_tags=tuple(goal["skill_tags"]),
            )
            for goal in document["goals"]
        ),
        nominations=tuple(document["nominations"]),
        languages=tuple(document["languages"]),
        availability=Availability(
            weekly_hours=float(availability["weekly_hours"]),
            slots=tuple(
                TimeSlot(weekday, time.fromisoformat(start), time.fromisoformat(end))
                for weekday, start, end in availability["slots"]
            ),
            work_start_hour=availability["work_start_hour"],
            work_end_hour=availability["work_end_hour"],
        ),
        capacity=document["capacity"],
        preferences=Preferences(**document["preferences"]),
        must_haves=MustHaves(
            same_location=must_haves["same_location"],
            shared_language=must_haves["shared_language"],
            other_department=must_haves["other_department"],
            languages=tuple(must_haves["languages"]),
        ),
        requested_skill_areas=tuple(document["requested_skill_areas"]),
    )


def versions_to_json(versions: Mapping[str, Version]) -> Document:
    """Field versions grouped by version: one event usually sets many fields, so a record holds two or
    three distinct versions, each written (and parsed back) once."""
    # Grouped by identity, which is cheaper than hashing a Version: the fields one event set share
    # one Version object (an equal one seen twice only makes one more group).
    groups: dict[int, tuple[Version, list[str]]] = {}
    for name, version in versions.items():
        group = groups.get(id(version))
        if group is None:
            groups[id(version)] = (version, [name])
        else:
            group[1].append(name)
    return {
        "by_version": [
            [version.effective_time.isoformat(), version.sequence, names]
            for version, names in groups.values()
        ]
    }


def versions_from_json(document: Mapping[str, Any] | None) -> dict[str, Version]:
    if not document:
        return {}
    if "by_version" not in document:  # the first format: field -> [time, sequence]
        return {
            name: Version(datetime.fromisoformat(moment), int(sequence))
            for name, (moment, sequence) in document.items()
        }
    versions: dict[str, Version] = {}
    for moment, sequence, names in document["by_version"]:
        versions.update(dict.fromkeys(names, Version(datetime.fromisoformat(moment), int(sequence))))
    return versions
