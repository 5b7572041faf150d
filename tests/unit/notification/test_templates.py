"""Notification texts: one per template and audience, built from facts that hold no personal data."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.notification.domain.templates import (
    DEFAULT_PROGRAM_NAME,
    MATCH_ENDED_CANCELLATION,
    Audience,
    Facts,
    Template,
    render,
)

FULL = Facts(
    program_name="Engineering mentoring 2030",
    role=Audience.MENTEE,
    by=Audience.MENTOR,
    starts_at=datetime(2030, 6, 1, 9, 30, tzinfo=UTC),
    duration_minutes=45,
    respond_by=datetime(2030, 5, 30, 17, 0, tzinfo=UTC),
    rematch_offered=True,
    cancellation_code=MATCH_ENDED_CANCELLATION,
)


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize("audience", list(Audience))
def test_every_template_renders_for_every_audience(template: Template, audience: Audience) -> None:
    rendered = render(template, audience, FULL)
    assert rendered.title and rendered.body
    assert "{" not in rendered.title + rendered.body, "no placeholder left unfilled"
    assert "None" not in rendered.body


def test_facts_are_exactly_the_reviewed_non_personal_fields() -> None:
    # A new field must be reviewed for personal data before texts may use it.
    assert {field.name for field in fields(Facts)} == {
        "program_name",
        "role",
        "by",
        "starts_at",
        "duration_minutes",
        "respond_by",
        "rematch_offered",
        "cancellation_code",
    }


def test_programme_name_appears_and_has_a_fallback() -> None:
    assert "Engineering mentoring 2030" in render(Template.MATCH_ACTIVATED, Audience.MENTOR, FULL).body
    assert DEFAULT_PROGRAM_NAME in render(Template.MATCH_ACTIVATED, Audience.MENTOR, Facts()).body


def test_a_proposal_reads_differently_to_mentor_and_mentee() -> None:
    to_mentor = render(Template.MATCH_PROPOSED, Audience.MENTOR, FULL)
    to_mentee = render(Template.MATCH_PROPOSED, Audience.MENTEE, FULL)
    assert to_mentor.title != to_mentee.title
    assert "Thursday 30 May 2030, 17:00 UTC" in to_mentee.body


def test_session_times_are_shown_in_utc() -> None:
    local = Facts(
        starts_at=datetime(2030, 6, 1, 11, 30, tzinfo=timezone(timedelta(hours=2))), duration_minutes=45
    )
    body = render(Template.SESSION_SCHEDULED, Audience.MENTEE, local).body
    assert "Saturday 01 June 2030, 09:30 UTC" in body
    assert "45-minute" in body


def test_cancellation_explains_only_the_platform_code() -> None:
    ended = render(Template.SESSION_CANCELLED, Audience.MENTOR, FULL).body
    assert "relationship has ended" in ended
    other = render(
        Template.SESSION_CANCELLED, Audience.MENTOR, Facts(cancellation_code="flu, says Jane")
    ).body
    assert "Jane" not in other and "relationship has ended" not in other


def test_rematch_is_promised_to_mentees_only() -> None:
    assert "new match" in render(Template.MATCH_ENDED, Audience.MENTEE, FULL).body
    assert "new match" not in render(Template.MATCH_ENDED, Audience.MENTOR, FULL).body
    assert "new match" not in render(Template.MATCH_ENDED, Audience.MENTEE, Facts()).body
