"""Who may enrol in a program now: the business rules, checked in the order of :data:`RULES`."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from services.enrollment.domain.common import require_aware
from services.enrollment.domain.employees import Employee, EmployeeStatus
from services.enrollment.domain.profile import Profile, Role
from services.enrollment.domain.programs import Program, ProgramStatus
from services.shared.errors import FailedPrecondition

# Business rules, in the order they are checked (FailedPrecondition.rule).
RULES: Final = (
    "program_closed",
    "program_not_open",
    "enrollment_window",
    "employee_status",
    "department",
    "division",
    "location",
    "grade_range",
    "minimum_tenure",
    "formal_goals_required",
)


def _in(allowed: frozenset[str], value: str | None) -> bool:
    return not allowed or (value is not None and value.casefold() in {a.casefold() for a in allowed})


def eligibility_failures(program: Program, employee: Employee, *, now: datetime) -> tuple[str, ...]:
    """Every rule of :data:`RULES` (but the goal rule) that refuses this employee now, in order.

    Tenure is counted in whole days from the hire date to ``now``'s date; an unknown grade or hire
    date fails a program that restricts grade or tenure.
    """
    require_aware(now, "now")
    failures: list[str] = []
    if program.status is ProgramStatus.CLOSED:
        failures.append("program_closed")
    elif program.status is ProgramStatus.DRAFT:
        failures.append("program_not_open")
    if not program.spec.enrollment_window.contains(now):
        failures.append("enrollment_window")
    if employee.status is not EmployeeStatus.ACTIVE:
        failures.append("employee_status")
    rules = program.spec.eligibility
    if not _in(rules.departments, employee.department):
        failures.append("department")
    if not _in(rules.divisions, employee.division):
        failures.append("division")
    if not _in(rules.locations, employee.location):
        failures.append("location")
    if rules.grade_min is not None or rules.grade_max is not None:
        grade = employee.grade
        if (
            grade is None
            or (rules.grade_min is not None and grade < rules.grade_min)
            or (rules.grade_max is not None and grade > rules.grade_max)
        ):
            failures.append("grade_range")
    if rules.minimum_tenure_days > 0:
        tenure = employee.tenure_days(now.date())
        if tenure is None or tenure < rules.minimum_tenure_days:
            failures.append("minimum_tenure")
    return tuple(failures)


def has_measurable_goal(profile: Profile, program: Program) -> bool:
    cohort = program.spec.cohort
    return any(goal.is_measurable(cohort.start, cohort.end) for goal in profile.goals)


def check_formal_goals(profile: Profile, role: Role, program: Program) -> None:
    if program.spec.formal and role in (Role.MENTEE, Role.PEER) and not has_measurable_goal(profile, program):
        raise FailedPrecondition(
            "formal_goals_required",
            "a formal program needs a measurable goal: what, metric, target, due within the cohort",
        )


RULE_MESSAGES: Final = {
    "program_closed": "the program is closed",
    "program_not_open": "the program is not open for enrollment yet",
    "enrollment_window": "the enrollment window is not open",
    "employee_status": "only active employees can enrol",
    "department": "the program is not open to this department",
    "division": "the program is not open to this division",
    "location": "the program is not open to this location",
    "grade_range": "the employee's grade is outside the program's range",
    "minimum_tenure": "the employee has not been with the company long enough",
}
