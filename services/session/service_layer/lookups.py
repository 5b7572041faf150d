"""What every request handler of the session service looks up first: the clock, and the relationship a
request names in the caller's tenant (another tenant's is not found, like a missing one), with the
caller's right to it checked."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.session.adapters import store
from services.session.domain import model
from services.session.domain.model import Relationship
from services.session.service_layer import permissions
from services.shared.auth import Principal
from services.shared.errors import NotFound


def now_or(now: datetime | None) -> datetime:
    return model.require_aware(now, "now") if now is not None else datetime.now(UTC)


async def relationship_in(uow: AsyncSession, tenant: str, match_id: str) -> Relationship:
    """The relationship of the caller's tenant; another tenant's is not found, like a missing one."""
    relationship = await store.get_relationship(uow, match_id, tenant=tenant)
    if relationship is None:
        raise NotFound("match", match_id)
    return relationship


async def member_of(uow: AsyncSession, caller: Principal, match_id: str) -> Relationship:
    """The relationship, if the caller is one of its members."""
    relationship = await relationship_in(uow, permissions.tenant_of(caller), match_id)
    permissions.require_member(caller, relationship)
    return relationship
