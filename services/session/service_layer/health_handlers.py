"""The health of relationships: assessed by the health job over every live relationship, and again for
one relationship when it holds a session or gets feedback (so a completed session clears a missed
cadence at once). Each change is published (RelationshipHealthChanged); HR and the program's managers
list the relationships at risk and why, never what anyone wrote."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.session import metrics
from services.session.adapters import health_store, program_store
from services.session.adapters.publishing import publish
from services.session.domain import events, health
from services.session.service_layer import commands, permissions
from services.session.service_layer.commands import RelationshipAtRisk
from services.session.service_layer.lookups import now_or
from services.shared import access
from services.shared.messagebus import Command, Handler
from services.shared.paging import Page, decode_token, encode_token, page_size
from services.shared.unit_of_work import after_commit


async def _apply(uow: AsyncSession, assessed: Sequence[health_store.Assessed], now: datetime) -> int:
    changed: list[events.Event] = []
    for item in assessed:
        found = health.assess(item.known, item.facts, now)
        if found is None:
            if not item.recorded:  # its start is recorded now, so that a missed cadence counts from it
                await health_store.save(uow, item.match_id, item.known, item.facts.started_at, now)
            continue
        await health_store.save(uow, item.match_id, found, item.facts.started_at, now)
        changed.append(events.RelationshipHealthChanged(item.tenant, item.match_id, item.program_id, found))
        after_commit(uow, metrics.HEALTH_CHANGES.labels("at_risk" if found.at_risk else "recovered").inc)
    await publish(uow, changed)
    return len(changed)


async def assess_health(
    uow: AsyncSession, command: commands.AssessHealth, now: datetime | None = None
) -> int:
    moment = now_or(now)
    return await _apply(uow, await health_store.to_assess(uow, moment), moment)


async def reassess(uow: AsyncSession, match_id: str, now: datetime) -> None:
    """Assess one relationship again, in the unit of work of what just happened to it."""
    await _apply(uow, await health_store.to_assess(uow, now, [match_id]), now)


async def list_relationships_at_risk(
    uow: AsyncSession, command: commands.ListRelationshipsAtRisk
) -> Page[RelationshipAtRisk]:
    """HR: the tenant's (or one program's); a program manager: a program they manage, named."""
    tenant = permissions.tenant_of(command.caller)
    program_id = command.program_id.strip()
    scope: list[str] | None = None
    if program_id:
        program = await program_store.get_program(uow, program_id, tenant)
        access.require_program_role(
            command.caller, set(program.manager_ids) if program is not None else set()
        )
        scope = [program_id]
    else:
        access.require_hr(command.caller)
    limit = page_size(command.page_size)
    key = decode_token("at_risk", command.page_token, 1)
    rows, total = await health_store.at_risk(uow, tenant, scope, limit + 1, key[0] if key else None)
    items = [RelationshipAtRisk(match_id, program, found) for match_id, program, found in rows]
    next_token = ""
    if len(items) > limit:
        items = items[:limit]
        next_token = encode_token("at_risk", [items[-1].match_id])
    return Page(items=items, next_page_token=next_token, total_size=total)


HANDLERS: Final[dict[type[Command[Any]], Handler]] = {
    commands.AssessHealth: assess_health,
    commands.ListRelationshipsAtRisk: list_relationships_at_risk,
}
