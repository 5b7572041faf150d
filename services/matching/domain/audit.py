"""Audit core: a program and its participants as JSON in, a JSON-ready matching report out.

Input document (``format_version`` 1; every key but the ids, role and grade is optional)::

    {
      "format_version": 1,
      "program": {
        "program_id": "mentoring-2025-q2",
        "format": "one_on_one",              # one_on_one | group | peer | reverse | speed
        "delivery": "remote",                # in_person | remote | hybrid
        "objective": "max_matched_then_score",   # or max_score
        "reference_date": "2025-03-03",      # fixes IANA timezone offsets (daylight saving)
        "weights": {"skills": 35, "goals": 25, "nomination": 20, "diversity": 10,
                    "seniority_gap": 10, "repeat_pairing": 30},
        "min_overlap_hours": 2,              # remote / hybrid: shared working hours per day
        "peer_grade_tolerance": 1,           # peer: |grade difference| allowed
        "reverse_skills": ["generative ai"], # reverse: skill(s) the junior mentor teaches
        "group_min_size": 2, "group_max_size": 6,
        "speed_rounds": 3,
        "multi_mentor_per_skill": false,     # one mentor per requested skill area
        "mentee_choice": false,              # deferred acceptance on the mentees' nominations
        "choice_fallback_to_scores": false,
        "preferred_gap": [1, 3],             # grades of seniority gap scored best
        "candidates_per_mentee": 16, "candidates_per_mentor": 4,
        "certify_optimality": true,
        "solver_time_limit_seconds": 20
      },
      "participants": [
        {
          "participant_id": "enr-0001", "employee_id": "E1001", "role": "mentee", "grade": 5,
          "department": "finance", "division": "corporate", "location": "berlin",
          "timezone": "Europe/Berlin",       # or "utc_offset_minutes": 60
          "working_hours": "09:00-17:00",
          "languages": ["english", "german"],
          "skills_offered": [], "skills_wanted": ["negotiation"], "goal_skill_tags": ["negotiation"],
          "nominations": ["E2001"],          # employee ids of admired mentors, best first (<= 10)
          "management_chain": ["E3001", "E4001"],   # manager, skip-level, ... (employee ids)
          "capacity": 1, "load_elsewhere": 0, "global_cap": null,
          "prefers_other_department": false,
          "past_partner_ids": [],            # employee ids of earlier partners
          "declined_partner_ids": [],        # employee ids declined by or declining this person here
          "requested_skill_areas": [],
          "ineligible_reason": null,
          "must_have_skills": [], "must_have_languages": [],   # the mentor offers / speaks every one
          "must_share_location": false, "must_have_min_grade": null,
          "do_not_pair_ids": []              # employee ids never paired with this person, either way
        }
      ],
      "proposed_matches": [                  # optional: manual / HR matches to check and score
        {"mentor_id": "enr-0002", "mentee_id": "enr-0001", "mentor_current_load": 0}
      ]
    }

Report (``run_audit``): ``program_id``, ``format``, ``solver``; ``matches`` (mentor_id, mentee_id,
score, breakdown per component, skill_area, round_index, group_id); ``unmatched`` (participant_id, role,
code, text, dominant_rule, rule_counts, skill_area); ``quality`` (total_score, optimum_score,
share_of_optimum, optimality, matched, max_matchable, candidates, blocking_pairs, solve_seconds,
details); ``proposed_matches`` (each with ``allowed``, the violated hard rules, score and breakdown).
Malformed input raises ``InvalidArgument`` naming the field (e.g. ``participants[3].grade``); an unknown
key is refused with its path and the nearest known key (``program.managment_chain``... did you mean).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.matching.domain.model import (
    COMPONENTS,
    MINUTES_PER_DAY,
    MatchingResult,
    Participant,
    Pool,
    ProgramFormat,
    ProgramSettings,
    ScoringWeights,
)
from services.matching.domain.rules import check_pair
from services.matching.domain.scoring import score_pair, score_peers
from services.matching.domain.solver import solve, solver_name
from services.shared.errors import InvalidArgument

FORMAT_VERSION: Final = 1
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

DOCUMENT_KEYS: Final = frozenset({"format_version", "program", "participants", "proposed_matches"})
PROGRAM_KEYS: Final = frozenset(
    {
        "program_id",
        "format",
        "delivery",
        "objective",
        "reference_date",
        "weights",
        "min_overlap_hours",
        "min_overlap_minutes",
        "peer_grade_tolerance",
        "reverse_skills",
        "group_min_size",
        "group_max_size",
        "speed_rounds",
        "multi_mentor_per_skill",
        "mentee_choice",
        "choice_fallback_to_scores",
        "preferred_gap",
        "candidates_per_mentee",
        "candidates_per_mentor",
        "certify_optimality",
        "solver_time_limit_seconds",
    }
)
PARTICIPANT_KEYS: Final = frozenset(
    {
        "participant_id",
        "employee_id",
        "role",
        "grade",
        "department",
        "division",
        "location",
        "timezone",
        "utc_offset_minutes",
        "working_hours",
        "languages",
        "skills_offered",
        "skills_wanted",
        "goal_skill_tags",
        "nominations",
        "management_chain",
        "capacity",
        "load_elsewhere",
        "global_cap",
        "prefers_other_department",
        "past_partner_ids",
        "declined_partner_ids",
        "requested_skill_areas",
        "ineligible_reason",
        "must_have_skills",
        "must_have_languages",
        "must_share_location",
        "must_have_min_grade",
        "do_not_pair_ids",
    }
)
PROPOSED_KEYS: Final = frozenset({"mentor_id", "mentee_id", "mentor_current_load"})


def _only_known(data: Mapping[str, Any], known: Collection[str], field: str) -> None:
    """Refuses the first unknown key (sorted) with its path and the nearest known key, if any."""
    unknown = sorted(str(key) for key in data if key not in known)
    if not unknown:
        return
    key = unknown[0]
    path = f"{field}.{key}" if field else key
    near = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(sorted(known))}"
    raise InvalidArgument(path, f"unknown key{hint}")


def _timezone(value: object, field: str) -> str:
    name = _text(value, field, allow_empty=False)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidArgument(field, f"unknown IANA timezone {name!r}") from error
    return name


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(field, "must be an object")
    return value


def _text(value: object, field: str, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise InvalidArgument(field, "must be a non-empty string" if not allow_empty else "must be a string")
    return value.strip()


def _integer(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(field, "must be an integer")
    return value


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(field, "must be a number")
    return float(value)


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(field, "must be true or false")
    return value


def _strings(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidArgument(field, "must be a list of strings")
    return tuple(_text(item, f"{field}[{k}]", allow_empty=False) for k, item in enumerate(value))


def _working_hours(value: object, field: str) -> tuple[int, int]:
    match = _HOURS.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidArgument(field, 'must look like "09:00-17:00"')
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_m >= 60 or end_m >= 60 or start >= MINUTES_PER_DAY or end > MINUTES_PER_DAY:
        raise InvalidArgument(field, "hours must be within 00:00-24:00")
    return start, end


def _participant(raw: object, field: str) -> Participant:
    data = _mapping(raw, field)
    _only_known(data, PARTICIPANT_KEYS, field)
    kwargs: dict[str, Any] = {
        "participant_id": _text(data.get("participant_id"), f"{field}.participant_id", allow_empty=False),
        "employee_id": _text(data.get("employee_id"), f"{field}.employee_id", allow_empty=False),
        "grade": _integer(data.get("grade"), f"{field}.grade"),
    }
    role = data.get("role")
    if role not in ("mentor", "mentee", "peer"):
        raise InvalidArgument(f"{field}.role", "must be mentor, mentee or peer")
    kwargs["role"] = role
    for name in ("department", "division", "location"):
        if name in data:
            kwargs[name] = _text(data[name], f"{field}.{name}")
    if "timezone" in data:
        kwargs["timezone"] = _timezone(data["timezone"], f"{field}.timezone")
    for name in ("capacity", "load_elsewhere", "utc_offset_minutes", "global_cap"):
        if data.get(name) is not None:
            kwargs[name] = _integer(data[name], f"{field}.{name}")
    if "working_hours" in data:
        kwargs["work_start_minute"], kwargs["work_end_minute"] = _working_hours(
            data["working_hours"], f"{field}.working_hours"
        )
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
        if name in data:
            kwargs[name] = frozenset(_strings(data[name], f"{field}.{name}"))
    for name in ("nominations", "management_chain", "requested_skill_areas"):
        if name in data:
            kwargs[name] = _strings(data[name], f"{field}.{name}")
    if "prefers_other_department" in data:
        kwargs["prefers_other_department"] = _flag(
            data["prefers_other_department"], f"{field}.prefers_other_department"
        )
    if "must_share_location" in data:
        kwargs["must_share_location"] = _flag(data["must_share_location"], f"{field}.must_share_location")
    if data.get("must_have_min_grade") is not None:
        kwargs["must_have_min_grade"] = _integer(data["must_have_min_grade"], f"{field}.must_have_min_grade")
    if data.get("ineligible_reason") is not None:
        kwargs["ineligible_reason"] = _text(data["ineligible_reason"], f"{field}.ineligible_reason")
    try:
        return Participant(**kwargs)
    except InvalidArgument as error:
        raise InvalidArgument(f"{field}.{error.field}", error.message.split(": ", 1)[-1]) from error


def _settings(raw: object) -> ProgramSettings:
    data = _mapping(raw if raw is not None else {}, "program")
    _only_known(data, PROGRAM_KEYS, "program")
    kwargs: dict[str, Any] = {}
    if "program_id" in data:
        kwargs["program_id"] = _text(data["program_id"], "program.program_id", allow_empty=False)
    choices = {
        "format": ("one_on_one", "group", "peer", "reverse", "speed"),
        "delivery": ("in_person", "remote", "hybrid"),
        "objective": ("max_matched_then_score", "max_score"),
    }
    for name, allowed in choices.items():
        if name in data:
            if data[name] not in allowed:
                raise InvalidArgument(f"program.{name}", f"must be one of {', '.join(allowed)}")
            kwargs[name] = data[name]
    if data.get("reference_date") is not None:
        try:
            kwargs["reference_date"] = date.fromisoformat(
                _text(data["reference_date"], "program.reference_date")
            )
        except ValueError as error:
            raise InvalidArgument("program.reference_date", "must be an ISO date (YYYY-MM-DD)") from error
    if "weights" in data:
        weights = _mapping(data["weights"], "program.weights")
        _only_known(weights, COMPONENTS, "program.weights")
        kwargs["weights"] = ScoringWeights(
            **{name: _number(value, f"program.weights.{name}") for name, value in weights.items()}
        )
    if "min_overlap_hours" in data:
        if "min_overlap_minutes" in data:
            raise InvalidArgument("program.min_overlap_hours", "give hours or minutes, not both")
        hours = _number(data["min_overlap_hours"], "program.min_overlap_hours")
        if not 0 <= hours <= 24:
            raise InvalidArgument("program.min_overlap_hours", "must be within 0..24")
        kwargs["min_overlap_minutes"] = round(hours * 60)
    for name in (
        "min_overlap_minutes",
        "peer_grade_tolerance",
        "group_min_size",
        "group_max_size",
        "speed_rounds",
        "candidates_per_mentee",
        "candidates_per_mentor",
    ):
        if name in data:
            kwargs[name] = _integer(data[name], f"program.{name}")
    for name in (
        "multi_mentor_per_skill",
        "mentee_choice",
        "choice_fallback_to_scores",
        "certify_optimality",
    ):
        if name in data:
            kwargs[name] = _flag(data[name], f"program.{name}")
    if "solver_time_limit_seconds" in data:
        kwargs["solver_time_limit_seconds"] = _number(
            data["solver_time_limit_seconds"], "program.solver_time_limit_seconds"
        )
    if "reverse_skills" in data:
        kwargs["reverse_skills"] = frozenset(_strings(data["reverse_skills"], "program.reverse_skills"))
    if "preferred_gap" in data:
        gap = data["preferred_gap"]
        if not isinstance(gap, Sequence) or isinstance(gap, str) or len(gap) != 2:
            raise InvalidArgument("program.preferred_gap", "must be [min, max]")
        kwargs["preferred_gap_min"] = _integer(gap[0], "program.preferred_gap[0]")
        kwargs["preferred_gap_max"] = _integer(gap[1], "program.preferred_gap[1]")
    try:
        return ProgramSettings(**kwargs)
    except InvalidArgument as error:
        raise InvalidArgument(f"program.{error.field}", error.message.split(": ", 1)[-1]) from error


def load_program(document: Mapping[str, Any]) -> tuple[Pool, ProgramSettings]:
    """Parses an audit document into a pool and its program settings."""
    document = _mapping(document, "document")
    _only_known(document, DOCUMENT_KEYS, "")
    version = document.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise InvalidArgument("format_version", f"only version {FORMAT_VERSION} is understood")
    raw_people = document.get("participants", [])
    if not isinstance(raw_people, Sequence) or isinstance(raw_people, str):
        raise InvalidArgument("participants", "must be a list")
    settings = _settings(document.get("program"))
    return Pool(tuple(_participant(raw, f"participants[{k}]") for k, raw in enumerate(raw_people))), settings


def result_to_dict(result: MatchingResult) -> dict[str, Any]:
    """A JSON-ready view of a matching result."""
    quality = result.quality
    return {
        "program_id": result.program_id,
        "format": str(result.format),
        "matches": [
            {
                "mentor_id": match.mentor_id,
                "mentee_id": match.mentee_id,
                "score": match.score,
                "breakdown": dict(match.breakdown),
                "skill_area": match.skill_area,
                "round_index": match.round_index,
                "group_id": match.group_id,
            }
            for match in result.matches
        ],
        "unmatched": [
            {
                "participant_id": item.participant_id,
                "role": str(item.role),
                "code": str(item.code),
                "text": item.text,
                "dominant_rule": item.dominant_rule,
                "rule_counts": dict(item.rule_counts),
                "skill_area": item.skill_area,
            }
            for item in result.unmatched
        ],
        "quality": {
            "solver": quality.solver,
            "objective": str(quality.objective),
            "total_score": quality.total_score,
            "optimum_score": quality.optimum_score,
            "share_of_optimum": quality.share_of_optimum,
            "optimality": str(quality.optimality),
            "matched": quality.matched,
            "max_matchable": quality.max_matchable,
            "candidates": quality.candidates,
            "blocking_pairs": quality.blocking_pairs,
            "solve_seconds": quality.solve_seconds,
            "details": dict(quality.details),
        },
    }


def check_proposed(
    document: Mapping[str, Any], pool: Pool, settings: ProgramSettings
) -> list[dict[str, Any]]:
    """Checks and scores manual matches (``proposed_matches``) against the hard rules."""
    raw = document.get("proposed_matches", [])
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InvalidArgument("proposed_matches", "must be a list")
    people = {person.participant_id: person for person in pool.participants}
    report: list[dict[str, Any]] = []
    for k, item in enumerate(raw):
        field = f"proposed_matches[{k}]"
        data = _mapping(item, field)
        _only_known(data, PROPOSED_KEYS, field)
        ids = []
        for name in ("mentor_id", "mentee_id"):
            participant_id = _text(data.get(name), f"{field}.{name}", allow_empty=False)
            if participant_id not in people:
                raise InvalidArgument(f"{field}.{name}", "names no participant of this program")
            ids.append(participant_id)
        mentor, mentee = people[ids[0]], people[ids[1]]
        load = _integer(data.get("mentor_current_load", 0), f"{field}.mentor_current_load")
        violations = check_pair(mentor, mentee, settings, mentor_current_load=load)
        if settings.format is ProgramFormat.PEER:
            breakdown = score_peers(mentor, mentee, settings)
            score, points = breakdown.total / 2, {name: value / 2 for name, value in breakdown.points.items()}
        else:
            breakdown = score_pair(mentor, mentee, settings)
            score, points = breakdown.total, breakdown.points
        report.append(
            {
                "mentor_id": mentor.participant_id,
                "mentee_id": mentee.participant_id,
                "allowed": not violations,
                "violations": list(violations),
                "score": score,
                "breakdown": points,
            }
        )
    return report


def run_audit(document: Mapping[str, Any]) -> dict[str, Any]:
    """Loads the document, solves the program and returns the full JSON-ready report."""
    pool, settings = load_program(document)
    result = solve(pool, settings)
    report = result_to_dict(result)
    report["solver"] = solver_name(settings)
    report["proposed_matches"] = check_proposed(document, pool, settings)
    return report
