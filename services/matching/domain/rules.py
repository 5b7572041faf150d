"""Hard rules: a pair that breaks one is never formed, by any solver or by a manual match.

``check_pair`` is the readable, one-pair statement of the rules; the solvers use a vectorised twin in
``encoding`` and the unit tests check that both agree on every pair of random pools.
"""

from __future__ import annotations

import enum
import functools
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.matching.domain.model import (
    MINUTES_PER_DAY,
    Delivery,
    Participant,
    ProgramFormat,
    ProgramSettings,
    Role,
)
from services.shared.errors import InvalidArgument


class HardRule(enum.StrEnum):
    """Stable names of the hard rules (used in reasons, metrics and FAILED_PRECONDITION errors)."""

    ELIGIBILITY = "eligibility"
    ROLE = "role"
    SELF = "self"
    MANAGEMENT_CHAIN = "management_chain"
    DECLINED = "declined"  # the pair was proposed here before and one of them said no
    DO_NOT_PAIR = "do_not_pair"  # HR's conflicts of interest, or one side's own "not with"
    CAPACITY = "capacity"
    SENIORITY = "seniority"
    PEER_GRADE = "peer_grade"
    REVERSE_SKILL = "reverse_skill"
    LOCATION = "location"
    TIMEZONE_OVERLAP = "timezone_overlap"
    LANGUAGE = "language"
    MUST_HAVE_SKILL = "must_have_skill"
    MUST_HAVE_LANGUAGE = "must_have_language"
    MUST_HAVE_LOCATION = "must_have_location"
    MUST_HAVE_GRADE = "must_have_grade"


RULE_ORDER: Final = tuple(HardRule)


def mentor_and_mentee_roles(program_format: ProgramFormat) -> tuple[Role, Role]:
    if program_format is ProgramFormat.PEER:
        return Role.PEER, Role.PEER
    return Role.MENTOR, Role.MENTEE


def effective_reference_date(settings: ProgramSettings) -> date:
    return settings.reference_date or datetime.now(UTC).date()


