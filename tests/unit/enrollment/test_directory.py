"""Applying HRIS events to the employee directory: ordering, partial updates, lifecycle, erasure."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

import pytest

from services.enrollment.domain import (
    ABSENT,
    ApplyOutcome,
    Employee,
    EmployeeChanges,
    EmployeeErased,
    EmployeeStatus,
    EraseParticipantData,
    HrisEvent,
    HrisEventType,
    PauseEnrollments,
    RefreshParticipant,
    RefreshReportsChains,
    ReportingCycle,
    ResumeEnrollments,
    WithdrawEnrollments,
    apply_hris_event,
)
from services.shared.errors import InvalidArgument

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
TENANT = "acme"


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def hris(
    kind: HrisEventType,
    employee_id: str = "E1",
    *,
    day: float = 0,
    seq: int = 0,
    event_id: str | None = None,
    **changes: object,
) -> HrisEvent:
    return HrisEvent(
        event_id=event_id or f"{employee_id}-{kind.name}-{day}-{seq}",
        tenant=TENANT,
        employee_id=employee_id,
        type=kind,
        effective_time=at(day),
        sequence=seq,
        changes=EmployeeChanges(**changes),  # type: ignore[arg-type]
    )


def run(*events: HrisEvent, start: Employee | None = None) -> tuple[Employee | None, list[ApplyOutcome]]:
    """Apply events in the given order to one record; return the final record and the outcomes."""
    employee, outcomes = start, []
    managers: dict[str, str | None] = {}
    for event in events:
        result = apply_hris_event(employee, event, managers=managers)
        outcomes.append(result.outcome)
        employee = result.employee
        managers[employee.employee_id] = employee.manager_id
    return employee, outcomes


HIRE = dict(
    display_name="Ada Lovelace",
    email="ada@example.com",
    title="Engineer",
    grade=5,
    department="Engineering",
    location="London",
    timezone="Europe/London",
    languages=("en",),
    skills=("python", "sql"),
    hire_date=date(2020, 5, 1),
)


def test_hire_creates_an_active_employee_with_the_carried_attributes() -> None:
    result = apply_hris_event(None, hris(HrisEventType.HIRED, **HIRE), managers={})

    assert result.outcome is ApplyOutcome.APPLIED
    assert result.created
    employee = result.employee
    assert employee.status is EmployeeStatus.ACTIVE
    assert (employee.display_name, employee.email, employee.grade) == ("Ada Lovelace", "ada@example.com", 5)
    assert employee.skills == ("python", "sql")
    assert employee.version.effective_time == at(0)
    assert result.effects == ()  # no manager: nobody's chain changes


def test_personal_data_stays_out_of_repr() -> None:
    employee, _ = run(hris(HrisEventType.HIRED, **HIRE))
    assert "Ada" not in repr(employee)
    assert "ada@example.com" not in repr(employee)


def test_update_changes_only_carried_fields_and_empty_clears() -> None:
    employee, _ = run(
        hris(HrisEventType.HIRED, **HIRE),
        hris(HrisEventType.UPDATED, day=1, title=None, skills=(), location="Paris"),
    )
    assert employee is not None
    assert employee.title is None  # carried empty: cleared
    assert employee.skills == ()
    assert employee.location == "Paris"
    assert employee.department == "Engineering"  # absent: kept
    assert employee.display_name == "Ada Lovelace"


def test_older_update_of_the_same_field_is_stale_and_never_regresses() -> None:
    employee, outcomes = run(
        hris(HrisEventType.HIRED, **HIRE),
        hris(HrisEventType.UPDATED, day=5, title="Staff Engineer"),
        hris(HrisEventType.UPDATED, day=3, title="Senior Engineer"),
    )
    assert outcomes == [ApplyOutcome.APPLIED, ApplyOutcome.APPLIED, ApplyOutcome.STALE]
    assert employee is not None
    assert employee.title == "Staff Engineer"
    assert employee.version.effective_time == at(5)


def test_redelivered_event_is_stale() -> None:
    update = hris(HrisEventType.UPDATED, day=2, grade=6)
    employee, outcomes = run(hris(HrisEventType.HIRED, **HIRE), update, update)
    assert outcomes[-1] is ApplyOutcome.STALE
    assert employee is not None and employee.grade == 6


def test_sequence_breaks_ties_between_events_of_the_same_instant() -> None:
    employee, outcomes = run(
        hris(HrisEventType.HIRED, **HIRE),
        hris(HrisEventType.UPDATED, day=2, seq=2, grade=8),
        hris(HrisEventType.UPDATED, day=2, seq=1, grade=7),
    )
    assert outcomes[-1] is ApplyOutcome.STALE
    assert employee is not None and employee.grade == 8


def test_older_update_of_other_fields_is_merged_not_lost() -> None:
    employee, outcomes = run(
        hris(HrisEventType.HIRED, **HIRE),
        hris(HrisEventType.UPDATED, day=5, department="Research"),
        hris(HrisEventType.UPDATED, day=3, title="Senior Engineer", department="Sales"),
    )
    assert outcomes[-1] is ApplyOutcome.MERGED
    assert employee is not None
    assert employee.title == "Senior Engineer"  # nobody set it after day 3
    assert employee.department == "Research"  # day 5 beats day 3
    assert employee.version.effective_time == at(5)


def test_update_delivered_before_the_hire_keeps_both() -> None:
    employee, outcomes = run(
        hris(HrisEventType.UPDATED, day=4, title="Lead"),
        hris(HrisEventType.HIRED, day=0, **HIRE),
    )
    assert outcomes == [ApplyOutcome.APPLIED, ApplyOutcome.MERGED]
    assert employee is not None
    assert employee.title == "Lead"
    assert employee.display_name == "Ada Lovelace"
    assert employee.status is EmployeeStatus.ACTIVE


def test_leave_pauses_and_return_resumes() -> None:
    hired, _ = run(hris(HrisEventType.HIRED, **HIRE))
    leave = apply_hris_event(hired, hris(HrisEventType.LEAVE_STARTED, day=1), managers={})
    assert leave.employee.status is EmployeeStatus.ON_LEAVE
    assert leave.effects == (PauseEnrollments("E1"),)
    back = apply_hris_event(leave.employee, hris(HrisEventType.LEAVE_ENDED, day=2), managers={})
    assert back.employee.status is EmployeeStatus.ACTIVE
    assert back.effects == (ResumeEnrollments("E1"),)


def test_status_carried_by_an_update_is_a_transition_too() -> None:
    hired, _ = run(hris(HrisEventType.HIRED, **HIRE))
    result = apply_hris_event(
        hired, hris(HrisEventType.UPDATED, day=1, status=EmployeeStatus.ON_LEAVE), managers={}
    )
    assert result.employee.status is EmployeeStatus.ON_LEAVE
    assert PauseEnrollments("E1") in result.effects


def test_termination_withdraws_and_rehire_revives() -> None:
    hired, _ = run(hris(HrisEventType.HIRED, **HIRE))
    fired = apply_hris_event(
        hired, hris(HrisEventType.TERMINATED, day=1, termination_date=date(2025, 1, 2)), managers={}
    )
    assert fired.employee.status is EmployeeStatus.TERMINATED
    assert fired.effects == (WithdrawEnrollments("E1", "terminated"),)
    rehired = apply_hris_event(fired.employee, hris(HrisEventType.REHIRED, day=30), managers={})
    assert rehired.employee.status is EmployeeStatus.ACTIVE
    assert rehired.employee.termination_date is None
    assert rehired.effects == ()  # withdrawn enrollments stay withdrawn


def test_termination_while_on_leave_withdraws() -> None:
    employee, _ = run(hris(HrisEventType.HIRED, **HIRE), hris(HrisEventType.LEAVE_STARTED, day=1))
    result = apply_hris_event(employee, hris(HrisEventType.TERMINATED, day=2), managers={})
    assert result.effects == (WithdrawEnrollments("E1", "terminated"),)


def test_late_leave_does_not_undo_a_later_termination() -> None:
    employee, outcomes = run(
        hris(HrisEventType.HIRED, **HIRE),
        hris(HrisEventType.TERMINATED, day=10),
        hris(HrisEventType.LEAVE_STARTED, day=5),
    )
    assert outcomes[-1] is ApplyOutcome.STALE
    assert employee is not None and employee.status is EmployeeStatus.TERMINATED


def test_erasure_keeps_only_an_opaque_tombstone() -> None:
    employee, _ = run(hris(HrisEventType.HIRED, manager_id="M1", **HIRE))
    result = apply_hris_event(employee, hris(HrisEventType.ERASED, day=3), managers={})

    tombstone = result.employee
    assert tombstone.status is EmployeeStatus.ERASED
    assert (tombstone.tenant, tombstone.employee_id) == (TENANT, "E1")
    kept = {"tenant", "employee_id", "status", "version", "field_versions"}
    for attribute in fields(Employee):
        if attribute.name not in kept:
            assert getattr(tombstone, attribute.name) in (None, ()), attribute.name
    assert EraseParticipantData("E1") in result.effects
    assert RefreshReportsChains("E1") in result.effects
    assert result.events == (EmployeeErased(tenant=TENANT, employee_id="E1", occurred_at=at(3)),)


@pytest.mark.parametrize("day", [1, 5])
def test_every_event_after_erasure_is_ignored_whatever_its_time(day: float) -> None:
    employee, outcomes = run(
        hris(HrisEventType.HIRED, **HIRE),
        hris(HrisEventType.ERASED, day=3),
        hris(HrisEventType.UPDATED, day=day, display_name="Ada L."),
        hris(HrisEventType.REHIRED, day=day),
        hris(HrisEventType.ERASED, day=day),
    )
    assert outcomes[2:] == [ApplyOutcome.ERASED_IGNORED] * 3
    assert employee is not None
    assert employee.status is EmployeeStatus.ERASED and employee.display_name is None


def test_erasure_of_an_unknown_employee_blocks_a_late_hire() -> None:
    employee, outcomes = run(hris(HrisEventType.ERASED, day=5), hris(HrisEventType.HIRED, day=1, **HIRE))
    assert outcomes == [ApplyOutcome.APPLIED, ApplyOutcome.ERASED_IGNORED]
    assert employee is not None and employee.email is None


def test_manager_change_refreshes_the_participant_and_everyone_below() -> None:
    employee, _ = run(hris(HrisEventType.HIRED, manager_id="M1", **HIRE))
    result = apply_hris_event(employee, hris(HrisEventType.TRANSFERRED, day=1, manager_id="M2"), managers={})
    assert result.effects == (
        RefreshParticipant("E1", frozenset({"manager_id"})),
        RefreshReportsChains("E1"),
    )


def test_department_change_refreshes_only_the_participant_and_title_nothing() -> None:
    employee, _ = run(hris(HrisEventType.HIRED, **HIRE))
    moved = apply_hris_event(
        employee, hris(HrisEventType.TRANSFERRED, day=1, department="Sales"), managers={}
    )
    assert moved.effects == (RefreshParticipant("E1", frozenset({"department"})),)
    retitled = apply_hris_event(moved.employee, hris(HrisEventType.UPDATED, day=2, title="Boss"), managers={})
    assert retitled.effects == ()
    assert retitled.changed_fields == frozenset({"title"})


def test_newcomer_with_a_manager_refreshes_reports_who_arrived_first() -> None:
    result = apply_hris_event(None, hris(HrisEventType.HIRED, "M1", manager_id="CEO"), managers={"E1": "M1"})
    assert result.effects == (RefreshReportsChains("M1"),)


def test_manager_change_that_closes_a_cycle_is_refused_and_not_applied() -> None:
    managers: dict[str, str | None] = {"A": None, "B": "A", "C": "B"}
    a_record, _ = run(hris(HrisEventType.HIRED, "A"))
    with pytest.raises(ReportingCycle) as caught:
        apply_hris_event(
            a_record, hris(HrisEventType.TRANSFERRED, "A", day=1, manager_id="C"), managers=managers
        )
    assert isinstance(caught.value, InvalidArgument)
    assert caught.value.field == "manager"
    assert caught.value.cycle == ("A", "C", "B", "A")
    assert a_record is not None and a_record.manager_id is None


def test_self_management_is_a_cycle() -> None:
    with pytest.raises(ReportingCycle):
        apply_hris_event(None, hris(HrisEventType.HIRED, "A", manager_id="A"), managers={})


def test_event_for_another_record_is_a_programming_error() -> None:
    employee, _ = run(hris(HrisEventType.HIRED))
    with pytest.raises(ValueError):
        apply_hris_event(employee, hris(HrisEventType.UPDATED, "E2", day=1), managers={})


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: hris(HrisEventType.UPDATED, grade=120), "grade"),
        (lambda: hris(HrisEventType.UPDATED, grade=True), "grade"),
        (lambda: hris(HrisEventType.UPDATED, timezone="Mars/Olympus"), "timezone"),
        (lambda: hris(HrisEventType.UPDATED, skills=("Python",)), "skills"),
        (lambda: hris(HrisEventType.LEAVE_STARTED, status=EmployeeStatus.ACTIVE), "status"),
        (lambda: hris(HrisEventType.TERMINATED, status=EmployeeStatus.ON_LEAVE), "status"),
        (lambda: hris(HrisEventType.UPDATED, status=EmployeeStatus.ERASED), "status"),
        (lambda: hris(HrisEventType.UPDATED, manager_id=""), "manager"),
        (lambda: hris(HrisEventType.UPDATED, ""), "employeeNumber"),
        (lambda: hris(HrisEventType.UPDATED, seq=-1), "sequence"),
    ],
)
def test_malformed_events_name_the_field(build: object, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_naive_effective_time_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        HrisEvent("x", TENANT, "E1", HrisEventType.UPDATED, datetime(2025, 1, 1))
    assert caught.value.field == "effectiveTime"


def test_changes_report_only_what_is_carried() -> None:
    changes = EmployeeChanges(title=None, grade=3)
    assert changes.carried() == {"title": None, "grade": 3}
    assert changes.department is ABSENT
