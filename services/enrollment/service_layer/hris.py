"""HRIS ingestion: worker events applied to the directory and to the enrollments they affect.

Events come in micro-batches (the consumer pipeline's unit of work, which also writes the inbox rows
that make redeliveries no-ops). A batch costs a handful of round trips whatever its size: the batch's
employees and their enrollments are read at once, every event is applied in memory in order (an
employee twice in a batch sees their first change), and the batch is written at once: employees in
two statements, changed enrollments, then the outbox rows, in event order.

Reporting lines come from a :class:`ReportingTree` per tenant and employee records from a
:class:`DirectoryCache` kept between batches: this consumer is the only writer of the directory, so it
keeps them current itself, and any rollback of a transaction that changed them drops them (read again
on next use). That assumes one consuming instance per database, as the outbox relay does.

An event with bad data (a reporting cycle, a malformed field) is rejected with an InvalidArgument
that names the field and contributes nothing to the batch's writes; a stale event changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment import metrics
from services.enrollment.adapters import store
from services.enrollment.adapters.outbox import Keyed, erasure_keys, keyed, stage_many
from services.enrollment.domain import (
    Employee,
    EmployeeErased,
    EmployeeStatus,
    Enrollment,
    HrisApplyResult,
    HrisEvent,
    Participant,
    ParticipantUpdated,
    Program,
    RefreshReportsChains,
    ReportingTree,
    apply_effects,
    apply_hris_event,
    participant_view,
    refresh_participants,
)
from services.shared.errors import DomainError
from services.shared.outbox import forget_subjects
from services.shared.personal_keys import shred
from services.shared.unit_of_work import after_commit

EmployeeKey = tuple[str, str]  # (tenant, employee id)


class DirectoryCache:
    """Per tenant, the reporting tree and the employee records, kept between batches.

    Loaded on first use, kept current by the batches that change them (this consumer is their only
    writer), dropped whole when a transaction that changed them rolls back. Employee records are
    dropped when there are more than ``max_employees`` of them (read again from the table as needed).
    """

    def __init__(self, max_employees: int = 200_000) -> None:
        self._trees: dict[str, ReportingTree] = {}
        self._employees: dict[EmployeeKey, Employee] = {}
        self._max_employees = max_employees

    async def tree(self, session: AsyncSession, tenant: str) -> ReportingTree:
        tree = self._trees.get(tenant)
        if tree is None:
            tree = self._trees[tenant] = ReportingTree(await store.reporting_lines(session, tenant))
        return tree

    def employee(self, key: EmployeeKey) -> Employee | None:
        return self._employees.get(key)

    def keep(self, employees: Iterable[Employee]) -> None:
        if len(self._employees) > self._max_employees:
            self._employees.clear()
        self._employees.update(((e.tenant, e.employee_id), e) for e in employees)

    def forget(self, tenants: Iterable[str]) -> None:
        for tenant in set(tenants):
            self._trees.pop(tenant, None)
            for key in [key for key in self._employees if key[0] == tenant]:
                del self._employees[key]

    def forget_on_rollback(self, session: AsyncSession, tenants: set[str]) -> None:
        """Drop these tenants if the transaction (or a savepoint around it) rolls back."""

        def on_rollback(_session: object, _transaction: object) -> None:
            self.forget(tenants)

        sqlalchemy_event.listen(session.sync_session, "after_soft_rollback", on_rollback)


@dataclass
class _Batch:
    """What one batch has read and changed so far; written once at its end."""

    employees: dict[EmployeeKey, Employee]
    stored: set[EmployeeKey]  # rows that exist in the table (update, not insert)
    enrollments: dict[EmployeeKey, list[Enrollment]]  # latest state; loaded keys only
    programs: dict[str, Program]
    trees: dict[str, ReportingTree]  # per tenant, kept current as the batch moves people
    # Fields changed per employee (None: every column, a tombstone overwrites them all).
    changed_employees: dict[EmployeeKey, frozenset[str] | None] = field(default_factory=dict)
    changed_enrollments: dict[str, Enrollment] = field(default_factory=dict)
    staged: list[tuple[Keyed, dict[str, Participant], str | None]] = field(default_factory=list)
    # Per tenant, who had a live enrollment when the batch began (read once, when a manager moves).
    live_enrolled: dict[str, set[str]] = field(default_factory=dict)
    erased: set[EmployeeKey] = field(default_factory=set)
    # Counted once the batch commits: participants republished, by cause; erased people's rows deleted.
    refreshes: Counter[str] = field(default_factory=Counter)
    erased_outbox_rows: int = 0
    shredded_keys: int = 0


def _nothing() -> None:
    return None


class HrisIngestion:
    def __init__(self, cache: DirectoryCache | None = None, on_erased: Callable[[], None] = _nothing) -> None:
        """``on_erased``: called once a batch that erased someone has committed (the WAL checkpoint)."""
        self._cache = cache if cache is not None else DirectoryCache()
        self._on_erased = on_erased

    async def apply_batch(
        self,
        session: AsyncSession,
        events: Sequence[tuple[HrisEvent, str | None]],
        *,
        now: datetime | None = None,
    ) -> list[HrisApplyResult | DomainError]:
        """Apply ``(event, causation id)`` pairs in order; one result or rejection per event."""
        moment = now if now is not None else datetime.now(UTC)
        tenants = {event.tenant for event, _ in events}
        self._cache.forget_on_rollback(session, tenants)
        batch = await self._read(session, events)
        results: list[HrisApplyResult | DomainError] = []
        outcomes: Counter[tuple[str, str]] = Counter()
        for event, causation_id in events:
            tree = batch.trees[event.tenant]
            try:
                result = apply_hris_event(
                    batch.employees.get((event.tenant, event.employee_id)), event, managers=tree.managers
                )
            except DomainError as error:
                results.append(error)
                continue
            outcomes[event.type.value.lower(), result.outcome.value.lower()] += 1
            results.append(result)
            if result.changed:
                await self._apply_result(session, batch, tree, result, causation_id, moment)
        await self._write(session, batch)
        after_commit(session, partial(_count, outcomes, batch))
        if batch.erased:
            after_commit(session, self._on_erased)
        return results

    async def _read(self, session: AsyncSession, events: Sequence[tuple[HrisEvent, str | None]]) -> _Batch:
        wanted: dict[str, set[str]] = {}
        for event, _ in events:
            wanted.setdefault(event.tenant, set()).add(event.employee_id)
        batch = _Batch(employees={}, stored=set(), enrollments={}, programs={}, trees={})
        for tenant, employee_ids in wanted.items():
            batch.trees[tenant] = await self._cache.tree(session, tenant)
            await self._load(session, batch, tenant, employee_ids)
        return batch

    async def _load(
        self, session: AsyncSession, batch: _Batch, tenant: str, employee_ids: Iterable[str]
    ) -> None:
        """Read what the batch does not hold yet of these employees: rows, enrollments, programs."""
        missing = sorted({e for e in employee_ids if (tenant, e) not in batch.enrollments})
        if not missing:
            return
        cached = {e: self._cache.employee((tenant, e)) for e in missing}
        unknown = [employee_id for employee_id, employee in cached.items() if employee is None]
        read = await store.get_employees(session, tenant, unknown) if unknown else {}
        self._cache.keep(read.values())
        for employee_id, employee in {**cached, **read}.items():
            if employee is not None:
                batch.employees[tenant, employee_id] = employee
                batch.stored.add((tenant, employee_id))
        found = await store.enrollments_of_employees(session, tenant, missing)
        for employee_id in missing:
            batch.enrollments[tenant, employee_id] = found.get(employee_id, [])
        program_ids = {
            e.program_id for found_list in found.values() for e in found_list
        } - batch.programs.keys()
        batch.programs.update(await store.get_programs(session, program_ids))

    async def _apply_result(
        self,
        session: AsyncSession,
        batch: _Batch,
        tree: ReportingTree,
        result: HrisApplyResult,
        causation_id: str | None,
        now: datetime,
    ) -> None:
        employee = result.employee
        key = (employee.tenant, employee.employee_id)
        batch.employees[key] = employee
        erased = employee.status is EmployeeStatus.ERASED
        before = batch.changed_employees.get(key, frozenset())
        batch.changed_employees[key] = None if erased or before is None else before | result.changed_fields
        if erased:
            batch.erased.add(key)
        tree.set_manager(employee.employee_id, employee.manager_id)

        staged: list[Keyed] = []
        views: dict[str, Participant] = {}
        own_effects = [effect for effect in result.effects if not isinstance(effect, RefreshReportsChains)]
        enrollments = batch.enrollments.get(key, [])
        if own_effects and enrollments:
            chain = tree.chain(employee.employee_id)
            changes = apply_effects(
                own_effects,
                employee=employee,
                management_chain=chain,
                enrollments=enrollments,
                programs=batch.programs,
                now=now,
            )
            latest = {
                enrollment.enrollment_id: enrollment for enrollment in (*enrollments, *changes.enrollments)
            }
            batch.enrollments[key] = list(latest.values())
            batch.changed_enrollments.update((e.enrollment_id, e) for e in changes.enrollments)
            views = {
                enrollment_id: participant_view(
                    enrollment, batch.programs[enrollment.program_id], employee, chain
                )
                for enrollment_id, enrollment in latest.items()
            }
            staged.extend(keyed(changes.events))
            refreshed = sum(isinstance(staged_event, ParticipantUpdated) for staged_event in changes.events)
            batch.refreshes["self"] += refreshed
        for domain_event in result.events:
            if isinstance(domain_event, EmployeeErased):
                staged.extend(erasure_keys(domain_event, enrollments))
            else:
                staged.append((domain_event, domain_event.key))
        if any(
            isinstance(effect, RefreshReportsChains) for effect in result.effects
        ) and tree.manages_someone(employee.employee_id):
            staged.extend(await self._refresh_reports(session, batch, tree, employee, now))
        batch.staged.extend((item, views, causation_id) for item in staged)

    async def _refresh_reports(
        self, session: AsyncSession, batch: _Batch, tree: ReportingTree, manager: Employee, now: datetime
    ) -> list[Keyed]:
        """ParticipantUpdated for every live enrollment of everyone below ``manager``: their chains moved."""
        tenant = manager.tenant
        if tenant not in batch.live_enrolled:
            batch.live_enrolled[tenant] = await store.employees_with_live_enrollments(session, tenant)
        enrolled = batch.live_enrolled[tenant]
        reports = [report for report in tree.all_below(manager.employee_id) if report in enrolled]
        await self._load(session, batch, tenant, reports)
        staged: list[Keyed] = []
        for report in reports:
            enrollments = batch.enrollments[tenant, report]
            employee = batch.employees.get((tenant, report))
            if employee is None or not any(enrollment.is_live for enrollment in enrollments):
                continue
            changes = refresh_participants(
                employee=employee,
                management_chain=tree.chain(report),
                enrollments=enrollments,
                programs=batch.programs,
                now=now,
            )
            staged.extend(keyed(changes.events))
        batch.refreshes["reports"] += len(staged)
        return staged

    async def _write(self, session: AsyncSession, batch: _Batch) -> None:
        changed = [batch.employees[key] for key in batch.changed_employees]
        await store.save_employees(
            session,
            created=[batch.employees[key] for key in batch.changed_employees if key not in batch.stored],
            updated=[
                (batch.employees[key], fields)
                for key, fields in batch.changed_employees.items()
                if key in batch.stored
            ],
        )
        await store.update_enrollments(session, list(batch.changed_enrollments.values()))
        await self._forget_events_about_erased(session, batch)
        await self._shred_keys_of_erased(session, batch)
        await stage_many(session, batch.staged)
        self._cache.keep(changed)

    @staticmethod
    async def _forget_events_about_erased(session: AsyncSession, batch: _Batch) -> None:
        """Events about an erased person's enrollments carried their profile (goals are free text): they
        go too, once published. The withdrawals and tombstone this batch stages come after and stay."""
        subjects: dict[str, set[str]] = {}
        for tenant, employee_id in batch.erased:
            enrollments = batch.enrollments.get((tenant, employee_id), [])
            subjects.setdefault(tenant, set()).update(e.enrollment_id for e in enrollments)
        for tenant, enrollment_ids in subjects.items():
            deleted = await forget_subjects(session, tenant, enrollment_ids)
            batch.erased_outbox_rows += deleted

    @staticmethod
    async def _shred_keys_of_erased(session: AsyncSession, batch: _Batch) -> None:
        """Their keys go, in the erasure's transaction: every dead letter sealed under one of them (the
        HRIS records about them that could not be applied, still on the DLQ topic) becomes unreadable."""
        by_tenant: dict[str, set[str]] = {}
        for tenant, employee_id in batch.erased:
            by_tenant.setdefault(tenant, set()).add(employee_id)
        for tenant, employee_ids in by_tenant.items():
            batch.shredded_keys += await shred(session, tenant, employee_ids)


def _count(outcomes: Counter[tuple[str, str]], batch: _Batch) -> None:
    for (event_type, outcome), count in outcomes.items():
        metrics.HRIS_EVENTS.labels(event_type, outcome).inc(count)
    for cause, count in batch.refreshes.items():
        metrics.PARTICIPANT_REFRESHES.labels(cause).inc(count)
    if batch.erased:
        metrics.ERASED_OUTBOX_ROWS.inc(batch.erased_outbox_rows)
        metrics.PERSONAL_KEYS_SHREDDED.inc(batch.shredded_keys)


async def apply(
    session: AsyncSession,
    event: HrisEvent,
    *,
    causation_id: str | None = None,
    now: datetime | None = None,
    cache: DirectoryCache | None = None,
) -> HrisApplyResult:
    """Apply one event (a batch of one); raises the DomainError that rejects it."""
    (result,) = await HrisIngestion(cache).apply_batch(session, [(event, causation_id)], now=now)
    if isinstance(result, DomainError):
        raise result
    return result
