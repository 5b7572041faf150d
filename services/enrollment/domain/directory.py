"""Employee directory fed by HRIS events.

Ordering rule (why per-field versions): HRIS events arrive at least once and not necessarily in
effective-time order, and an UPDATED event carries only the fields that changed. Keeping one version
for the whole record would silently drop an older partial update that arrives after a newer one about
*other* fields (title changed at t1, department at t2, t2 delivered first: the title is lost), and an
UPDATED delivered before the HIRED would make the HIRED stale and lose the name and e-mail. So every
field (status included) remembers the version of the change that last set it, and an event sets only
the fields it carries that are older than it: last-writer-wins per field, by (effective_time, sequence).
Nothing ever regresses. An event that sets nothing is STALE; one older than the record that still fills
some older fields is MERGED.

ERASED is terminal and is applied whatever its version (a right-to-erasure request must not be lost to
ordering): the record becomes an opaque tombstone and every later event for the id is ERASED_IGNORED.
"""

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
    VERSION_ZERO,
    Absent,
    Carried,
    Version,
    normalise_tags,
    require_aware,
)
from services.enrollment.domain.events import DomainEvent, EmployeeErased
from services.enrollment.domain.hierarchy import ManagerLookup, check_no_cycle
from services.shared.errors import InvalidArgument

MAX_GRADE: Final = 99


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


class ApplyOutcome(enum.Enum):
    APPLIED = "APPLIED"  # newer than the record: applied (or created the record)
    MERGED = "MERGED"  # older than the record but carried fields older still: only those applied
    STALE = "STALE"  # nothing newer than what the record holds: ignored
    ERASED_IGNORED = "ERASED_IGNORED"  # the employee was erased: ignored for good


# Lifecycle effects: what the handler must do to this employee's enrollments (see enrollments module).
@dataclass(frozen=True)
class WithdrawEnrollments:
    """Withdraw every enrollment that is not withdrawn yet (termination)."""

    employee_id: str
    reason: str


@dataclass(frozen=True)
class PauseEnrollments:
    """Leave started: pause the ACTIVE enrollments (reason LEAVE)."""

    employee_id: str


@dataclass(frozen=True)
class ResumeEnrollments:
    """Leave ended: resume the enrollments that the leave paused, and only those."""

    employee_id: str


@dataclass(frozen=True)
class RefreshParticipant:
    """Attributes matching uses (or the management chain) changed: republish the live enrollments."""

    employee_id: str
    changed_fields: frozenset[str]


@dataclass(frozen=True)
class RefreshReportsChains:
    """The chain above ``employee_id`` changed, so every report below them has a new chain.

    Handler: ``ReportsIndex.all_below(employee_id)`` (or :func:`reports_below`), then for each report
    with enrollments ``refresh_participants(...)`` with the report's new chain.
    """

    employee_id: str


@dataclass(frozen=True)
class EraseParticipantData:
    """Erasure: withdraw live enrollments (reason "erased") and scrub every enrollment's profile."""

    employee_id: str


LifecycleEffect = (
    WithdrawEnrollments
    | PauseEnrollments
    | ResumeEnrollments
    | RefreshParticipant
    | RefreshReportsChains
    | EraseParticipantData
)

WITHDRAWN_TERMINATED: Final = "terminated"
WITHDRAWN_ERASED: Final = "erased"


@dataclass(frozen=True)
class HrisApplyResult:
    """Outcome of one HRIS event: persist ``employee`` (unless STALE / ERASED_IGNORED), run ``effects``
    against the enrollments, and put ``events`` in the outbox, all in one transaction.
    """

    outcome: ApplyOutcome
    employee: Employee
    created: bool = False
    changed_fields: frozenset[str] = frozenset()
    effects: tuple[LifecycleEffect, ...] = ()
    events: tuple[DomainEvent, ...] = ()

    @property
    def changed(self) -> bool:
        return self.outcome in (ApplyOutcome.APPLIED, ApplyOutcome.MERGED)


