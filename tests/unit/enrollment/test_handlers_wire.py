"""The enrollment service's wire translations: HRIS CloudEvents (binary and structured) -> HRIS events,
programs and profiles both ways, and domain field names turned into request field names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from google.protobuf import field_mask_pb2
from mentoring.v1 import common_pb2, events_pb2

from services.enrollment.adapters.translate import (
    PROFILE_FIELDS,
    PROGRAM_FIELDS,
    profile_from_wire,
    profile_to_wire,
    program_to_wire,
    renamed,
    spec_from_wire,
    update_paths,
)
from services.enrollment.domain import (
    ABSENT,
    Cohort,
    Delivery,
    Eligibility,
    EmployeeStatus,
    EnrollmentWindow,
    Goal,
    GroupSize,
    HrisEventType,
    MatchingObjective,
    ProgramFormat,
    ProgramSpec,
    Role,
    create_program,
    validate_profile,
)
from services.enrollment.entrypoints.consumers import hris_event_of
from services.enrollment.entrypoints.csv_import import events_from_csv
from services.shared.envelope import CloudEvent, decode
from services.shared.errors import InvalidArgument
from services.shared.timestamps import timestamp

WHEN = datetime(2030, 3, 1, 8, tzinfo=UTC)


def binary(ce_type: str, message: object, **extensions: str) -> CloudEvent:
    return CloudEvent(
        type=f"mentoring.hris.worker.{ce_type}.v1",
        source="workday",
        data=message,  # type: ignore[arg-type]
        tenant="acme",
        id="ce-1",
        time=WHEN,
        extensions=extensions,
    )


def test_binary_worker_change_maps_presence_and_fields() -> None:
    worker = events_pb2.WorkerRecord(
        employee_number="E-1",
        manager="",  # present and empty: clears the manager
        department="Engineering",
        cost_center="CC-1",
        name="Ada Lovelace",
        email="ada@Example.com",
        grade=0,
        timezone="Europe/London",
        skills=["Python", "python"],
        skills_present=True,
        hire_date=timestamp(datetime(2020, 5, 4, tzinfo=UTC)),
        status="on_leave",
    )
    event = hris_event_of(
        binary("hired", events_pb2.WorkerHired(change=events_pb2.WorkerChange(worker=worker, sequence=7)))
    )
    assert (event.event_id, event.tenant, event.employee_id) == ("ce-1", "acme", "E-1")
    assert event.type is HrisEventType.HIRED
    assert (event.effective_time, event.sequence) == (WHEN, 7)  # no effective time: ce_time
    changes = event.changes
    assert changes.manager_id is None and changes.grade == 0 and changes.cost_center == "CC-1"
    assert changes.email == "ada@example.com" and changes.skills == ("python",)
    assert changes.languages is ABSENT and changes.division is ABSENT
    assert changes.hire_date == date(2020, 5, 4) and changes.status is EmployeeStatus.ON_LEAVE


def test_binary_effective_time_wins_over_ce_time_and_the_extension_gives_the_sequence() -> None:
    change = events_pb2.WorkerChange(
        worker=events_pb2.WorkerRecord(employee_number="E-1", title="Lead"),
        effective_time=timestamp(datetime(2030, 1, 1, tzinfo=UTC)),
    )
    event = hris_event_of(binary("updated", events_pb2.WorkerUpdated(change=change), sequence="12"))
    assert (event.effective_time, event.sequence) == (datetime(2030, 1, 1, tzinfo=UTC), 12)


def test_structured_scim_record_and_its_errors() -> None:
    data = {"employeeNumber": "E-2", "title": "Analyst", "manager": {"value": "E-1"}}
    event = hris_event_of(binary("transferred", data, sequence="3"))
    assert event.type is HrisEventType.TRANSFERRED and event.sequence == 3
    assert event.changes.manager_id == "E-1"
    for bad, field in (
        ({**data, "type": "HIRED"}, "type"),
        ({**data, "grade": "senior"}, "grade"),
        ({"title": "x"}, "employeeNumber"),
        ({**data, "timezone": "Mars/Olympus"}, "timezone"),
    ):
        with pytest.raises(InvalidArgument) as raised:
            hris_event_of(binary("transferred", bad))
        assert raised.value.field == field
    with pytest.raises(InvalidArgument) as raised:
        hris_event_of(binary("updated", data, sequence="soon"))
    assert raised.value.field == "sequence"
    with pytest.raises(InvalidArgument) as raised:
        hris_event_of(binary("updated", events_pb2.WorkerUpdated()))
    assert raised.value.field == "employeeNumber"


def test_a_program_survives_the_wire_both_ways() -> None:
    spec = ProgramSpec(
        name="Group mentoring",
        format=ProgramFormat.GROUP,
        delivery=Delivery.HYBRID,
        formal=True,
        enrollment_window=EnrollmentWindow(WHEN, datetime(2030, 4, 1, tzinfo=UTC)),
        cohort=Cohort(date(2030, 4, 15), date(2030, 9, 30)),
        eligibility=Eligibility(
            departments=frozenset({"Sales", "Legal"}), grade_min=3, minimum_tenure_days=90
        ),
        mentor_capacity_default=2,
        cap_per_mentor=5,
        group_size=GroupSize(3, 6),
        objective=MatchingObjective.BEST_SCORE,
        peer_grade_tolerance=2,
        response_window_hours=48,
    )
    program = create_program(program_id="p-1", tenant="acme", spec=spec, now=WHEN).state
    wire = program_to_wire(program)
    assert wire.objective == common_pb2.MATCHING_OBJECTIVE_BEST_SCORE
    assert wire.mentor_cap_across_programs == 5 and wire.group_size.max == 6
    assert spec_from_wire(wire) == program.spec


def test_unset_numbers_take_the_defaults() -> None:
    wire = common_pb2.Program(
        name="Minimal",
        format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
        delivery=common_pb2.DELIVERY_REMOTE,
        enrollment_window=common_pb2.DateRange(
            start=timestamp(WHEN), end=timestamp(datetime(2030, 4, 1, tzinfo=UTC))
        ),
        cohort=common_pb2.DateRange(
            start=timestamp(datetime(2030, 5, 1, tzinfo=UTC)), end=timestamp(WHEN.replace(month=9))
        ),
        mentor_capacity_default=4,
    )
    spec = spec_from_wire(wire)
    assert spec.cap_per_mentor == 4  # at least the capacity default
    assert spec.objective is MatchingObjective.MOST_MATCHED_THEN_SCORE
    assert spec.remote_min_overlap_hours == 2.0 and spec.group_size is None
    with pytest.raises(InvalidArgument) as raised:
        spec_from_wire(
            common_pb2.Program(name="x", enrollment_window=wire.enrollment_window, cohort=wire.cohort)
        )
    assert raised.value.field == "program.format"
    with pytest.raises(InvalidArgument) as raised:
        spec_from_wire(
            common_pb2.Program(name="x", format=wire.format, delivery=wire.delivery, cohort=wire.cohort)
        )
    assert raised.value.field == "program.enrollment_window"


def test_a_profile_survives_the_wire_both_ways() -> None:
    program = create_program(
        program_id="p-1",
        tenant="acme",
        spec=ProgramSpec(
            name="One on one",
            format=ProgramFormat.ONE_ON_ONE,
            delivery=Delivery.REMOTE,
            formal=False,
            enrollment_window=EnrollmentWindow(WHEN, datetime(2030, 4, 1, tzinfo=UTC)),
            cohort=Cohort(date(2030, 4, 15), date(2030, 9, 30)),
        ),
        now=WHEN,
    ).state
    wire = common_pb2.Profile(
        skills_wanted=["Kafka", "SQL"],
        goals=[
            common_pb2.Goal(
                what="Ship a stream processor",
                metric="services shipped",
                target="1",
                due=timestamp(datetime(2030, 6, 1, tzinfo=UTC)),
                skill_tags=["Kafka"],
            )
        ],
        nominated_mentor_ids=["M-1", "M-2"],
        languages=["en"],
        availability=common_pb2.Availability(hours_per_month=6, work_start_hour=8, work_end_hour=17),
        preferences=common_pb2.Preferences(
            prefers_other_department=True, must_share_location=True, must_speak_languages=["DE"]
        ),
        requested_skill_areas=["kafka", "sql"],
    )
    profile = validate_profile(profile_from_wire(wire), role=Role.MENTEE, employee_id="E-1", program=program)
    assert profile.goals[0] == Goal(
        "Ship a stream processor",
        "services shipped",
        "1",
        date(2030, 6, 1),
        goal_id="g1",
        skill_tags=("kafka",),
    )
    assert profile.must_haves.languages == ("de",) and profile.availability.work_end_hour == 17
    back = profile_to_wire(profile)
    assert back.availability.hours_per_month == 6
    assert list(back.nominated_mentor_ids) == ["M-1", "M-2"]
    assert list(back.preferences.must_speak_languages) == ["de"]
    assert (
        validate_profile(profile_from_wire(back), role=Role.MENTEE, employee_id="E-1", program=program)
        == profile
    )
    with pytest.raises(InvalidArgument) as raised:
        profile_from_wire(common_pb2.Profile(availability=common_pb2.Availability(hours_per_month=-1)))
    assert raised.value.field == "profile.availability.hours_per_month"
    broken = replace(profile, nominations=())  # a mentor asking for skill areas
    with pytest.raises(InvalidArgument) as raised:
        validate_profile(broken, role=Role.MENTOR, employee_id="E-1", program=program)
    assert raised.value.field == "profile.requested_skill_areas"


@pytest.mark.parametrize(
    ("domain_field", "renames", "prefix", "request_field"),
    [
        ("profile.nominations[3]", PROFILE_FIELDS, "", "profile.nominated_mentor_ids[3]"),
        ("profile.goals[0].what", PROFILE_FIELDS, "", "profile.goals[0].what"),
        ("cap_per_mentor", PROGRAM_FIELDS, "program.", "program.mentor_cap_across_programs"),
        ("eligibility.grade_min", PROGRAM_FIELDS, "program.", "program.eligibility.min_grade"),
        ("speed_rounds.rounds", PROGRAM_FIELDS, "program.", "program.speed_rounds"),
        ("name", PROGRAM_FIELDS, "program.", "program.name"),
        ("program.format", PROGRAM_FIELDS, "program.", "program.format"),
        ("tenant", PROGRAM_FIELDS, "program.", "tenant"),
    ],
)
def test_domain_fields_become_request_fields(
    domain_field: str, renames: dict[str, str], prefix: str, request_field: str
) -> None:
    error = renamed(InvalidArgument(domain_field, "is wrong"), renames, prefix)
    assert (error.field, error.message) == (request_field, f"{request_field}: is wrong")


def test_update_paths_come_from_the_mask_or_from_what_is_set() -> None:
    echoed = common_pb2.Program(program_id="p-1", tenant="acme", name="Renamed", formal=True)
    assert sorted(update_paths(echoed, field_mask_pb2.FieldMask())) == ["formal", "name"]
    masked = update_paths(echoed, field_mask_pb2.FieldMask(paths=["eligibility.departments"]))
    assert masked == ["eligibility.departments"]
    for paths in (["colour"], ["tenant"], ["created_at"]):
        with pytest.raises(InvalidArgument) as raised:
            update_paths(echoed, field_mask_pb2.FieldMask(paths=paths))
        assert raised.value.field == "update_mask"
    with pytest.raises(InvalidArgument):
        update_paths(common_pb2.Program(program_id="p-1"), field_mask_pb2.FieldMask())


def test_csv_rows_become_structured_hris_events(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "employeeNumber,name,email,grade,manager,languages,status\n"
        "E1,Ada One,ada@example.com,9,,en;de,active\n"
        "E2,Bob Two,bob@example.com,senior,E1,en,active\n"
        "E3,Cy Three,cy@example.com,4,E1,,on_leave\n"
        "E4,Di Four,di@example.com,4,E1,en,terminated\n"
    )
    as_of = datetime(2030, 1, 1, 6, tzinfo=UTC)
    first, rejected = events_from_csv(export, tenant="acme", as_of=as_of, initial_load=True)
    assert [(problem.line, problem.field) for problem in rejected] == [(3, "grade")]
    assert [event.event_type for event in first] == [
        HrisEventType.HIRED,
        HrisEventType.HIRED,
        HrisEventType.TERMINATED,
    ]
    resync, _ = events_from_csv(export, tenant="acme", as_of=as_of, initial_load=False)
    assert [event.event_type for event in resync] == [
        HrisEventType.UPDATED,
        HrisEventType.UPDATED,
        HrisEventType.TERMINATED,
    ]
    decoded = [decode(event.headers, event.value) for event in first]
    assert [event.id for event in decoded] == [decode(e.headers, e.value).id for e in resync], (
        "same file, same ids"
    )
    leave = hris_event_of(decoded[1])
    assert (leave.employee_id, leave.changes.status, leave.changes.languages) == (
        "E3",
        EmployeeStatus.ON_LEAVE,
        (),
    )
    assert (leave.effective_time, leave.sequence) == (as_of, 4)
    assert first[0].key == b"acme:E1"
