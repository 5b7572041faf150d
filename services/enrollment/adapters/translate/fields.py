"""Domain field paths -> the request's field paths: domain errors name domain fields, and
:func:`renamed` turns them into what the caller sent (``profile.nominations[2]`` ->
``profile.nominated_mentor_ids[2]``), so INVALID_ARGUMENT points at the request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from services.shared.errors import InvalidArgument

# Domain field path -> request field path (longest prefix wins; the rest is kept, e.g. "[3]").
PROGRAM_FIELDS: Final[Mapping[str, str]] = {
    "tenant": "tenant",
    "program_id": "program_id",
    "enrollment_window.opens": "program.enrollment_window.start",
    "enrollment_window.closes": "program.enrollment_window.end",
    "eligibility.grade_min": "program.eligibility.min_grade",
    "eligibility.grade_max": "program.eligibility.max_grade",
    "eligibility.minimum_tenure_days": "program.eligibility.min_tenure_days",
    "cap_per_mentor": "program.mentor_cap_across_programs",
    "group_size.min_size": "program.group_size.min",
    "group_size.max_size": "program.group_size.max",
    "weights.repeat_penalty": "program.weights.repeat_pairing_penalty",
    "cadence.duration_minutes": "program.cadence.session_minutes",
    "speed_rounds": "program.speed_rounds",
    "remote_min_overlap_hours": "program.min_overlap_hours",
}
PROFILE_FIELDS: Final[Mapping[str, str]] = {
    "profile.nominations": "profile.nominated_mentor_ids",
    "profile.availability.weekly_hours": "profile.availability.hours_per_month",
    "profile.must_haves.same_location": "profile.preferences.must_share_location",
    "profile.must_haves.languages": "profile.preferences.must_speak_languages",
}


def renamed(error: InvalidArgument, renames: Mapping[str, str], default_prefix: str = "") -> InvalidArgument:
    """The same error naming the request's field instead of the domain's."""
    field = error.field
    target = None
    for domain_path in sorted(renames, key=len, reverse=True):
        if field == domain_path or field.startswith((domain_path + ".", domain_path + "[")):
            target = renames[domain_path]
            suffix = field[len(domain_path) :]
            if domain_path == "speed_rounds":
                suffix = ""  # one integer on the wire
            target += suffix
            break
    if target is None:
        target = field if field.startswith(default_prefix) else default_prefix + field
    if target == field:
        return error
    return InvalidArgument(target, error.message.removeprefix(f"{field}: "))


@contextmanager
def request_field_names(renames: Mapping[str, str], default_prefix: str = "") -> Iterator[None]:
    """Re-raise the domain's InvalidArgument naming the request's field (see :func:`renamed`)."""
    try:
        yield
    except InvalidArgument as error:
        clone = renamed(error, renames, default_prefix)
        if clone is error:
            raise
        raise clone from error
