"""What makes a profile acceptable for a role in a program: every field checked and normalised, and the
nominees checked against the directory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Final

from services.enrollment.domain.common import (
    MAX_GRADE,
    normalise_tags,
    require_int,
    require_number,
    require_tags,
    require_text,
)
from services.enrollment.domain.employees import Employee, EmployeeStatus
from services.enrollment.domain.profile import (
    Availability,
    Goal,
    MustHaves,
    Preferences,
    Profile,
    Role,
    TimeSlot,
)
from services.enrollment.domain.programs import Program, ProgramFormat
from services.shared.errors import FailedPrecondition, InvalidArgument

MAX_NOMINATIONS: Final = 10
MAX_GOALS: Final = 10
MAX_SLOTS: Final = 50
MAX_WEEKLY_HOURS: Final = 40.0


def allowed_roles(program_format: ProgramFormat) -> frozenset[Role]:
    """PEER programs take peers only; every other format takes mentors and mentees."""
    if program_format is ProgramFormat.PEER:
        return frozenset({Role.PEER})
    return frozenset({Role.MENTOR, Role.MENTEE})


def validate_profile(profile: Profile, *, role: Role, employee_id: str, program: Program) -> Profile:
    """Check a profile for this role in this program; return it normalised (tags lower-cased,
    mentor capacity defaulted). InvalidArgument names the field, e.g. ``profile.nominations[3]``.

    REVERSE programs: a mentor must offer the program's reverse skill; a mentee is taken to want it.
    Nominations are not checked against the directory (a nominee may not be enrolled yet); matching
    ignores nominees who are not mentors in the program.
    """
    if not isinstance(role, Role):
        raise InvalidArgument("role", "must be MENTOR, MENTEE or PEER")
    if role not in allowed_roles(program.spec.format):
        raise InvalidArgument("role", f"a {program.spec.format.name} program does not take {role.name}s")
    if not isinstance(profile, Profile):
        raise InvalidArgument("profile", "must be a Profile")
    skills_offered = require_tags(profile.skills_offered, "profile.skills_offered")
    skills_wanted = require_tags(profile.skills_wanted, "profile.skills_wanted")
    reverse_skill = program.spec.reverse_skill
    if reverse_skill is not None:
        if role is Role.MENTOR and reverse_skill not in skills_offered:
            raise InvalidArgument("profile.skills_offered", f"a reverse mentor must offer {reverse_skill!r}")
        if role is Role.MENTEE:
            skills_wanted = normalise_tags((*skills_wanted, reverse_skill))
    return replace(
        profile,
        skills_offered=skills_offered,
        skills_wanted=skills_wanted,
        goals=_validate_goals(profile.goals),
        nominations=_validate_nominations(profile.nominations, role=role, employee_id=employee_id),
        languages=require_tags(profile.languages, "profile.languages", max_length=35),
        availability=_validate_availability(profile.availability),
        capacity=_validate_capacity(profile.capacity, role=role, program=program),
        preferences=_validate_preferences(profile.preferences),
        must_haves=_validate_must_haves(profile.must_haves),
        requested_skill_areas=_validate_skill_areas(profile.requested_skill_areas, role=role),
    )


def _validate_goals(goals: object) -> tuple[Goal, ...]:
    if not isinstance(goals, tuple | list):
        raise InvalidArgument("profile.goals", "must be a list of goals")
    if len(goals) > MAX_GOALS:
        raise InvalidArgument("profile.goals", f"at most {MAX_GOALS} goals")
    cleaned: list[Goal] = []
    given_ids: set[str] = set()
    for index, goal in enumerate(goals):
        field = f"profile.goals[{index}]"
        if not isinstance(goal, Goal):
            raise InvalidArgument(field, "must be a Goal")
        metric = None if goal.metric is None else require_text(goal.metric, f"{field}.metric", max_length=500)
        target = None if goal.target is None else require_text(goal.target, f"{field}.target", max_length=500)
        if goal.due is not None and (not isinstance(goal.due, date) or isinstance(goal.due, datetime)):
            raise InvalidArgument(f"{field}.due", "must be a date")
        goal_id = require_text(goal.goal_id, f"{field}.goal_id", max_length=64, allow_empty=True)
        if goal_id in given_ids:
            raise InvalidArgument(f"{field}.goal_id", "two goals have the same id")
        if goal_id:
            given_ids.add(goal_id)
        cleaned.append(
            Goal(
                what=require_text(goal.what, f"{field}.what", max_length=500),
                metric=metric or None,
                target=target or None,
                due=goal.due,
                goal_id=goal_id,
                skill_tags=require_tags(goal.skill_tags, f"{field}.skill_tags", max_items=10),
            )
        )
    return _with_goal_ids(cleaned, given_ids)


def _with_goal_ids(goals: list[Goal], taken: set[str]) -> tuple[Goal, ...]:
    """Give each goal without an id the first free ``g<n>``, so progress can refer to it later."""
    numbers = (f"g{n}" for n in range(1, 2 * MAX_GOALS + 2))
    named: list[Goal] = []
    for goal in goals:
        if not goal.goal_id:
            goal = replace(goal, goal_id=next(name for name in numbers if name not in taken))
        named.append(goal)
    return tuple(named)


def _validate_nominations(nominations: object, *, role: Role, employee_id: str) -> tuple[str, ...]:
    if isinstance(nominations, str) or not isinstance(nominations, tuple | list):
        raise InvalidArgument("profile.nominations", "must be a list of employee ids")
    if nominations and role is Role.MENTOR:
        raise InvalidArgument("profile.nominations", "only mentees and peers nominate")
    if len(nominations) > MAX_NOMINATIONS:
        raise InvalidArgument("profile.nominations", f"at most {MAX_NOMINATIONS} nominations")
    seen: set[str] = set()
    for index, nominee in enumerate(nominations):
        field = f"profile.nominations[{index}]"
        if not isinstance(nominee, str) or not nominee.strip():
            raise InvalidArgument(field, "must be an employee id")
        if nominee == employee_id:
            raise InvalidArgument(field, "cannot nominate yourself")
        if nominee in seen:
            raise InvalidArgument(field, "nominated twice")
        seen.add(nominee)
    return tuple(nominations)


def check_nominees(
    nominations: Sequence[str],
    nominees: Mapping[str, Employee],
    management_chain: tuple[str, ...],
    *,
    already_nominated: Iterable[str] = (),
) -> None:
    """Whom a mentee nominates must be in the directory, still employed, and outside the mentee's
    management chain (a mentor is never the mentee's boss). ``nominees``: the directory records of the
    nominated ids; nominations kept from an earlier profile are not checked again (a nominee who left
    since does not block an unrelated profile change; matching skips them)."""
    kept = set(already_nominated)
    for index, nominee in enumerate(nominations):
        if nominee in kept:
            continue
        field = f"profile.nominations[{index}]"
        employee = nominees.get(nominee)
        if employee is None:
            raise InvalidArgument(field, "no employee has this id")
        if employee.status in (EmployeeStatus.TERMINATED, EmployeeStatus.ERASED):
            raise FailedPrecondition("nominee_not_employed", f"nominated mentor {index} no longer works here")
        if nominee in management_chain:
            raise FailedPrecondition(
                "management_chain", f"nominated mentor {index} is in your management chain"
            )


def _validate_availability(availability: object) -> Availability:
    if not isinstance(availability, Availability):
        raise InvalidArgument("profile.availability", "must be an Availability")
    weekly_hours = availability.weekly_hours
    if isinstance(weekly_hours, bool) or not isinstance(weekly_hours, int | float) or weekly_hours <= 0:
        raise InvalidArgument("profile.availability.weekly_hours", "must be a positive number")
    require_number(weekly_hours, "profile.availability.weekly_hours", minimum=0.0, maximum=MAX_WEEKLY_HOURS)
    if not isinstance(availability.slots, tuple | list):
        raise InvalidArgument("profile.availability.slots", "must be a list of time slots")
    if len(availability.slots) > MAX_SLOTS:
        raise InvalidArgument("profile.availability.slots", f"at most {MAX_SLOTS} slots")
    for index, slot in enumerate(availability.slots):
        field = f"profile.availability.slots[{index}]"
        if not isinstance(slot, TimeSlot):
            raise InvalidArgument(field, "must be a TimeSlot")
        require_int(slot.weekday, f"{field}.weekday", minimum=0, maximum=6)
        if not isinstance(slot.start, time) or not isinstance(slot.end, time):
            raise InvalidArgument(field, "start and end must be times of day")
        if slot.end <= slot.start:
            raise InvalidArgument(f"{field}.end", "must be after start")
    start, end = availability.work_start_hour, availability.work_end_hour
    if (start is None) != (end is None):
        raise InvalidArgument(
            "profile.availability.work_end_hour" if end is None else "profile.availability.work_start_hour",
            "working hours need both a start and an end",
        )
    if start is not None and end is not None:
        require_int(start, "profile.availability.work_start_hour", minimum=0, maximum=23)
        require_int(end, "profile.availability.work_end_hour", minimum=1, maximum=24)
        if start == end % 24:
            raise InvalidArgument("profile.availability.work_end_hour", "must differ from work_start_hour")
    return replace(availability, weekly_hours=float(weekly_hours), slots=tuple(availability.slots))


def _validate_capacity(capacity: object, *, role: Role, program: Program) -> int | None:
    if role is not Role.MENTOR:
        if capacity is not None:
            raise InvalidArgument("profile.capacity", "only mentors have a capacity")
        return None
    if capacity is None:
        return program.spec.mentor_capacity_default
    return require_int(capacity, "profile.capacity", minimum=1, maximum=program.spec.cap_per_mentor)


def _validate_preferences(preferences: object) -> Preferences:
    if not isinstance(preferences, Preferences):
        raise InvalidArgument("profile.preferences", "must be Preferences")
    for name in ("prefers_other_department", "prefers_other_division", "prefers_same_location"):
        if not isinstance(getattr(preferences, name), bool):
            raise InvalidArgument(f"profile.preferences.{name}", "must be a boolean")
    if preferences.max_grade_gap is not None:
        require_int(
            preferences.max_grade_gap, "profile.preferences.max_grade_gap", minimum=0, maximum=MAX_GRADE
        )
    return preferences


def _validate_must_haves(must_haves: object) -> MustHaves:
    if not isinstance(must_haves, MustHaves):
        raise InvalidArgument("profile.must_haves", "must be MustHaves")
    for name in ("same_location", "shared_language", "other_department"):
        if not isinstance(getattr(must_haves, name), bool):
            raise InvalidArgument(f"profile.must_haves.{name}", "must be a boolean")
    languages = require_tags(
        must_haves.languages, "profile.must_haves.languages", max_items=10, max_length=35
    )
    return replace(must_haves, languages=languages)


def _validate_skill_areas(areas: object, *, role: Role) -> tuple[str, ...]:
    tags = require_tags(areas, "profile.requested_skill_areas", max_items=MAX_NOMINATIONS)
    if tags and role is not Role.MENTEE:
        raise InvalidArgument("profile.requested_skill_areas", "only mentees request skill areas")
    return tags
