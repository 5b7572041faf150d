"""Notification texts: one per template and audience, built from facts that hold no personal data."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.notification.domain.templates import (
    DEFAULT_PROGRAM_NAME,
    MATCH_ENDED_CANCELLATION,
    Action,
    Audience,
    Facts,
    ProgramFormat,
    Reader,
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
        # Reviewed: the programme's format code and the opaque ids of what a text links to.
        "program_format",
        "program_id",
        "match_id",
        "session_id",
        "reminder_hours",
    }


def test_programme_name_appears_and_has_a_fallback() -> None:
    assert "Engineering mentoring 2030" in render(Template.MATCH_ACTIVATED, Audience.MENTOR, FULL).body
    assert DEFAULT_PROGRAM_NAME in render(Template.MATCH_ACTIVATED, Audience.MENTOR, Facts()).body


def test_a_proposal_reads_differently_to_mentor_and_mentee() -> None:
    to_mentor = render(Template.MATCH_PROPOSED, Audience.MENTOR, FULL)
    to_mentee = render(Template.MATCH_PROPOSED, Audience.MENTEE, FULL)
    assert to_mentor.title != to_mentee.title
    assert "Thursday 30 May 2030, 17:00 UTC" in to_mentee.body


def test_session_times_are_shown_in_utc_to_a_reader_of_unknown_zone() -> None:
    local = Facts(
        starts_at=datetime(2030, 6, 1, 11, 30, tzinfo=timezone(timedelta(hours=2))), duration_minutes=45
    )
    body = render(Template.SESSION_SCHEDULED, Audience.MENTEE, local).body
    assert "Saturday 1 June 2030, 09:30 UTC" in body
    assert "45-minute" in body
    unknown = render(Template.SESSION_SCHEDULED, Audience.MENTEE, local, Reader(zone="Mars/Olympus")).body
    assert "09:30 UTC" in unknown


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


BERLIN = Reader(language="de", zone="Europe/Berlin", others=("Grace Hopper",))


def test_times_are_in_the_reader_s_zone_and_language() -> None:
    facts = Facts(starts_at=datetime(2031, 3, 3, 15, 0, tzinfo=UTC), duration_minutes=60, session_id="s-1")
    english = render(Template.SESSION_SCHEDULED, Audience.MENTEE, facts, Reader(zone="America/New_York"))
    assert "Monday 3 March 2031, 10:00 EST" in english.body
    german = render(Template.SESSION_SCHEDULED, Audience.MENTEE, facts, BERLIN)
    assert german.title == "Mentoring-Sitzung am Montag, 3. März 2031, 16:00 Uhr CET"
    assert german.body == (
        "Eine 60-minütige Mentoring-Sitzung mit Grace Hopper ist für Montag, 3. März 2031, 16:00 Uhr CET "
        "geplant."
    )
    summer = replace(facts, starts_at=datetime(2031, 7, 1, 15, 0, tzinfo=UTC))
    assert "17:00 Uhr CEST" in render(Template.SESSION_SCHEDULED, Audience.MENTEE, summer, BERLIN).body
    assert german.action == Action("Sitzung öffnen", "/sessions/s-1")


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize("audience", list(Audience))
def test_every_template_exists_in_german(template: Template, audience: Audience) -> None:
    english = render(template, audience, FULL, Reader(others=("Grace Hopper",)))
    german = render(template, audience, FULL, BERLIN)
    assert german.title != english.title and german.body != english.body
    assert "{" not in german.title + german.body


def test_a_language_without_texts_falls_back_to_english() -> None:
    for language in ("fr", "", "EN-gb"):
        rendered = render(Template.MATCH_DECLINED, Audience.MENTEE, FULL, Reader(language=language))
        assert rendered == render(Template.MATCH_DECLINED, Audience.MENTEE, FULL)


def test_the_counterpart_is_named_so_two_proposals_differ() -> None:
    facts = Facts(program_name="P", match_id="m-1")
    first = render(Template.MATCH_PROPOSED, Audience.MENTOR, facts, Reader(others=("Alan Turing",)))
    second = render(Template.MATCH_PROPOSED, Audience.MENTOR, facts, Reader(others=("Ada Lovelace",)))
    assert first.title == "Proposed mentee: Alan Turing" and second.title == "Proposed mentee: Ada Lovelace"
    assert "Alan Turing has been proposed to you as a mentee" in first.body
    assert first.action == Action("Accept or decline", "/matches/m-1")
    mentee = render(Template.MATCH_PROPOSED, Audience.MENTEE, facts, Reader(others=("Grace Hopper",)))
    assert "Grace Hopper has been proposed to you as your mentor" in mentee.body
    group = render(Template.MATCH_PROPOSED, Audience.MENTOR, facts, Reader(others=("Alan", "Ada", "Bob")))
    assert "a group of 3 mentees" in group.body and "Alan, Ada and Bob" in group.body
    anonymous = render(Template.MATCH_PROPOSED, Audience.MENTOR, facts)
    assert anonymous.title == "A mentee has been proposed to you"


def test_a_peer_programme_never_speaks_of_mentor_and_mentee() -> None:
    peer = Facts(program_name="Peers", program_format=ProgramFormat.PEER, role=Audience.MENTOR)
    for template in Template:
        for audience in Audience:
            for reader in (Reader(), Reader(others=("Grace Hopper",)), BERLIN):
                rendered = render(template, audience, peer, reader)
                text = (rendered.title + " " + rendered.body).lower()
                assert "mentor" not in text.replace("mentoring", ""), (template, audience, text)
                assert "mentee" not in text, (template, audience, text)
    proposed = render(Template.MATCH_PROPOSED, Audience.MENTOR, peer, Reader(others=("Grace Hopper",)))
    assert proposed.title == "Proposed peer: Grace Hopper"


def test_no_text_points_to_an_app_that_does_not_exist() -> None:
    for template in Template:
        for audience in Audience:
            rendered = render(template, audience, FULL)
            assert "the app" not in rendered.body and "in the app" not in rendered.title
