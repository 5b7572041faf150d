"""Channels per category: the person's own choice comes first, then the tenant's default set by HR,
then the person's general switches; HR alone sets the defaults, in their own tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.notification.adapters import store
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.categories import Category, category_of, parse_category_channels
from services.notification.domain.model import Channel, Preferences
from services.notification.domain.templates import Audience, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import (
    GetPreferences,
    GetTenantDefaults,
    NotifyEnrolled,
    NotifyMatchEvent,
    UpdatePreferences,
    UpdateTenantDefaults,
)
from services.notification.service_layer.handlers import Policy
from services.shared.access import PermissionDenied
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import InvalidArgument

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
POLICY = Policy(email_by_default=True)


def person(employee_id: str, tenant: str = "acme", *roles: str) -> Principal:
    return Principal(f"sub-{employee_id}", tenant, employee_id, None, frozenset({"employee", *roles}))


def test_every_template_has_a_category() -> None:
    assert {category_of(template) for template in Template} <= set(Category)
    assert category_of(Template.SESSION_REMINDER) is Category.REMINDERS
    assert category_of(Template.MATCH_PROPOSED) is Category.PROPOSALS


def test_the_person_s_choice_then_the_tenant_s_then_the_switches() -> None:
    tenant = parse_category_channels([("sessions", ["in_app"]), ("proposals", ["email", "in_app"])])
    own = parse_category_channels([("proposals", [])])
    plain = Preferences("E-1", email=True, in_app=True)
    chosen = Preferences("E-1", email=True, in_app=True, categories=own)
    # No choice anywhere: the switches.
    assert plain.channels_for(Template.SESSION_REMINDER, tenant) == (Channel.IN_APP, Channel.EMAIL)
    # The tenant's default for sessions: in-app only.
    assert plain.channels_for(Template.SESSION_SCHEDULED, tenant) == (Channel.IN_APP,)
    # The person turned proposals off, whatever the tenant's default.
    assert chosen.channels_for(Template.MATCH_PROPOSED, tenant) == ()
    # A webhook chosen without an endpoint is not a channel.
    hooked = parse_category_channels([("sessions", ["webhook"])])
    assert plain.channels_for(Template.SESSION_MOVED, hooked) == ()


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([("gossip", ["email"])], "categories[0].category"),
        ([("sessions", ["pigeon"])], "categories[0].channels"),
        ([("sessions", ["email"]), ("Sessions", [])], "categories[1].category"),
    ],
)
def test_bad_choices_are_refused_naming_the_field(entries: list[tuple[str, list[str]]], field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_category_channels(entries)
    assert refused.value.field == field


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


async def test_hr_sets_the_tenant_s_defaults_and_the_plan_follows_them(database: Database) -> None:
    hr = person("HR-1", "acme", "hr_admin")
    async with database.transaction() as uow:
        wanted = UpdateTenantDefaults(hr, (("proposals", ("in_app",)),))
        await handlers.update_tenant_defaults(uow, wanted, NOW)
    async with database.transaction() as uow:
        assert await handlers.get_tenant_defaults(uow, GetTenantDefaults(hr)) == {
            Category.PROPOSALS: frozenset({Channel.IN_APP})
        }
        # E-2 overrides proposals to e-mail only; E-1 chose nothing and takes the tenant's default.
        own = UpdatePreferences(person("E-2"), "", True, True, categories=(("proposals", ("email",)),))
        await handlers.update_preferences(uow, own, NOW)
        proposed = NotifyMatchEvent(
            "ev-1", Template.MATCH_PROPOSED, "m-1", "prog-1", "E-1", ("E-2",), tenant="acme"
        )
        planned = await handlers.notify_match_event(uow, proposed, policy=POLICY, now=NOW)
    channels = {(item.recipient_id, item.channel) for item in planned.notifications}
    assert channels == {("E-1", Channel.IN_APP), ("E-2", Channel.EMAIL)}
    async with database.transaction() as uow:
        stored = await handlers.get_preferences(uow, GetPreferences(person("E-2")), policy=POLICY)
        assert stored.categories == {Category.PROPOSALS: frozenset({Channel.EMAIL})}
        # Another tenant's people are not touched by acme's defaults.
        enrolled = NotifyEnrolled("ev-2", "prog-9", "E-1", Audience.MENTEE, "globex")
        other = await handlers.notify_enrolled(uow, enrolled, policy=POLICY, now=NOW)
    assert {item.channel for item in other.notifications} == {Channel.IN_APP, Channel.EMAIL}


async def test_only_hr_reads_or_sets_the_defaults(database: Database) -> None:
    async with database.transaction() as uow:
        with pytest.raises(PermissionDenied):
            await handlers.update_tenant_defaults(uow, UpdateTenantDefaults(person("E-1")), NOW)
        with pytest.raises(PermissionDenied):
            await handlers.get_tenant_defaults(uow, GetTenantDefaults(person("E-1")))
    async with database.transaction() as uow:
        assert await store.get_tenant_defaults(uow, "acme") == {}
