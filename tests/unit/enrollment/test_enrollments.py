"""Enrollment: input validation, eligibility per rule, formal goals, double enrolment, transitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.enrollment.domain import (
    RULES,
    Availability,
    Cohort,
    Delivery,
    Eligibility,
    Employee,
    EmployeeStatus,
    Enrollment,
    EnrollmentStatus,
    EnrollmentWindow,
    EraseParticipantData,
    Goal,
    MustHaves,
    Participant,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
    PauseEnrollments,
    PauseReason,
    Preferences,
    Profile,
    Program,
    ProgramFormat,
    ProgramSpec,
    ProgramStatus,
    RefreshParticipant,
    ResumeEnrollments,
    Role,
    TimeSlot,
    Version,
    WithdrawEnrollments,
    apply_effects,
    eligibility_failures,
    enrol,
    erase_enrollment,
    pause_for_leave,
    resume_after_leave,
    update_profile,
    withdraw,
)
from services.enrollment.domain.profile import EMPTY_PROFILE
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

NOW = datetime(2025, 1, 15, 12, tzinfo=UTC)
COHORT = Cohort(date(2025, 2, 1), date(2025, 7, 31))
CHAIN = ("M1", "M0")
ANYONE = Eligibility()
BARE = Profile()
MEASURABLE = Goal("Lead a design review", "reviews led", "3", date(2025, 5, 1))


def make_program(
    *,
    program_format: ProgramFormat = ProgramFormat.ONE_ON_ONE,
    formal: bool = False,
    eligibility: Eligibility = ANYONE,
    status: ProgramStatus = ProgramStatus.OPEN,
    program_id: str = "P1",
    reverse_skill: str | None = None,
) -> Program:
    spec = ProgramSpec(
        name="Program",
        format=program_format,
        delivery=Delivery.IN_PERSON,
        formal=formal,
        enrollment_window=EnrollmentWindow(
            datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 31, tzinfo=UTC)
        ),
        cohort=COHORT,
        eligibility=eligibility,
        mentor_capacity_default=2,
        cap_per_mentor=4,
        reverse_skill=reverse_skill,
    )
    return Program(program_id, "acme", spec, status, NOW, NOW)


def make_employee(employee_id: str = "E1", **attributes: object) -> Employee:
    defaults: dict[str, object] = dict(
        status=EmployeeStatus.ACTIVE,
        version=Version(NOW, 0),
        display_name="Ada Lovelace",
        email="ada@example.com",
        grade=5,
        department="Engineering",
        division="R&D",
        location="London",
        timezone="Europe/London",
        languages=("en",),
        skills=("python",),
        hire_date=date(2020, 1, 1),
        manager_id="M1",
    )
    defaults.update(attributes)
    return Employee(tenant="acme", employee_id=employee_id, **defaults)  # type: ignore[arg-type]


def do_enrol(
    *,
    program: Program | None = None,
    employee: Employee | None = None,
    role: Role = Role.MENTEE,
    profile: Profile = BARE,
    existing: tuple[Enrollment, ...] = (),
    now: datetime = NOW,
    enrollment_id: str = "N1",
) -> Enrollment:
    employee = employee if employee is not None else make_employee()
    change = enrol(
        enrollment_id=enrollment_id,
        program=program or make_program(),
        employee_id=employee.employee_id,
        employee=employee,
        role=role,
        profile=profile,
        existing=existing,
        management_chain=CHAIN,
        now=now,
    )
    return change.state


def rule_of(action: Callable[[], object]) -> str:
    with pytest.raises(FailedPrecondition) as caught:
        action()
    return caught.value.rule


def field_of(action: Callable[[], object]) -> str:
    with pytest.raises(InvalidArgument) as caught:
        action()
    return caught.value.field


# --- enrol ----------------------------------------------------------------------------------------------


def test_enrol_publishes_what_matching_needs_and_no_personal_data() -> None:
    employee = make_employee()
    program = make_program()
    change = enrol(
        enrollment_id="N1",
        program=program,
        employee_id="E1",
        employee=employee,
        role=Role.MENTOR,
        profile=Profile(skills_offered=(" Python ", "SQL"), languages=("FR",), preferences=Preferences(True)),
        existing=(),
        management_chain=CHAIN,
        now=NOW,
    )
    enrollment = change.state
    assert enrollment.status is EnrollmentStatus.ACTIVE
    assert enrollment.profile.capacity == 2  # the program's default
    assert enrollment.profile.skills_offered == ("python", "sql")
    (event,) = change.events
    assert isinstance(event, ParticipantEnrolled)
    assert event.key == "P1"
    participant = event.participant
    assert participant.management_chain == CHAIN
    assert (participant.grade, participant.department, participant.location) == (5, "Engineering", "London")
    assert participant.languages == ("en", "fr")
    assert (participant.capacity, participant.cap_across_programs) == (2, 4)
    assert participant.preferences.prefers_other_department
    names = {f.name for f in fields(Participant)}
    assert not names & {"display_name", "email", "name"}
    assert "Ada" not in repr(event) and "ada@example.com" not in repr(event)


def test_mentee_has_no_capacity_and_nominates() -> None:
    enrollment = do_enrol(profile=Profile(nominations=("M7", "M8")))
    assert enrollment.profile.capacity is None
    assert enrollment.profile.nominations == ("M7", "M8")


ELIGIBILITY_CASES: list[tuple[str, dict[str, object], dict[str, object], datetime]] = [
    ("program_closed", {"status": ProgramStatus.CLOSED}, {}, NOW),
    ("program_not_open", {"status": ProgramStatus.DRAFT}, {}, NOW),
    ("enrollment_window", {}, {}, datetime(2024, 12, 31, 23, 59, tzinfo=UTC)),
    ("enrollment_window", {}, {}, datetime(2025, 1, 31, tzinfo=UTC)),  # closes is exclusive
    ("employee_status", {}, {"status": EmployeeStatus.ON_LEAVE}, NOW),
    ("employee_status", {}, {"status": EmployeeStatus.TERMINATED}, NOW),
    ("department", {"eligibility": Eligibility(departments=frozenset({"Sales"}))}, {}, NOW),
    ("department", {"eligibility": Eligibility(departments=frozenset({"Sales"}))}, {"department": None}, NOW),
    ("division", {"eligibility": Eligibility(divisions=frozenset({"Ops"}))}, {}, NOW),
    ("location", {"eligibility": Eligibility(locations=frozenset({"Paris", "Berlin"}))}, {}, NOW),
    ("grade_range", {"eligibility": Eligibility(grade_min=6)}, {}, NOW),
    ("grade_range", {"eligibility": Eligibility(grade_max=4)}, {}, NOW),
    ("grade_range", {"eligibility": Eligibility(grade_min=1)}, {"grade": None}, NOW),
    (
        "minimum_tenure",
        {"eligibility": Eligibility(minimum_tenure_days=90)},
        {"hire_date": date(2024, 11, 1)},
        NOW,
    ),
    ("minimum_tenure", {"eligibility": Eligibility(minimum_tenure_days=1)}, {"hire_date": None}, NOW),
]


@pytest.mark.parametrize(("rule", "program_args", "employee_args", "now"), ELIGIBILITY_CASES)
def test_each_eligibility_rule_refuses_with_its_name(
    rule: str, program_args: dict[str, object], employee_args: dict[str, object], now: datetime
) -> None:
    program = make_program(**program_args)  # type: ignore[arg-type]
    employee = make_employee(**employee_args)
    assert rule_of(lambda: do_enrol(program=program, employee=employee, now=now)) == rule
    assert eligibility_failures(program, employee, now=now) == (rule,)


def test_every_rule_is_covered() -> None:
    assert {case[0] for case in ELIGIBILITY_CASES} | {"formal_goals_required"} == set(RULES)


def test_eligibility_passes_at_the_boundaries_and_ignores_case() -> None:
    program = make_program(
        eligibility=Eligibility(
            departments=frozenset({"ENGINEERING"}),
            locations=frozenset({"london"}),
            grade_min=5,
            grade_max=5,
            minimum_tenure_days=(date(2025, 1, 1) - date(2020, 1, 1)).days,
        )
    )
    assert do_enrol(program=program, now=datetime(2025, 1, 1, tzinfo=UTC)).status is EnrollmentStatus.ACTIVE


def test_eligibility_lists_every_failure_in_rule_order() -> None:
    program = make_program(
        status=ProgramStatus.CLOSED, eligibility=Eligibility(grade_min=9, locations=frozenset({"Paris"}))
    )
    failures = eligibility_failures(program, make_employee(status=EmployeeStatus.ON_LEAVE), now=NOW)
    assert failures == ("program_closed", "employee_status", "location", "grade_range")


@pytest.mark.parametrize(
    "goals",
    [
        (),
        (Goal("Grow"),),
        (replace(MEASURABLE, metric=None),),
        (replace(MEASURABLE, target=None),),
        (replace(MEASURABLE, due=None),),
        (replace(MEASURABLE, due=date(2025, 1, 31)),),  # before the cohort starts
        (replace(MEASURABLE, due=date(2025, 8, 1)),),  # after it ends
    ],
)
def test_formal_program_refuses_a_mentee_without_a_measurable_goal(goals: tuple[Goal, ...]) -> None:
    program = make_program(formal=True)
    assert rule_of(lambda: do_enrol(program=program, profile=Profile(goals=goals))) == "formal_goals_required"


@pytest.mark.parametrize("due", [COHORT.start, COHORT.end])
def test_formal_program_takes_a_mentee_with_one_measurable_goal(due: date) -> None:
    goals = (Goal("Grow"), replace(MEASURABLE, due=due))
    enrollment = do_enrol(program=make_program(formal=True), profile=Profile(goals=goals))
    assert enrollment.profile.goals[1].due == due


def test_formal_rule_applies_to_peers_but_not_mentors_nor_informal_programs() -> None:
    assert do_enrol(program=make_program(formal=True), role=Role.MENTOR).role is Role.MENTOR
    assert do_enrol(program=make_program(formal=False)).role is Role.MENTEE
    peer_program = make_program(formal=True, program_format=ProgramFormat.PEER)
    assert rule_of(lambda: do_enrol(program=peer_program, role=Role.PEER)) == "formal_goals_required"


def test_ten_nominations_are_fine() -> None:
    nominations = tuple(f"M{index}" for index in range(10))
    assert do_enrol(profile=Profile(nominations=nominations)).profile.nominations == nominations


@pytest.mark.parametrize(
    ("role", "profile", "field"),
    [
        (Role.MENTEE, Profile(nominations=tuple(f"M{index}" for index in range(11))), "profile.nominations"),
        (Role.MENTEE, Profile(nominations=("M1", "M2", "M3", "E1")), "profile.nominations[3]"),
        (Role.MENTEE, Profile(nominations=("M1", "M2", "M1")), "profile.nominations[2]"),
        (Role.MENTEE, Profile(nominations=("M1", " ")), "profile.nominations[1]"),
        (Role.MENTEE, Profile(nominations="M1"), "profile.nominations"),  # type: ignore[arg-type]
        (Role.MENTOR, Profile(nominations=("M1",)), "profile.nominations"),
        (Role.MENTOR, Profile(capacity=5), "profile.capacity"),
        (Role.MENTOR, Profile(capacity=0), "profile.capacity"),
        (Role.MENTEE, Profile(capacity=1), "profile.capacity"),
        (Role.PEER, Profile(), "role"),
        ("MENTEE", Profile(), "role"),
        (Role.MENTEE, Profile(goals=(MEASURABLE, Goal("  "))), "profile.goals[1].what"),
        (Role.MENTEE, Profile(goals=(replace(MEASURABLE, metric=" "),)), "profile.goals[0].metric"),
        (Role.MENTEE, Profile(goals=(replace(MEASURABLE, due="2025-05-01"),)), "profile.goals[0].due"),  # type: ignore[arg-type]
        (Role.MENTEE, Profile(goals=(MEASURABLE,) * 11), "profile.goals"),
        (Role.MENTEE, Profile(skills_wanted=("python", "")), "profile.skills_wanted[1]"),
        (Role.MENTEE, Profile(skills_offered="python"), "profile.skills_offered"),  # type: ignore[arg-type]
        (Role.MENTEE, Profile(languages=("x" * 40,)), "profile.languages[0]"),
        (
            Role.MENTEE,
            Profile(availability=Availability(weekly_hours=0)),
            "profile.availability.weekly_hours",
        ),
        (
            Role.MENTEE,
            Profile(availability=Availability(weekly_hours=41)),
            "profile.availability.weekly_hours",
        ),
        (
            Role.MENTEE,
            Profile(availability=Availability(slots=(TimeSlot(7, time(9), time(10)),))),
            "profile.availability.slots[0].weekday",
        ),
        (
            Role.MENTEE,
            Profile(
                availability=Availability(
                    slots=(TimeSlot(1, time(9), time(10)), TimeSlot(2, time(10), time(9)))
                )
            ),
            "profile.availability.slots[1].end",
        ),
        (
            Role.MENTEE,
            Profile(preferences=Preferences(max_grade_gap=-1)),
            "profile.preferences.max_grade_gap",
        ),
        (
            Role.MENTEE,
            Profile(preferences=Preferences(prefers_other_division="y")),
            "profile.preferences.prefers_other_division",
        ),  # type: ignore[arg-type]
        (Role.MENTEE, Profile(must_haves=MustHaves(same_location=1)), "profile.must_haves.same_location"),  # type: ignore[arg-type]
    ],
)
def test_malformed_enrollment_names_the_field(role: Role, profile: Profile, field: str) -> None:
    assert field_of(lambda: do_enrol(role=role, profile=profile)) == field


def test_peer_program_takes_peers_only() -> None:
    program = make_program(program_format=ProgramFormat.PEER)
    assert field_of(lambda: do_enrol(program=program, role=Role.MENTOR)) == "role"
    assert do_enrol(program=program, role=Role.PEER).role is Role.PEER


def test_reverse_program_mentor_must_offer_the_skill_and_mentees_want_it() -> None:
    program = make_program(program_format=ProgramFormat.REVERSE, reverse_skill="generative ai")
    assert field_of(lambda: do_enrol(program=program, role=Role.MENTOR)) == "profile.skills_offered"
    mentor = do_enrol(program=program, role=Role.MENTOR, profile=Profile(skills_offered=("Generative AI",)))
    assert mentor.profile.skills_offered == ("generative ai",)
    mentee = do_enrol(program=program, profile=Profile(skills_wanted=("prompting",)))
    assert mentee.profile.skills_wanted == ("prompting", "generative ai")


def test_malformed_input_is_reported_before_business_rules() -> None:
    closed = make_program(status=ProgramStatus.CLOSED)
    assert (
        field_of(lambda: do_enrol(program=closed, profile=Profile(nominations=("E1",))))
        == "profile.nominations[0]"
    )


def test_double_enrolment_is_refused_unless_the_first_was_withdrawn() -> None:
    first = do_enrol()
    with pytest.raises(AlreadyExists) as caught:
        do_enrol(role=Role.MENTOR, existing=(first,), enrollment_id="N2")
    assert caught.value.entity_id == "P1/E1"
    paused = pause_for_leave(first, now=NOW).state
    with pytest.raises(AlreadyExists):
        do_enrol(existing=(paused,), enrollment_id="N2")
    gone = withdraw(first, "changed my mind", now=NOW).state
    assert do_enrol(existing=(gone,), enrollment_id="N2").enrollment_id == "N2"
    elsewhere = replace(first, program_id="P2")
    assert do_enrol(existing=(elsewhere,), enrollment_id="N3").enrollment_id == "N3"


def test_unknown_or_foreign_employee_is_not_found() -> None:
    program = make_program()
    for employee in (None, replace(make_employee(), tenant="other")):
        with pytest.raises(NotFound):
            enrol(
                enrollment_id="N1",
                program=program,
                employee_id="E1",
                employee=employee,
                role=Role.MENTEE,
                profile=Profile(),
                existing=(),
                management_chain=(),
                now=NOW,
            )


# --- transitions ----------------------------------------------------------------------------------------


def test_withdraw_needs_a_reason_and_happens_once() -> None:
    enrollment = do_enrol()
    assert field_of(lambda: withdraw(enrollment, "  ", now=NOW)) == "reason"
    change = withdraw(enrollment, " new role ", now=NOW)
    assert change.state.status is EnrollmentStatus.WITHDRAWN
    assert change.state.withdrawal_reason == "new role"
    assert change.events == (
        ParticipantWithdrawn(
            tenant="acme",
            occurred_at=NOW,
            program_id="P1",
            enrollment_id="N1",
            employee_id="E1",
            reason="new role",
        ),
    )
    assert rule_of(lambda: withdraw(change.state, "again", now=NOW)) == "enrollment_withdrawn"


def test_pause_and_resume_on_leave() -> None:
    program, employee = make_program(), make_employee()
    enrollment = do_enrol()
    paused = pause_for_leave(enrollment, now=NOW)
    assert paused.state.status is EnrollmentStatus.PAUSED
    assert paused.state.pause_reason is PauseReason.LEAVE
    assert isinstance(paused.events[0], ParticipantPaused)
    assert pause_for_leave(paused.state, now=NOW).events == ()
    resumed = resume_after_leave(
        paused.state, program=program, employee=employee, management_chain=CHAIN, now=NOW
    )
    assert resumed.state.status is EnrollmentStatus.ACTIVE and resumed.state.pause_reason is None
    (event,) = resumed.events
    assert isinstance(event, ParticipantResumed) and event.participant.status is EnrollmentStatus.ACTIVE


def test_resume_touches_only_enrollments_paused_by_leave() -> None:
    program, employee = make_program(), make_employee()
    active = do_enrol()
    withdrawn = withdraw(active, "bye", now=NOW).state
    for enrollment in (active, withdrawn):
        change = resume_after_leave(
            enrollment, program=program, employee=employee, management_chain=CHAIN, now=NOW
        )
        assert change.state is enrollment and change.events == ()
    assert pause_for_leave(withdrawn, now=NOW).state is withdrawn


def test_profile_update_is_revalidated() -> None:
    program, employee = make_program(formal=True), make_employee()
    enrollment = do_enrol(program=program, profile=Profile(goals=(MEASURABLE,)))

    def update(profile: Profile) -> object:
        return update_profile(
            enrollment, profile, program=program, employee=employee, management_chain=CHAIN, now=NOW
        )

    assert rule_of(lambda: update(Profile(goals=(Goal("vague"),)))) == "formal_goals_required"
    assert (
        field_of(lambda: update(Profile(goals=(MEASURABLE,), nominations=("E1",))))
        == "profile.nominations[0]"
    )
    change = update_profile(
        enrollment,
        Profile(goals=(MEASURABLE,), skills_wanted=("Rust",)),
        program=program,
        employee=employee,
        management_chain=CHAIN,
        now=NOW + timedelta(days=1),
    )
    assert change.state.profile.skills_wanted == ("rust",)
    assert change.state.revision == 2
    (event,) = change.events
    assert isinstance(event, ParticipantUpdated) and event.reason == "profile"
    same = update_profile(
        change.state,
        change.state.profile,
        program=program,
        employee=employee,
        management_chain=CHAIN,
        now=NOW,
    )
    assert same.events == ()


def test_profile_update_refused_when_withdrawn_or_program_closed() -> None:
    program, employee = make_program(), make_employee()
    enrollment = do_enrol()
    withdrawn = withdraw(enrollment, "bye", now=NOW).state
    closed = replace(program, status=ProgramStatus.CLOSED)
    for target, in_program, rule in (
        (withdrawn, program, "enrollment_withdrawn"),
        (enrollment, closed, "program_closed"),
    ):
        assert (
            rule_of(
                lambda target=target, in_program=in_program: update_profile(
                    target, Profile(), program=in_program, employee=employee, management_chain=CHAIN, now=NOW
                )
            )
            == rule
        )


def test_erasure_scrubs_the_profile_of_live_and_withdrawn_enrollments() -> None:
    enrollment = do_enrol(profile=Profile(goals=(MEASURABLE,), skills_wanted=("python",)))
    erased = erase_enrollment(enrollment, now=NOW)
    assert erased.state.status is EnrollmentStatus.WITHDRAWN
    assert erased.state.withdrawal_reason == "erased"
    assert erased.state.profile == EMPTY_PROFILE
    assert isinstance(erased.events[0], ParticipantWithdrawn)
    earlier = withdraw(enrollment, "left", now=NOW).state
    scrubbed = erase_enrollment(earlier, now=NOW)
    assert scrubbed.state.profile == EMPTY_PROFILE
    assert scrubbed.state.withdrawal_reason == "left"
    assert scrubbed.events == ()
    assert erase_enrollment(scrubbed.state, now=NOW).state is scrubbed.state


def test_apply_effects_runs_lifecycle_on_every_program() -> None:
    programs = {"P1": make_program(), "P2": make_program(program_id="P2")}
    employee = make_employee()
    first = do_enrol()
    second = do_enrol(program=programs["P2"], enrollment_id="N2", role=Role.MENTOR)
    third = withdraw(do_enrol(enrollment_id="N3"), "bye", now=NOW).state

    def run(effect: object, enrollments: tuple[Enrollment, ...]) -> tuple[tuple[Enrollment, ...], list[type]]:
        batch = apply_effects(
            [effect],  # type: ignore[list-item]
            employee=employee,
            management_chain=CHAIN,
            enrollments=enrollments,
            programs=programs,
            now=NOW,
        )
        return batch.enrollments, [type(event) for event in batch.events]

    paused, kinds = run(PauseEnrollments("E1"), (first, second, third))
    assert [e.enrollment_id for e in paused] == ["N1", "N2"] and kinds == [ParticipantPaused] * 2
    resumed, kinds = run(ResumeEnrollments("E1"), (*paused, third))
    assert all(e.status is EnrollmentStatus.ACTIVE for e in resumed) and kinds == [ParticipantResumed] * 2
    withdrawn, kinds = run(WithdrawEnrollments("E1", "terminated"), (paused[0], second, third))
    assert {e.withdrawal_reason for e in withdrawn} == {"terminated"} and len(withdrawn) == 2
    assert kinds == [ParticipantWithdrawn] * 2
    refreshed, kinds = run(RefreshParticipant("E1", frozenset({"grade"})), (first, third))
    assert refreshed == () and kinds == [ParticipantUpdated]
    erased, kinds = run(EraseParticipantData("E1"), (first, third))
    assert all(e.profile == EMPTY_PROFILE for e in erased) and len(erased) == 2
    assert kinds == [ParticipantWithdrawn]
