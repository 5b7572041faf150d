"""The employee directory's records: an employee as the HRIS last described them, and one inbound HRIS
change to such a record (how changes apply is in :mod:`directory`)."""

from __future__ import annotations

import enum
import functools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Final

from services.enrollment.domain.common import (
    ABSENT,
    MAX_GRADE,
    Absent,
    Carried,
    Version,
    normalise_tags,
    require_aware,
)
from services.shared.errors import InvalidArgument


class EmployeeStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    ON_LEAVE = "ON_LEAVE"
    TERMINATED = "TERMINATED"
    ERASED = "ERASED"


class HrisEventType(enum.Enum):
    HIRED = "HIRED"
    UPDATED = "UPDATED"
    TRANSFERRED = "TRANSFERRED"
    LEAVE_STARTED = "LEAVE_STARTED"
    LEAVE_ENDED = "LEAVE_ENDED"
    TERMINATED = "TERMINATED"
    REHIRED = "REHIRED"
    ERASED = "ERASED"


# Status each lifecycle type sets, and the statuses it may carry explicitly (a hire straight into leave).
_IMPLIED_STATUS: Final[Mapping[HrisEventType, EmployeeStatus]] = {
    HrisEventType.HIRED: EmployeeStatus.ACTIVE,
    HrisEventType.REHIRED: EmployeeStatus.ACTIVE,
    HrisEventType.LEAVE_STARTED: EmployeeStatus.ON_LEAVE,
    HrisEventType.LEAVE_ENDED: EmployeeStatus.ACTIVE,
    HrisEventType.TERMINATED: EmployeeStatus.TERMINATED,
}
_ALLOWED_CARRIED_STATUS: Final[Mapping[HrisEventType, frozenset[EmployeeStatus]]] = {
    HrisEventType.HIRED: frozenset({EmployeeStatus.ACTIVE, EmployeeStatus.ON_LEAVE}),
    HrisEventType.REHIRED: frozenset({EmployeeStatus.ACTIVE, EmployeeStatus.ON_LEAVE}),
    HrisEventType.LEAVE_STARTED: frozenset({EmployeeStatus.ON_LEAVE}),
    HrisEventType.LEAVE_ENDED: frozenset({EmployeeStatus.ACTIVE}),
    HrisEventType.TERMINATED: frozenset({EmployeeStatus.TERMINATED}),
    HrisEventType.UPDATED: frozenset(
        {EmployeeStatus.ACTIVE, EmployeeStatus.ON_LEAVE, EmployeeStatus.TERMINATED}
    ),
    HrisEventType.TRANSFERRED: frozenset(
        {EmployeeStatus.ACTIVE, EmployeeStatus.ON_LEAVE, EmployeeStatus.TERMINATED}
    ),
    HrisEventType.ERASED: frozenset(),
}

# Attributes the matching service sees on a participant: a change to any of them republishes it.
MATCHING_FIELDS: Final = frozenset(
    {"grade", "department", "division", "organization", "location", "timezone", "languages", "skills"}
)


@dataclass(frozen=True)
class Employee:
    """One employee as the HRIS last described them. ``display_name`` and ``email`` are personal data:
    they stay in this service (contact look-up) and are left out of ``repr`` so they do not reach logs.
    """

    tenant: str
    employee_id: str
    status: EmployeeStatus
    version: Version
    display_name: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    title: str | None = None
    grade: int | None = None
    department: str | None = None
    division: str | None = None
    organization: str | None = None
    cost_center: str | None = None
    location: str | None = None
    timezone: str | None = None
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    hire_date: date | None = None
    termination_date: date | None = None
    manager_id: str | None = None
    # field name -> version of the change that last set it (see module docstring).
    field_versions: Mapping[str, Version] = field(default_factory=dict, repr=False, compare=False)

    def tenure_days(self, on: date) -> int | None:
        """Days since hire on ``on``; None when the hire date is unknown."""
        return None if self.hire_date is None else (on - self.hire_date).days


