"""HRIS ingestion: one worker event applied to the directory and to the enrollments it affects.

Runs inside the consumer pipeline's unit of work (the inbox row that makes redeliveries no-ops is
written in the same transaction). A reporting cycle or malformed data raises InvalidArgument, which
the pipeline dead-letters with the field at fault; a stale event changes nothing and stages nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment import metrics
from services.enrollment.adapters import store
from services.enrollment.domain import (
    Employee,
    EmployeeErased,
    EmployeeStatus,
    HrisApplyResult,
    HrisEvent,
    Participant,
    ParticipantUpdated,
    RefreshReportsChains,
    apply_effects,
    apply_hris_event,
    participant_view,
    refresh_participants,
)
from services.enrollment.service_layer.publishing import Keyed, erasure_keys, keyed, stage


async def apply(
    session: AsyncSession, event: HrisEvent, *, causation_id: str | None = None, now: datetime | None = None
) -> HrisApplyResult:
    """Apply ``event``; stage every resulting enrollment event (tagged with ``causation_id``)."""
    moment = now if now is not None else datetime.now(UTC)
    context = await store.get_employee_context(session, event.tenant, event.employee_id)
    current, manages_someone = context.employee, context.manages_someone
    managers = await _reporting_line_above_new_manager(session, event, current, manages_someone)
    result = apply_hris_event(current, event, managers=managers)
    metrics.HRIS_EVENTS.labels(event.type.value.lower(), result.outcome.value.lower()).inc()
    if not result.changed:
        return result
    employee = result.employee
    await store.save_employee(session, employee, created=current is None)
    if employee.status is EmployeeStatus.ERASED:
        await store.overwrite_freed_space(session)

    staged: list[Keyed] = []
    views: dict[str, Participant] = {}
    own_effects = [effect for effect in result.effects if not isinstance(effect, RefreshReportsChains)]
    enrollments = []
    if context.has_enrollments and (own_effects or result.events):
        enrollments = await store.enrollments_of_employee(session, event.tenant, event.employee_id)
    if own_effects and enrollments:
        programs = await store.get_programs(session, {enrollment.program_id for enrollment in enrollments})
        chain = (await store.chains_of(session, event.tenant, [event.employee_id]))[event.employee_id]
        batch = apply_effects(
            own_effects,
            employee=employee,
            management_chain=chain,
            enrollments=enrollments,
            programs=programs,
            now=moment,
        )
        await store.update_enrollments(session, batch.enrollments)
        latest = {enrollment.enrollment_id: enrollment for enrollment in (*enrollments, *batch.enrollments)}
        views = {
            enrollment_id: participant_view(enrollment, programs[enrollment.program_id], employee, chain)
            for enrollment_id, enrollment in latest.items()
        }
        staged.extend(keyed(batch.events))
        refreshed = sum(isinstance(staged_event, ParticipantUpdated) for staged_event in batch.events)
        metrics.PARTICIPANT_REFRESHES.labels("self").inc(refreshed)
    for domain_event in result.events:
        if isinstance(domain_event, EmployeeErased):
            staged.extend(erasure_keys(domain_event, enrollments))
        else:
            staged.append((domain_event, domain_event.key))
    if manages_someone and any(isinstance(effect, RefreshReportsChains) for effect in result.effects):
        staged.extend(await _refresh_reports(session, event.tenant, event.employee_id, moment))
    await stage(session, staged, views=views, causation_id=causation_id)
    return result


async def _reporting_line_above_new_manager(
    session: AsyncSession, event: HrisEvent, current: Employee | None, manages_someone: bool
) -> dict[str, str | None]:
    """What the cycle check reads: the reporting line above the manager the event sets, if any.

    Someone who manages nobody cannot close a cycle (the new manager would have to be below them),
    except by managing themselves, which the domain sees without the line.
    """
    new_manager = event.changes.manager_id
    if not isinstance(new_manager, str):  # not carried, or cleared: no new line to check
        return {}
    if current is not None and current.manager_id == new_manager:
        return {}
    if not manages_someone:
        return {}
    return await store.manager_lookup(session, event.tenant, [new_manager])


async def _refresh_reports(session: AsyncSession, tenant: str, manager_id: str, now: datetime) -> list[Keyed]:
    """ParticipantUpdated for every live enrollment of everyone below ``manager_id``: their chains moved."""
    reports = await store.reports_with_live_enrollments(session, tenant, manager_id)
    if not reports:
        return []
    employees = await store.get_employees(session, tenant, reports)
    chains = await store.chains_of(session, tenant, reports)
    by_employee = await store.enrollments_of_employees(session, tenant, reports)
    programs = await store.get_programs(
        session, {enrollment.program_id for found in by_employee.values() for enrollment in found}
    )
    staged: list[Keyed] = []
    for report in reports:
        batch = refresh_participants(
            employee=employees[report],
            management_chain=chains[report],
            enrollments=by_employee.get(report, []),
            programs=programs,
            now=now,
        )
        staged.extend(keyed(batch.events))
    metrics.PARTICIPANT_REFRESHES.labels("reports").inc(len(staged))
    return staged
