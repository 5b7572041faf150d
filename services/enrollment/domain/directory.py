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
from dataclasses import dataclass
from typing import Final

from services.enrollment.domain.common import VERSION_ZERO
from services.enrollment.domain.employees import (
    MATCHING_FIELDS,
    Employee,
    EmployeeStatus,
    HrisEvent,
    HrisEventType,
)
from services.enrollment.domain.events import DomainEvent, EmployeeErased
from services.enrollment.domain.hierarchy import ManagerLookup, check_no_cycle


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