@dataclass(frozen=True)
class EmployeeChanges:
    """The attributes an HRIS event carries. ABSENT = not carried (unchanged); None / () = cleared.

    Values are expected normalised (the SCIM and CSV mappers do it); ``__post_init__`` checks the ones
    that would corrupt the directory. ``status`` is only meaningful on UPDATED / TRANSFERRED (an HR
    export carries the status column) and must agree with the type otherwise.
    """

    display_name: Carried[str | None] = ABSENT
    email: Carried[str | None] = ABSENT
    title: Carried[str | None] = ABSENT
    grade: Carried[int | None] = ABSENT
    department: Carried[str | None] = ABSENT
    division: Carried[str | None] = ABSENT
    organization: Carried[str | None] = ABSENT
    cost_center: Carried[str | None] = ABSENT
    location: Carried[str | None] = ABSENT
    timezone: Carried[str | None] = ABSENT
    languages: Carried[tuple[str, ...]] = ABSENT
    skills: Carried[tuple[str, ...]] = ABSENT
    hire_date: Carried[date | None] = ABSENT
    termination_date: Carried[date | None] = ABSENT
    manager_id: Carried[str | None] = ABSENT
    status: Carried[EmployeeStatus] = ABSENT

    def __post_init__(self) -> None:
        grade = self.grade
        if not isinstance(grade, Absent) and grade is not None and not _is_grade(grade):
            raise InvalidArgument("grade", f"must be an integer between 0 and {MAX_GRADE}")
        timezone = self.timezone
        if not isinstance(timezone, Absent) and timezone is not None and not is_valid_timezone(timezone):
            raise InvalidArgument("timezone", f"unknown IANA time zone {timezone!r}")
        for name in ("languages", "skills"):
            value = getattr(self, name)
            if not isinstance(value, Absent) and value != normalise_tags(value):
                raise InvalidArgument(name, "must be normalised tags (use normalise_tags)")
        if self.status is EmployeeStatus.ERASED:
            raise InvalidArgument("status", "erasure is its own event type, not a status update")
        if self.manager_id == "":
            raise InvalidArgument("manager", "use None to clear the manager")

    def carried(self) -> dict[str, object]:
        """Field name -> new value for every field the event carries."""
        values = {name: getattr(self, name) for name in _CHANGE_FIELDS}
        return {name: value for name, value in values.items() if value is not ABSENT}


# Looked up once: dataclasses.fields() is slow to call for every event.
_CHANGE_FIELDS: Final = tuple(f.name for f in fields(EmployeeChanges))


@dataclass(frozen=True)
class HrisEvent:
    """One inbound HRIS change, already translated from SCIM / CSV (see ``hris_mapping``)."""

    event_id: str
    tenant: str
    employee_id: str
    type: HrisEventType
    effective_time: datetime
    sequence: int = 0
    changes: EmployeeChanges = field(default_factory=EmployeeChanges)

    def __post_init__(self) -> None:
        for name in ("event_id", "tenant", "employee_id"):
            if not getattr(self, name):
                raise InvalidArgument(
                    "employeeNumber" if name == "employee_id" else name, "must not be empty"
                )
        try:
            require_aware(self.effective_time, "effective_time")
        except ValueError as error:
            raise InvalidArgument("effectiveTime", "must be a timezone-aware date-time") from error
        if isinstance(self.sequence, bool) or not isinstance(self.sequence, int) or self.sequence < 0:
            raise InvalidArgument("sequence", "must be a non-negative integer")
        carried_status = self.changes.status
        if (
            not isinstance(carried_status, Absent)
            and carried_status not in _ALLOWED_CARRIED_STATUS[self.type]
        ):
            raise InvalidArgument("status", f"{carried_status.name} contradicts a {self.type.name} event")

    @property
    def version(self) -> Version:
        return Version(self.effective_time, self.sequence)

    def values_to_apply(self) -> dict[str, object]:
        """Carried attributes plus the status the event type sets."""
        values = self.changes.carried()
        if self.type in _IMPLIED_STATUS and "status" not in values:
            values["status"] = _IMPLIED_STATUS[self.type]
        if self.type is HrisEventType.REHIRED and "termination_date" not in values:
            values["termination_date"] = None  # a rehire ends the previous termination
        return values


def _is_grade(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_GRADE


@functools.lru_cache(maxsize=1024)
def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name known to the zone database."""
    if not name or name != name.strip():
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def manager_map(employees: Mapping[str, Employee]) -> dict[str, str | None]:
    """Employee id -> manager id, the lookup the hierarchy functions take."""
    return {employee_id: employee.manager_id for employee_id, employee in employees.items()}
