"""Notification templates: a title and a body per template and audience.

Texts are built only from :class:`Facts`, which hold no person's name, e-mail or id and no free text
written by someone (reasons arrive as free text upstream, so only codes the platform defines are used).
Whatever a template renders can therefore go to any channel, and into logs, without leaking personal data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final


class Template(enum.StrEnum):
    ENROLLED = "enrolled"
    MATCH_PROPOSED = "match_proposed"
    MATCH_ACCEPTED = "match_accepted"
    MATCH_DECLINED = "match_declined"
    MATCH_ACTIVATED = "match_activated"
    MATCH_ENDED = "match_ended"
    SESSION_SCHEDULED = "session_scheduled"
    SESSION_MOVED = "session_moved"
    SESSION_CANCELLED = "session_cancelled"


class Audience(enum.StrEnum):
    """Whom a text addresses: the same event reads differently to the mentor and to a mentee."""

    MENTOR = "mentor"
    MENTEE = "mentee"


DEFAULT_PROGRAM_NAME: Final = "your mentoring programme"
# The session service's code for sessions cancelled because their match ended.
MATCH_ENDED_CANCELLATION: Final = "match_ended"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a text may mention. ``by`` is the role of whoever acted (accepted, declined, ended)."""

    program_name: str = ""
    role: Audience | None = None
    by: Audience | None = None
    starts_at: datetime | None = None
    duration_minutes: int = 0
    respond_by: datetime | None = None
    rematch_offered: bool = False
    cancellation_code: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    body: str


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "the planned time"
    return moment.astimezone(UTC).strftime("%A %d %B %Y, %H:%M UTC")


def _other(audience: Audience) -> str:
    return "mentee" if audience is Audience.MENTOR else "mentor"


def render(template: Template, audience: Audience, facts: Facts) -> Rendered:
    program = facts.program_name or DEFAULT_PROGRAM_NAME
    if template is Template.ENROLLED:
        role = f" as a {facts.role.value}" if facts.role is not None else ""
        return Rendered(
            f"You are enrolled in {program}",
            f"Your enrollment{role} in {program} is confirmed. "
            "We will let you know when a match is proposed.",
        )
    if template is Template.MATCH_PROPOSED:
        deadline = f" by {_when(facts.respond_by)}" if facts.respond_by is not None else ""
        if audience is Audience.MENTOR:
            return Rendered(
                "A mentee has been proposed to you",
                f"In {program}, a match has been proposed with you as the mentor. "
                f"Please accept or decline it in the app{deadline}.",
            )
        return Rendered(
            "A mentor has been proposed to you",
            f"In {program}, a mentor has been proposed to you. "
            f"Please accept or decline the match in the app{deadline}.",
        )
    if template is Template.MATCH_ACCEPTED:
        who = f"Your {facts.by.value}" if facts.by is not None else "The other side"
        return Rendered(
            "Your match was accepted",
            f"{who} accepted the proposed match in {program}. It starts once everyone has accepted.",
        )
    if template is Template.MATCH_DECLINED:
        return Rendered(
            "A proposed match was declined",
            f"The proposed match in {program} was declined. You remain in the programme "
            "and will be considered for another match.",
        )
    if template is Template.MATCH_ACTIVATED:
        return Rendered(
            "Your mentoring relationship has started",
            f"Everyone accepted: your match in {program} is active. "
            f"Plan your first session with your {_other(audience)} in the app.",
        )
    if template is Template.MATCH_ENDED:
        offered = facts.rematch_offered and audience is Audience.MENTEE
        follow_up = " A new match will be offered to you." if offered else ""
        return Rendered(
            "Your mentoring relationship has ended",
            f"Your match in {program} has ended. Thank you for taking part.{follow_up}",
        )
    if template is Template.SESSION_SCHEDULED:
        length = f"{facts.duration_minutes}-minute " if facts.duration_minutes > 0 else ""
        return Rendered(
            "Mentoring session scheduled",
            f"A {length}mentoring session is scheduled for {_when(facts.starts_at)}. "
            "You can add it to your calendar from the app.",
        )
    if template is Template.SESSION_MOVED:
        length = f"{facts.duration_minutes}-minute " if facts.duration_minutes > 0 else ""
        return Rendered(
            "Mentoring session moved",
            f"Your {length}mentoring session has moved to {_when(facts.starts_at)}.",
        )
    because = (
        " because the mentoring relationship has ended"
        if facts.cancellation_code == MATCH_ENDED_CANCELLATION
        else ""
    )
    return Rendered(
        "Mentoring session cancelled",
        f"The mentoring session planned for {_when(facts.starts_at)} has been cancelled{because}.",
    )
