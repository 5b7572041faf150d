"""Profiles, domain <-> wire (availability is per week in the domain, per month on the
wire)."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from mentoring.v1 import common_pb2

from services.enrollment.adapters.translate.enums import day_timestamp
from services.enrollment.domain import (
    Availability,
    Goal,
    MustHaves,
    Preferences,
    Profile,
)
from services.shared.errors import InvalidArgument
from services.shared.timestamps import instant

WEEKS_PER_MONTH: Final = 52 / 12
MAX_HOURS_PER_MONTH: Final = 173  # the domain's 40 hours a week


def profile_from_wire(message: common_pb2.Profile) -> Profile:
    hours = message.availability.hours_per_month
    if not 0 <= hours <= MAX_HOURS_PER_MONTH:
        raise InvalidArgument(
            "profile.availability.hours_per_month", f"must be between 0 and {MAX_HOURS_PER_MONTH}"
        )
    start, end = message.availability.work_start_hour, message.availability.work_end_hour
    availability = Availability(
        work_start_hour=None if start == end == 0 else start,
        work_end_hour=None if start == end == 0 else end,
    )
    if hours:
        availability = replace(availability, weekly_hours=hours / WEEKS_PER_MONTH)
    return Profile(
        skills_offered=tuple(message.skills_offered),
        skills_wanted=tuple(message.skills_wanted),
        goals=tuple(
            Goal(
                what=goal.what,
                metric=goal.metric or None,
                target=goal.target or None,
                due=instant(goal.due).date() if goal.HasField("due") else None,
                goal_id=goal.goal_id,
                skill_tags=tuple(goal.skill_tags),
            )
            for goal in message.goals
        ),
        nominations=tuple(message.nominated_mentor_ids),
        languages=tuple(message.languages),
        availability=availability,
        capacity=message.capacity or None,
        preferences=Preferences(prefers_other_department=message.preferences.prefers_other_department),
        must_haves=MustHaves(
            same_location=message.preferences.must_share_location,
            languages=tuple(message.preferences.must_speak_languages),
        ),
        requested_skill_areas=tuple(message.requested_skill_areas),
    )


def _goal_to_wire(goal: Goal) -> common_pb2.Goal:
    message = common_pb2.Goal(
        goal_id=goal.goal_id,
        what=goal.what,
        metric=goal.metric or "",
        target=goal.target or "",
        skill_tags=list(goal.skill_tags),
    )
    if goal.due is not None:
        message.due.CopyFrom(day_timestamp(goal.due))
    return message


def _availability_to_wire(availability: Availability) -> common_pb2.Availability:
    return common_pb2.Availability(
        hours_per_month=round(availability.weekly_hours * WEEKS_PER_MONTH),
        work_start_hour=availability.work_start_hour or 0,
        work_end_hour=availability.work_end_hour or 0,
    )


def profile_to_wire(profile: Profile, *, languages: tuple[str, ...] | None = None) -> common_pb2.Profile:
    return common_pb2.Profile(
        skills_offered=list(profile.skills_offered),
        skills_wanted=list(profile.skills_wanted),
        goals=[_goal_to_wire(goal) for goal in profile.goals],
        nominated_mentor_ids=list(profile.nominations),
        languages=list(profile.languages if languages is None else languages),
        availability=_availability_to_wire(profile.availability),
        capacity=profile.capacity or 0,
        preferences=common_pb2.Preferences(
            prefers_other_department=profile.preferences.prefers_other_department,
            must_share_location=profile.must_haves.same_location,
            must_speak_languages=list(profile.must_haves.languages),
        ),
        requested_skill_areas=list(profile.requested_skill_areas),
    )
