"""SCIM records and HR-export CSV rows -> HRIS events, and the field named on malformed input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.enrollment.domain import (
    ABSENT,
    CSV_COLUMNS,
    SCIM_ENTERPRISE_EXTENSION,
    EmployeeStatus,
    HrisEventType,
    hris_event_from_csv_row,
    hris_event_from_scim,
)
from services.shared.errors import InvalidArgument

WHEN = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def scim(**data: object) -> dict[str, object]:
    return {"employeeNumber": "E42", "type": "UPDATED", "effectiveTime": "2025-03-01T08:30:00Z", **data}


def test_full_scim_record_maps_every_field() -> None:
    event = hris_event_from_scim(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "type": "hired",
            "effectiveTime": "2025-03-01T09:30:00+01:00",
            "sequence": 4,
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "email": "grace@Example.COM",
            "title": "  Rear   Admiral ",
            "grade": 9,
            "location": "Arlington",
            "timezone": "America/New_York",
            "languages": ["EN", "fr", "en"],
            "skills": ["COBOL", "Compilers"],
            "hireDate": "1943-12-01",
            "status": "active",
            SCIM_ENTERPRISE_EXTENSION: {
                "employeeNumber": "E42",
                "manager": {"value": "E1", "displayName": "Boss"},
                "department": "Navy",
                "division": "Research",
                "organization": "US",
                "costCenter": "CC-7",
            },
        },
        event_id="ce-1",
        tenant="acme",
    )
    assert (event.event_id, event.tenant, event.employee_id) == ("ce-1", "acme", "E42")
    assert event.type is HrisEventType.HIRED
    assert event.effective_time == WHEN
    assert event.sequence == 4
    changes = event.changes
    assert changes.display_name == "Grace Hopper"
    assert changes.email == "grace@example.com"
    assert changes.title == "Rear Admiral"
    assert changes.grade == 9
    assert changes.manager_id == "E1"
    assert (changes.department, changes.division, changes.organization, changes.cost_center) == (
        "Navy",
        "Research",
        "US",
        "CC-7",
    )
    assert changes.languages == ("en", "fr")
    assert changes.skills == ("cobol", "compilers")
    assert changes.hire_date == date(1943, 12, 1)
    assert changes.termination_date is ABSENT
    assert changes.status is EmployeeStatus.ACTIVE


def test_absent_keys_are_not_carried_and_null_or_empty_clears() -> None:
    event = hris_event_from_scim(
        scim(title=None, department="", skills=None, manager=None, hireDate=""), event_id="x", tenant="acme"
    )
    assert event.changes.carried() == {
        "title": None,
        "department": None,
        "skills": (),
        "manager_id": None,
        "hire_date": None,
    }


def test_envelope_supplies_type_and_time_when_data_does_not() -> None:
    moment = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    event = hris_event_from_scim(
        {"employeeNumber": "E1"}, event_id="x", tenant="t", event_type="LEAVE_STARTED", effective_time=moment
    )
    assert event.type is HrisEventType.LEAVE_STARTED
    assert event.effective_time == moment
    assert event.sequence == 0


def test_grade_sent_as_text_is_accepted() -> None:
    assert hris_event_from_scim(scim(grade="7"), event_id="x", tenant="t").changes.grade == 7


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "UPDATED", "effectiveTime": "2025-03-01T08:30:00Z"}, "employeeNumber"),
        (scim(employeeNumber=""), "employeeNumber"),
        (scim(employeeNumber=42), "employeeNumber"),
        (scim(type="PROMOTED"), "type"),
        (scim(type=None), "type"),
        (scim(type=3), "type"),
        (scim(effectiveTime="yesterday"), "effectiveTime"),
        (scim(effectiveTime="2025-03-01T08:30:00"), "effectiveTime"),
        (scim(effectiveTime=None), "effectiveTime"),
        (scim(sequence=-1), "sequence"),
        (scim(sequence="3"), "sequence"),
        (scim(hireDate="2025-13-01"), "hireDate"),
        (scim(hireDate="01/02/2025"), "hireDate"),
        (scim(terminationDate="2025-03-01T00:00:00Z"), "terminationDate"),
        (scim(terminationDate=20250301), "terminationDate"),
        (scim(grade="senior"), "grade"),
        (scim(grade=-1), "grade"),
        (scim(grade=100), "grade"),
        (scim(grade=True), "grade"),
        (scim(grade=7.5), "grade"),
        (scim(timezone="Mars/Olympus_Mons"), "timezone"),
        (scim(timezone="America"), "timezone"),
        (scim(languages="en"), "languages"),
        (scim(skills=["python", 3]), "skills[1]"),
        (scim(email="not-an-address"), "email"),
        (scim(email="a@b@c.com"), "email"),
        (scim(status="retired"), "status"),
        (scim(type="LEAVE_STARTED", status="active"), "status"),
        (scim(manager=42), "manager"),
        (scim(title=["a"]), "title"),
        (scim(name={"givenName": 1}), "name.givenName"),
        ({SCIM_ENTERPRISE_EXTENSION: "x", "employeeNumber": "E1"}, SCIM_ENTERPRISE_EXTENSION),
    ],
)
def test_malformed_scim_records_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_scim(data, event_id="x", tenant="acme")
    assert caught.value.field == field


def test_type_in_data_must_agree_with_the_envelope() -> None:
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_scim(scim(type="HIRED"), event_id="x", tenant="t", event_type="TERMINATED")
    assert caught.value.field == "type"


@pytest.mark.parametrize(("event_id", "tenant", "field"), [("", "t", "id"), ("x", " ", "tenant")])
def test_envelope_attributes_are_required(event_id: str, tenant: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_scim(scim(), event_id=event_id, tenant=tenant)
    assert caught.value.field == field


def test_data_must_be_an_object() -> None:
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_scim(["E1"], event_id="x", tenant="t")  # type: ignore[arg-type]
    assert caught.value.field == "data"


EXPORT = "\n".join(
    [
        ",".join(CSV_COLUMNS),
        "E1,Ada Lovelace,ada@example.com,Engineer,5,Engineering,R&D,Acme,CC1,E0,London,Europe/London,"
        "en;fr,Python; SQL ;,2020-05-01,,active",
        "E2,Alan Turing,alan@example.com,,7,Research,R&D,Acme,CC2,,Manchester,Europe/London,"
        ",,2019-01-01,2025-02-28,terminated",
        "E3,Grace Hopper,grace@example.com,Admiral,9,Navy,Ops,Acme,CC3,E1,Arlington,America/New_York,"
        "en,cobol,1943-12-01,,on_leave",
    ]
)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def from_row(row: dict[str, str], status: EmployeeStatus | None, sequence: int = 0) -> HrisEventType:
    event = hris_event_from_csv_row(
        row,
        event_id=f"csv-{sequence}",
        tenant="acme",
        effective_time=WHEN,
        sequence=sequence,
        current_status=status,
    )
    return event.type


def test_csv_row_maps_every_column() -> None:
    event = hris_event_from_csv_row(
        rows(EXPORT)[0], event_id="f:2", tenant="acme", effective_time=WHEN, sequence=2, current_status=None
    )
    assert event.type is HrisEventType.HIRED
    assert event.version.sequence == 2
    changes = event.changes
    assert changes.display_name == "Ada Lovelace"
    assert changes.grade == 5
    assert changes.manager_id == "E0"
    assert changes.languages == ("en", "fr")
    assert changes.skills == ("python", "sql")
    assert changes.hire_date == date(2020, 5, 1)
    assert changes.termination_date is None  # empty cell: cleared
    assert changes.status is EmployeeStatus.ACTIVE


@pytest.mark.parametrize(
    ("row_index", "current", "expected"),
    [
        (0, None, HrisEventType.HIRED),
        (0, EmployeeStatus.ACTIVE, HrisEventType.UPDATED),
        (0, EmployeeStatus.ON_LEAVE, HrisEventType.UPDATED),
        (0, EmployeeStatus.TERMINATED, HrisEventType.REHIRED),
        (1, None, HrisEventType.TERMINATED),
        (1, EmployeeStatus.ACTIVE, HrisEventType.TERMINATED),
        (2, EmployeeStatus.ACTIVE, HrisEventType.UPDATED),
        (2, EmployeeStatus.TERMINATED, HrisEventType.REHIRED),
    ],
)
def test_csv_event_type_follows_row_status_and_directory(
    row_index: int, current: EmployeeStatus | None, expected: HrisEventType
) -> None:
    assert from_row(rows(EXPORT)[row_index], current) is expected


def test_csv_leave_row_carries_the_status() -> None:
    event = hris_event_from_csv_row(
        rows(EXPORT)[2],
        event_id="x",
        tenant="acme",
        effective_time=WHEN,
        sequence=0,
        current_status=EmployeeStatus.ACTIVE,
    )
    assert event.changes.status is EmployeeStatus.ON_LEAVE


def test_csv_missing_columns_are_absent_and_empty_cells_clear() -> None:
    row = {"employeeNumber": "E9", "title": "", "skills": "", "status": ""}
    event = hris_event_from_csv_row(
        row,
        event_id="x",
        tenant="acme",
        effective_time=WHEN,
        sequence=0,
        current_status=EmployeeStatus.ACTIVE,
    )
    assert event.type is HrisEventType.UPDATED
    assert event.changes.carried() == {"title": None, "skills": ()}


def test_csv_short_row_leaves_missing_cells_absent() -> None:
    short = rows("employeeNumber,title,grade,department\nE5,Engineer\n")[0]
    event = hris_event_from_csv_row(
        short,
        event_id="x",
        tenant="acme",
        effective_time=WHEN,
        sequence=0,
        current_status=EmployeeStatus.ACTIVE,
    )
    assert event.changes.carried() == {"title": "Engineer"}


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("employeeNumber", "", "employeeNumber"),
        ("grade", "five", "grade"),
        ("grade", "5.5", "grade"),
        ("hireDate", "2020-02-30", "hireDate"),
        ("terminationDate", "tomorrow", "terminationDate"),
        ("timezone", "Europe/Atlantis", "timezone"),
        ("status", "fired", "status"),
        ("email", "ada.example.com", "email"),
    ],
)
def test_malformed_csv_rows_name_the_column(column: str, value: str, field: str) -> None:
    row = dict(rows(EXPORT)[0])
    row[column] = value
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_csv_row(
            row, event_id="x", tenant="acme", effective_time=WHEN, sequence=0, current_status=None
        )
    assert caught.value.field == field


def test_csv_row_without_employee_number_column() -> None:
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_csv_row(
            {"name": "x"}, event_id="x", tenant="acme", effective_time=WHEN, sequence=0, current_status=None
        )
    assert caught.value.field == "employeeNumber"


def test_csv_effective_time_must_be_aware() -> None:
    with pytest.raises(InvalidArgument) as caught:
        hris_event_from_csv_row(
            rows(EXPORT)[0],
            event_id="x",
            tenant="acme",
            effective_time=datetime(2025, 1, 1),
            sequence=0,
            current_status=None,
        )
    assert caught.value.field == "effectiveTime"
