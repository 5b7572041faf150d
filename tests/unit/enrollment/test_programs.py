"""Program aggregate: validation per field, partial updates, status lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.enrollment.domain import (
    Cohort,
    Delivery,
    Eligibility,
    EnrollmentWindow,
    GroupSize,
    MatchingMode,
    ProgramClosed,
    ProgramCreated,
    ProgramFormat,
    ProgramPatch,
    ProgramSpec,
    ProgramStatus,
    ProgramUpdated,
    ScoringWeights,
    SessionCadence,
    SpeedRounds,
    close_program,
    create_program,
    open_program,
    update_program,
)
from services.shared.errors import FailedPrecondition, InvalidArgument

NOW = datetime(2025, 1, 10, tzinfo=UTC)
LATER = datetime(2025, 1, 11, tzinfo=UTC)

SPEC = ProgramSpec(
    name="  Leaders of tomorrow ",
    format=ProgramFormat.ONE_ON_ONE,
    delivery=Delivery.HYBRID,
    formal=True,
    enrollment_window=EnrollmentWindow(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)),
    cohort=Cohort(date(2025, 2, 15), date(2025, 8, 15)),
    eligibility=Eligibility(departments=frozenset({" Engineering "}), grade_min=3, grade_max=9),
    mentor_capacity_default=2,
    cap_per_mentor=4,
)


def create(spec: ProgramSpec = SPEC, *, draft: bool = False) -> ProgramCreated:
    change = create_program(program_id="P1", tenant="acme", spec=spec, now=NOW, draft=draft)
    event = change.events[0]
    assert isinstance(event, ProgramCreated)
    assert event.program == change.state
    return event


def test_create_validates_normalises_and_announces() -> None:
    event = create()
    program = event.program
    assert program.status is ProgramStatus.OPEN
    assert program.spec.name == "Leaders of tomorrow"
    assert program.spec.eligibility.departments == frozenset({"Engineering"})
    assert (event.tenant, event.key, event.occurred_at) == ("acme", "P1", NOW)
    assert program.revision == 1


def test_draft_opens_later() -> None:
    draft = create(draft=True).program
    assert draft.status is ProgramStatus.DRAFT
    opened = open_program(draft, now=LATER)
    assert opened.state.status is ProgramStatus.OPEN
    assert opened.events == (
        ProgramUpdated(tenant="acme", occurred_at=LATER, program=opened.state, changed_fields=("status",)),
    )
    assert open_program(opened.state, now=LATER).events == ()


WINDOW = SPEC.enrollment_window


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: replace(s, name="   "), "name"),
        (lambda s: replace(s, name="x" * 201), "name"),
        (lambda s: replace(s, description="x" * 5001), "description"),
        (lambda s: replace(s, format="ONE_ON_ONE"), "format"),
        (lambda s: replace(s, delivery=None), "delivery"),
        (lambda s: replace(s, matching_mode="best"), "matching_mode"),
        (lambda s: replace(s, formal="yes"), "formal"),
        (
            lambda s: replace(s, enrollment_window=EnrollmentWindow(WINDOW.closes, WINDOW.opens)),
            "enrollment_window.closes",
        ),
        (
            lambda s: replace(s, enrollment_window=EnrollmentWindow(WINDOW.opens, WINDOW.opens)),
            "enrollment_window.closes",
        ),
        (
            lambda s: replace(s, enrollment_window=EnrollmentWindow(datetime(2025, 1, 1), WINDOW.closes)),
            "enrollment_window.opens",
        ),
        (lambda s: replace(s, cohort=Cohort(date(2025, 3, 1), date(2025, 2, 1))), "cohort.end"),
        (lambda s: replace(s, cohort=Cohort(date(2024, 12, 1), date(2025, 2, 1))), "cohort.start"),
        (lambda s: replace(s, cohort=Cohort(datetime(2025, 3, 1), date(2025, 4, 1))), "cohort.start"),
        (lambda s: replace(s, eligibility=Eligibility(grade_min=8, grade_max=3)), "eligibility.grade_min"),
        (lambda s: replace(s, eligibility=Eligibility(grade_max=-1)), "eligibility.grade_max"),
        (
            lambda s: replace(s, eligibility=Eligibility(minimum_tenure_days=-5)),
            "eligibility.minimum_tenure_days",
        ),
        (
            lambda s: replace(s, eligibility=Eligibility(departments=frozenset({""}))),
            "eligibility.departments",
        ),
        (lambda s: replace(s, eligibility=Eligibility(locations="Paris")), "eligibility.locations"),  # type: ignore[arg-type]
        (lambda s: replace(s, mentor_capacity_default=0), "mentor_capacity_default"),
        (lambda s: replace(s, cap_per_mentor=1), "cap_per_mentor"),
        (lambda s: replace(s, format=ProgramFormat.GROUP), "group_size"),
        (lambda s: replace(s, format=ProgramFormat.GROUP, group_size=GroupSize(6, 3)), "group_size.min_size"),
        (lambda s: replace(s, format=ProgramFormat.GROUP, group_size=GroupSize(1, 3)), "group_size.min_size"),
        (lambda s: replace(s, group_size=GroupSize(2, 4)), "group_size"),
        (lambda s: replace(s, weights=ScoringWeights(skills=-0.1)), "weights.skills"),
        (lambda s: replace(s, weights=ScoringWeights(repeat_penalty=float("nan"))), "weights.repeat_penalty"),
        (lambda s: replace(s, weights=ScoringWeights(diversity=-1)), "weights.diversity"),
        (lambda s: replace(s, cadence=SessionCadence(every_days=0)), "cadence.every_days"),
        (lambda s: replace(s, cadence=SessionCadence(duration_minutes=1)), "cadence.duration_minutes"),
        (lambda s: replace(s, format=ProgramFormat.REVERSE), "reverse_skill"),
        (lambda s: replace(s, format=ProgramFormat.REVERSE, reverse_skill=" "), "reverse_skill"),
        (lambda s: replace(s, reverse_skill="tiktok"), "reverse_skill"),
        (lambda s: replace(s, format=ProgramFormat.SPEED), "speed_rounds"),
        (
            lambda s: replace(s, format=ProgramFormat.SPEED, speed_rounds=SpeedRounds(0, 10)),
            "speed_rounds.rounds",
        ),
        (
            lambda s: replace(s, format=ProgramFormat.SPEED, speed_rounds=SpeedRounds(5, 1)),
            "speed_rounds.minutes_per_round",
        ),
        (lambda s: replace(s, speed_rounds=SpeedRounds(5, 10)), "speed_rounds"),
        (lambda s: replace(s, remote_min_overlap_hours=25), "remote_min_overlap_hours"),
        (lambda s: replace(s, remote_min_overlap_hours=-1), "remote_min_overlap_hours"),
    ],
)
def test_invalid_spec_names_the_field(change: Callable[[ProgramSpec], ProgramSpec], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        create(change(SPEC))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("program_id", "tenant", "field"), [("", "acme", "program_id"), ("P1", "", "tenant")]
)
def test_identity_is_required(program_id: str, tenant: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        create_program(program_id=program_id, tenant=tenant, spec=SPEC, now=NOW)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "spec",
    [
        replace(SPEC, format=ProgramFormat.GROUP, group_size=GroupSize(3, 6)),
        replace(SPEC, format=ProgramFormat.REVERSE, reverse_skill="Generative AI"),
        replace(SPEC, format=ProgramFormat.SPEED, speed_rounds=SpeedRounds(6, 8)),
        replace(
            SPEC,
            format=ProgramFormat.PEER,
            matching_mode=MatchingMode.MENTEE_CHOICE,
            delivery=Delivery.REMOTE,
        ),
    ],
)
def test_each_format_with_its_required_settings_is_valid(spec: ProgramSpec) -> None:
    assert create(spec).program.spec.format is spec.format


def test_reverse_skill_is_normalised_like_skills() -> None:
    program = create(replace(SPEC, format=ProgramFormat.REVERSE, reverse_skill=" Generative  AI ")).program
    assert program.spec.reverse_skill == "generative ai"


def test_partial_update_changes_only_what_it_carries() -> None:
    program = create().program
    change = update_program(
        program,
        ProgramPatch(name="Leaders 2025", weights=ScoringWeights(skills=3)),
        has_enrollments=True,
        now=LATER,
    )
    updated = change.state
    assert updated.spec.name == "Leaders 2025"
    assert updated.spec.weights.skills == 3
    assert updated.spec.eligibility == program.spec.eligibility
    assert (updated.revision, updated.updated_at, updated.created_at) == (2, LATER, NOW)
    assert change.events == (
        ProgramUpdated(tenant="acme", occurred_at=LATER, program=updated, changed_fields=("name", "weights")),
    )


def test_update_that_changes_nothing_emits_nothing() -> None:
    program = create().program
    change = update_program(
        program, ProgramPatch(name=" Leaders of tomorrow"), has_enrollments=False, now=LATER
    )
    assert change.state is program
    assert change.events == ()


def test_update_is_validated_as_a_whole() -> None:
    program = create().program
    with pytest.raises(InvalidArgument) as caught:
        update_program(program, ProgramPatch(format=ProgramFormat.GROUP), has_enrollments=False, now=LATER)
    assert caught.value.field == "group_size"
    grouped = update_program(
        program,
        ProgramPatch(format=ProgramFormat.GROUP, group_size=GroupSize(2, 5)),
        has_enrollments=False,
        now=LATER,
    )
    assert grouped.state.spec.format is ProgramFormat.GROUP


@pytest.mark.parametrize(
    "patch",
    [
        ProgramPatch(format=ProgramFormat.SPEED, speed_rounds=SpeedRounds(4, 10)),
        ProgramPatch(formal=True),
    ],
)
def test_format_and_formality_freeze_once_people_enrolled(patch: ProgramPatch) -> None:
    program = create(replace(SPEC, formal=False)).program
    with pytest.raises(FailedPrecondition) as caught:
        update_program(program, patch, has_enrollments=True, now=LATER)
    assert caught.value.rule == "program_has_enrollments"
    assert update_program(program, patch, has_enrollments=False, now=LATER).events != ()


def test_formality_can_be_relaxed_with_enrollments() -> None:
    program = create().program
    change = update_program(program, ProgramPatch(formal=False), has_enrollments=True, now=LATER)
    assert change.state.spec.formal is False


def test_closed_program_cannot_change_or_reopen_and_closing_is_idempotent() -> None:
    program = create().program
    closing = close_program(program, now=LATER)
    assert closing.state.status is ProgramStatus.CLOSED
    assert closing.events == (ProgramClosed(tenant="acme", occurred_at=LATER, program_id="P1"),)
    assert close_program(closing.state, now=LATER).events == ()
    for attempt in (
        lambda: update_program(closing.state, ProgramPatch(name="x"), has_enrollments=False, now=LATER),
        lambda: open_program(closing.state, now=LATER),
    ):
        with pytest.raises(FailedPrecondition) as caught:
            attempt()
        assert caught.value.rule == "program_closed"


def test_cadence_in_sessions_per_month() -> None:
    assert SessionCadence(every_days=15).sessions_per_month == pytest.approx(2.0)