@functools.lru_cache(maxsize=4096)
def _zone_offset_minutes(timezone: str, reference_date: date) -> int:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidArgument("timezone", f"unknown IANA timezone {timezone!r}") from error
    offset = datetime.combine(reference_date, time(12), tzinfo=zone).utcoffset()
    assert offset is not None  # a ZoneInfo always answers
    return int(offset.total_seconds() // 60)


def utc_offset_minutes(participant: Participant, reference_date: date) -> int:
    """Offset of the participant's local time from UTC on ``reference_date`` (explicit offset wins)."""
    if participant.utc_offset_minutes is not None:
        return participant.utc_offset_minutes
    return _zone_offset_minutes(participant.timezone or "UTC", reference_date)


def working_interval_utc(participant: Participant, reference_date: date) -> tuple[int, int]:
    """Working hours as [start, end) in UTC minutes, start in [0, 1440), end = start + length."""
    start = (
        participant.work_start_minute - utc_offset_minutes(participant, reference_date)
    ) % MINUTES_PER_DAY
    return start, start + participant.working_minutes


def overlap_minutes(first: tuple[int, int], second: tuple[int, int]) -> int:
    """Daily overlap of two working intervals on the 24-hour circle."""
    total = 0
    for shift in (-MINUTES_PER_DAY, 0, MINUTES_PER_DAY):
        total += max(0, min(first[1], second[1] + shift) - max(first[0], second[0] + shift))
    return total


def capacity_needed(settings: ProgramSettings) -> int:
    """Remaining capacity a mentor needs to be offered anyone: a group mentor must fit a whole group."""
    return settings.group_min_size if settings.format is ProgramFormat.GROUP else 1


def seniority_ok(mentor_grade: int, mentee_grade: int, settings: ProgramSettings) -> bool:
    if settings.format is ProgramFormat.PEER:
        return abs(mentor_grade - mentee_grade) <= settings.peer_grade_tolerance
    if settings.format is ProgramFormat.REVERSE:
        return mentor_grade < mentee_grade
    return mentor_grade > mentee_grade


def must_have_violations(mentor: Participant, mentee: Participant) -> list[str]:
    """The mentee's must-haves that ``mentor`` does not meet (each must-have kind is its own rule)."""
    violated: list[str] = []
    if not mentee.must_have_skills <= mentor.skills_offered:
        violated.append(HardRule.MUST_HAVE_SKILL)
    if not mentee.must_have_languages <= mentor.languages:
        violated.append(HardRule.MUST_HAVE_LANGUAGE)
    if mentee.must_share_location and not (mentee.location and mentor.location == mentee.location):
        violated.append(HardRule.MUST_HAVE_LOCATION)
    if mentee.must_have_min_grade is not None and mentor.grade < mentee.must_have_min_grade:
        violated.append(HardRule.MUST_HAVE_GRADE)
    return violated


def check_pair(
    mentor: Participant,
    mentee: Participant,
    settings: ProgramSettings,
    *,
    mentor_current_load: int = 0,
) -> list[str]:
    """Names of the hard rules that forbid ``mentor`` guiding ``mentee`` in this program ([] = allowed).

    ``mentor_current_load`` is how many mentees the mentor already has in this program (manual matches
    after a run). For PEER programs the order of the two peers does not matter, except for must-haves:
    here the mentee's bind the mentor (the peer solver checks both directions).
    """
    violated: list[str] = []
    if mentor.ineligible_reason is not None or mentee.ineligible_reason is not None:
        violated.append(HardRule.ELIGIBILITY)
    mentor_role, mentee_role = mentor_and_mentee_roles(settings.format)
    if mentor.role is not mentor_role or mentee.role is not mentee_role:
        violated.append(HardRule.ROLE)
    if mentor.participant_id == mentee.participant_id or mentor.employee_id == mentee.employee_id:
        violated.append(HardRule.SELF)
    if mentor.employee_id in mentee.management_chain or mentee.employee_id in mentor.management_chain:
        violated.append(HardRule.MANAGEMENT_CHAIN)
    if mentor.employee_id in mentee.declined_partner_ids or mentee.employee_id in mentor.declined_partner_ids:
        violated.append(HardRule.DECLINED)
    if mentor.employee_id in mentee.do_not_pair_ids or mentee.employee_id in mentor.do_not_pair_ids:
        violated.append(HardRule.DO_NOT_PAIR)
    mentor_room = mentor.remaining_capacity - mentor_current_load
    needed = capacity_needed(settings) if mentor_current_load == 0 else 1
    if settings.format is ProgramFormat.GROUP:
        mentor_room = min(mentor.remaining_capacity, settings.group_max_size) - mentor_current_load
    if mentor_room < needed or mentee.remaining_capacity < 1:
        violated.append(HardRule.CAPACITY)
    if not seniority_ok(mentor.grade, mentee.grade, settings):
        violated.append(HardRule.PEER_GRADE if settings.format is ProgramFormat.PEER else HardRule.SENIORITY)
    if settings.format is ProgramFormat.REVERSE and not (
        settings.reverse_skills & mentor.skills_offered & mentee.skills_wanted
    ):
        violated.append(HardRule.REVERSE_SKILL)
    same_location = bool(mentor.location) and mentor.location == mentee.location
    if settings.delivery is not Delivery.IN_PERSON:
        reference = effective_reference_date(settings)
        overlap = overlap_minutes(
            working_interval_utc(mentor, reference), working_interval_utc(mentee, reference)
        )
        enough_overlap = overlap >= settings.min_overlap_minutes
    else:
        enough_overlap = False
    if settings.delivery is Delivery.IN_PERSON and not same_location:
        violated.append(HardRule.LOCATION)
    elif settings.delivery is Delivery.REMOTE and not enough_overlap:
        violated.append(HardRule.TIMEZONE_OVERLAP)
    elif settings.delivery is Delivery.HYBRID and not (same_location or enough_overlap):
        violated.extend((HardRule.LOCATION, HardRule.TIMEZONE_OVERLAP))
    if not mentor.languages & mentee.languages:
        violated.append(HardRule.LANGUAGE)
    violated.extend(must_have_violations(mentor, mentee))
    return violated
