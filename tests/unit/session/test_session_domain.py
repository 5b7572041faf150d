"""The session domain: relationships, the session state machine, scheduling rules, goals, feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.session.domain.model import (
    MATCH_ENDED_REASON,
    Goal,
    Relationship,
    RelationshipStatus,
    Role,
    Session,
    SessionStatus,
    give_feedback,
    plan_session,
    record_progress,
    sessions_to_cancel_on_end,
    validate_goal,
    validate_session_request,
)
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def relationship() -> Relationship:
    return Relationship.activated("m-1", "prog-1", "E-MENTOR", ["E-MENTEE", "E-MENTEE-2"], tenant="acme")


def session(start: datetime, minutes: int = 60, status: SessionStatus = SessionStatus.SCHEDULED) -> Session:
    return Session(f"s-{start.isoformat()}", "m-1", start, minutes, status=status)


# ---- relationship ----


def test_activated_relationship_knows_its_participants_and_roles() -> None:
    rel = Relationship.activated("m-1", "prog-1", " E-1 ", ["E-2", "E-3", "E-2", " "])
    assert rel.participants == ("E-1", "E-2", "E-3")
    assert rel.role_of("E-1") is Role.MENTOR
    assert rel.role_of("E-3") is Role.MENTEE
    assert rel.role_of("E-9") is None
    assert rel.is_active


@pytest.mark.parametrize(
    ("match_id", "mentor", "mentees", "field"),
    [
        ("", "E-1", ["E-2"], "match.match_id"),
        ("m-1", "", ["E-2"], "match.mentor_employee_id"),
        ("m-1", "E-1", [], "match.mentee_employee_ids"),
        ("m-1", "E-1", ["E-1"], "match.mentee_employee_ids"),
    ],
)
def test_a_malformed_match_is_refused_naming_the_field(
    match_id: str, mentor: str, mentees: list[str], field: str
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        Relationship.activated(match_id, "prog-1", mentor, mentees)
    assert raised.value.field == field


def test_an_ended_relationship_refuses_planning() -> None:
    ended = relationship().end("completed_programme")
    assert ended.status is RelationshipStatus.ENDED
    with pytest.raises(FailedPrecondition) as raised:
        ended.require_active()
    assert raised.value.rule == "relationship_not_active"


# ---- scheduling ----


def test_a_valid_request_is_normalised_to_utc() -> None:
    local = datetime(2030, 3, 5, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    checked = validate_session_request(" m-1 ", local, 45, "  intro \n  goals  ", " r-1 ", NOW)
    assert checked.starts_at == datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
    assert checked.starts_at.utcoffset() == timedelta(0)
    assert (checked.match_id, checked.agenda, checked.request_id) == ("m-1", "intro\ngoals", "r-1")


@pytest.mark.parametrize(
    ("start", "minutes", "field"),
    [
        (None, 60, "starts_at"),
        (NOW, 60, "starts_at"),
        (NOW - timedelta(minutes=1), 60, "starts_at"),
        (NOW + timedelta(days=1), 14, "duration_minutes"),
        (NOW + timedelta(days=1), 481, "duration_minutes"),
        (NOW + timedelta(days=1), 0, "duration_minutes"),
    ],
)
def test_scheduling_input_is_validated(start: datetime | None, minutes: int, field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_session_request("m-1", start, minutes, "", "", NOW)
    assert raised.value.field == field


@pytest.mark.parametrize("minutes", [15, 480])
def test_duration_bounds_are_inclusive(minutes: int) -> None:
    assert (
        validate_session_request("m-1", NOW + timedelta(hours=1), minutes, "", "", NOW).duration_minutes
        == minutes
    )


def test_an_agenda_too_long_is_refused() -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_session_request("m-1", NOW + timedelta(hours=1), 60, "x" * 2001, "", NOW)
    assert raised.value.field == "agenda"


def test_plan_session_on_an_active_relationship() -> None:
    checked = validate_session_request("m-1", NOW + timedelta(days=1), 60, "goals", "req-1", NOW)
    planned = plan_session(relationship(), checked, "s-new", [])
    assert planned.status is SessionStatus.SCHEDULED
    assert planned.ends_at == NOW + timedelta(days=1, minutes=60)
    assert (planned.session_id, planned.request_id, planned.revision) == ("s-new", "req-1", 0)


def test_plan_session_refuses_an_ended_relationship() -> None:
    checked = validate_session_request("m-1", NOW + timedelta(days=1), 60, "", "", NOW)
    with pytest.raises(FailedPrecondition) as raised:
        plan_session(relationship().end("x"), checked, "s-new", [])
    assert raised.value.rule == "relationship_not_active"


@pytest.mark.parametrize(
    ("other_start", "other_minutes", "overlaps"),
    [
        (timedelta(minutes=-60), 60, False),  # ends exactly when the new one starts
        (timedelta(minutes=60), 30, False),  # starts exactly when the new one ends
        (timedelta(minutes=-30), 60, True),
        (timedelta(minutes=59), 30, True),
        (timedelta(minutes=10), 10, True),  # inside
        (timedelta(minutes=-10), 120, True),  # around
    ],
)
def test_overlap_is_half_open(other_start: timedelta, other_minutes: int, overlaps: bool) -> None:
    start = NOW + timedelta(days=1)
    checked = validate_session_request("m-1", start, 60, "", "", NOW)
    other = session(start + other_start, other_minutes)
    if overlaps:
        with pytest.raises(FailedPrecondition) as raised:
            plan_session(relationship(), checked, "s-new", [other])
        assert raised.value.rule == "session_overlap"
    else:
        assert plan_session(relationship(), checked, "s-new", [other]).session_id == "s-new"


def test_a_cancelled_session_does_not_block_its_slot() -> None:
    start = NOW + timedelta(days=1)
    checked = validate_session_request("m-1", start, 60, "", "", NOW)
    freed = session(start, 60, SessionStatus.CANCELLED)
    assert plan_session(relationship(), checked, "s-new", [freed]).starts_at == start


# ---- state machine ----


def test_scheduled_to_completed_keeps_notes_and_bumps_the_revision() -> None:
    done = session(NOW).complete("  went well ", NOW)
    assert (done.status, done.notes, done.revision) == (SessionStatus.COMPLETED, "went well", 1)


def test_scheduled_to_cancelled_keeps_the_reason() -> None:
    cancelled = session(NOW).cancel("illness")
    assert (cancelled.status, cancelled.cancel_reason, cancelled.revision) == (
        SessionStatus.CANCELLED,
        "illness",
        1,
    )


@pytest.mark.parametrize("final", [SessionStatus.COMPLETED, SessionStatus.CANCELLED])
@pytest.mark.parametrize("action", ["complete", "cancel"])
def test_final_states_accept_no_transition(final: SessionStatus, action: str) -> None:
    with pytest.raises(FailedPrecondition) as raised:
        final_session = session(NOW, status=final)
        final_session.complete("", NOW) if action == "complete" else final_session.cancel("")
    assert raised.value.rule == "session_not_scheduled"


def test_ending_cancels_only_sessions_still_to_come() -> None:
    past = session(NOW - timedelta(days=1))
    future = session(NOW + timedelta(days=1))
    done_future = session(NOW + timedelta(days=2), status=SessionStatus.COMPLETED)
    cancelled = sessions_to_cancel_on_end([past, future, done_future], NOW)
    assert [item.session_id for item in cancelled] == [future.session_id]
    assert cancelled[0].status is SessionStatus.CANCELLED
    assert cancelled[0].cancel_reason == MATCH_ENDED_REASON


# ---- goals ----


def test_goal_validation() -> None:
    goal = validate_goal(
        "m-1", "g-1", "  Lead a design review ", "reviews", "3", None, ["Python", "python", " "]
    )
    assert (goal.what, goal.skill_tags) == ("Lead a design review", ("python",))
    with pytest.raises(InvalidArgument) as raised:
        validate_goal("m-1", "g-1", "  ", "", "", None, [])
    assert raised.value.field == "goal.what"


@pytest.mark.parametrize("progress", [-0.01, 1.01, float("nan"), float("inf")])
def test_progress_outside_zero_to_one_is_refused(progress: float) -> None:
    goal = Goal("g-1", "m-1", "what")
    with pytest.raises(InvalidArgument) as raised:
        record_progress(relationship(), goal, progress, "", NOW)
    assert raised.value.field == "progress"


@pytest.mark.parametrize("progress", [0.0, 0.5, 1.0])
def test_progress_within_bounds_is_recorded(progress: float) -> None:
    recorded = record_progress(relationship(), Goal("g-1", "m-1", "what"), progress, "note", NOW)
    assert (recorded.progress, recorded.note, recorded.recorded_at) == (progress, "note", NOW)


def test_progress_on_an_ended_relationship_is_refused() -> None:
    with pytest.raises(FailedPrecondition):
        record_progress(relationship().end("x"), Goal("g-1", "m-1", "what"), 0.5, "", NOW)


# ---- feedback ----


def completed() -> Session:
    return session(NOW - timedelta(days=1)).complete("", NOW)


@pytest.mark.parametrize(("author", "role"), [("E-MENTOR", Role.MENTOR), ("E-MENTEE-2", Role.MENTEE)])
def test_participants_give_feedback_in_their_role(author: str, role: Role) -> None:
    given = give_feedback(relationship(), completed(), author, 4, " helpful ", "f-1", already_given=False)
    assert (given.by, given.rating, given.comment, given.employee_id) == (role, 4, "helpful", author)


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_rating_outside_one_to_five_is_refused(rating: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        give_feedback(relationship(), completed(), "E-MENTOR", rating, "", "f-1", already_given=False)
    assert raised.value.field == "rating"


def test_only_participants_give_feedback() -> None:
    with pytest.raises(FailedPrecondition) as raised:
        give_feedback(relationship(), completed(), "E-STRANGER", 5, "", "f-1", already_given=False)
    assert raised.value.rule == "not_a_participant"


def test_feedback_only_on_a_completed_session() -> None:
    with pytest.raises(FailedPrecondition) as raised:
        give_feedback(relationship(), session(NOW), "E-MENTOR", 5, "", "f-1", already_given=False)
    assert raised.value.rule == "session_not_completed"


def test_feedback_on_a_session_of_another_match_is_refused() -> None:
    other = Session("s-x", "m-2", NOW, 60, status=SessionStatus.COMPLETED)
    with pytest.raises(FailedPrecondition) as raised:
        give_feedback(relationship(), other, "E-MENTOR", 5, "", "f-1", already_given=False)
    assert raised.value.rule == "session_not_in_match"


def test_one_feedback_per_person_per_session() -> None:
    with pytest.raises(AlreadyExists):
        give_feedback(relationship(), completed(), "E-MENTOR", 5, "", "f-1", already_given=True)