def apply_hris_event(
    current: Employee | None, event: HrisEvent, *, managers: ManagerLookup
) -> HrisApplyResult:
    """Apply one HRIS event to the employee's current record (None: not known yet).

    ``managers`` must hold at least the current reporting line above the event's new manager (the
    whole tenant's employee -> manager map is fine): it is read only when the event changes the
    manager, to refuse a change that closes a cycle with :class:`ReportingCycle` (then nothing is
    applied; the handler sends the event to the DLQ and goes on).
    """
    if current is not None and (current.tenant, current.employee_id) != (event.tenant, event.employee_id):
        raise ValueError("the event does not belong to this employee record")
    if current is not None and current.status is EmployeeStatus.ERASED:
        return HrisApplyResult(ApplyOutcome.ERASED_IGNORED, current)
    if event.type is HrisEventType.ERASED:
        return _erase(current, event)

    base = current or Employee(event.tenant, event.employee_id, EmployeeStatus.ACTIVE, VERSION_ZERO)
    version = event.version
    updates = {
        name: value
        for name, value in event.values_to_apply().items()
        if version > base.field_versions.get(name, VERSION_ZERO)
    }
    is_newer = version > base.version
    if current is not None and not is_newer and not updates:
        return HrisApplyResult(ApplyOutcome.STALE, current)

    new_manager = updates.get("manager_id", base.manager_id)
    if new_manager != base.manager_id:
        check_no_cycle(managers, event.employee_id, new_manager if isinstance(new_manager, str) else None)

    changed = frozenset(name for name, value in updates.items() if getattr(base, name) != value)
    field_versions = {**base.field_versions, **dict.fromkeys(updates, version)}
    # Built from the record's attributes rather than with dataclasses.replace, which looks the fields
    # up again on every call: this runs once per HRIS event.
    attributes = {**base.__dict__, **updates, "version": max(base.version, version)}
    attributes["field_versions"] = field_versions
    employee = Employee(**attributes)
    return HrisApplyResult(
        ApplyOutcome.APPLIED if is_newer else ApplyOutcome.MERGED,
        employee,
        created=current is None,
        changed_fields=changed,
        effects=_effects(current, employee, changed),
    )


def _effects(
    before: Employee | None, after: Employee, changed: frozenset[str]
) -> tuple[LifecycleEffect, ...]:
    employee_id = after.employee_id
    effects: list[LifecycleEffect] = []
    if before is None:
        # A newcomer has no enrollments yet, but if they manage people who arrived first, those
        # people's chains now continue above them.
        if after.manager_id is not None:
            effects.append(RefreshReportsChains(employee_id))
        return tuple(effects)
    participant_fields = changed & (MATCHING_FIELDS | {"manager_id"})
    if participant_fields:
        effects.append(RefreshParticipant(employee_id, participant_fields))
    if "manager_id" in changed:
        effects.append(RefreshReportsChains(employee_id))
    if "status" in changed:
        old, new = before.status, after.status
        if new is EmployeeStatus.TERMINATED:
            effects.append(WithdrawEnrollments(employee_id, WITHDRAWN_TERMINATED))
        elif new is EmployeeStatus.ON_LEAVE and old is EmployeeStatus.ACTIVE:
            effects.append(PauseEnrollments(employee_id))
        elif new is EmployeeStatus.ACTIVE and old is EmployeeStatus.ON_LEAVE:
            effects.append(ResumeEnrollments(employee_id))
    return tuple(effects)


def _erase(current: Employee | None, event: HrisEvent) -> HrisApplyResult:
    version = event.version if current is None else max(current.version, event.version)
    tombstone = Employee(event.tenant, event.employee_id, EmployeeStatus.ERASED, version)
    effects: list[LifecycleEffect] = [EraseParticipantData(event.employee_id)]
    if current is not None and current.manager_id is not None:
        effects.append(RefreshReportsChains(event.employee_id))  # chains below now stop at the tombstone
    return HrisApplyResult(
        ApplyOutcome.APPLIED,
        tombstone,
        created=current is None,
        changed_fields=frozenset({"status"}),
        effects=tuple(effects),
        events=(
            EmployeeErased(
                tenant=event.tenant, employee_id=event.employee_id, occurred_at=event.effective_time
            ),
        ),
    )


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
