"""Who may read and change an inbox and its preferences: the access table (who may call each RPC) and
the handlers' checks on the caller, on a real SQLite file with the same employee id in two tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from services.notification.adapters import store
from services.notification.adapters.contacts import NoContactDirectory
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.model import Channel, Recipient, Trigger, notification_id
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.entrypoints.access import ACCESS
from services.notification.entrypoints.grpc_servicer import NotificationServicer
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import (
    EraseRecipient,
    GetDeliveryStatus,
    GetPreferences,
    ListInbox,
    MarkRead,
    NotifyMatchEvent,
    NotifySessionEvent,
    UpdatePreferences,
)
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.access import DenialReason, PermissionDenied
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import InvalidArgument, NotFound, NotYetKnown
from services.shared.messagebus import Command, MessageBus

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(email_by_default=True)
RPCS = [method.name for method in ACCESS.service.methods]
HR_ONLY = {"GetTenantDefaults", "UpdateTenantDefaults"}
R = TypeVar("R")


def person(employee_id: str, tenant: str = "acme", *roles: str) -> Principal:
    return Principal(
        f"sub-{tenant}-{employee_id}", tenant, employee_id, None, frozenset({"employee", *roles})
    )


NOTIFIER = Principal("sub-svc", None, None, "notification", frozenset({"contact_lookup"}))


# ---- the access table ----


@pytest.mark.parametrize("rpc", [rpc for rpc in RPCS if rpc not in HR_ONLY])
def test_every_person_may_call_and_no_service(rpc: str) -> None:
    ACCESS.check(rpc, person("E-2"))
    ACCESS.check(rpc, person("HR-1", "acme", "hr_admin"))
    with pytest.raises(PermissionDenied) as service:
        ACCESS.check(rpc, NOTIFIER)
    assert service.value.reason is DenialReason.SERVICE_NOT_ALLOWED
    nobody = Principal("sub-x", "acme", "E-9", None, frozenset())
    with pytest.raises(PermissionDenied) as roleless:
        ACCESS.check(rpc, nobody)
    assert roleless.value.reason is DenialReason.ROLE_NOT_ALLOWED


@pytest.mark.parametrize("rpc", sorted(HR_ONLY))
def test_the_tenant_defaults_are_for_hr_only(rpc: str) -> None:
    ACCESS.check(rpc, person("HR-1", "acme", "hr_admin"))
    with pytest.raises(PermissionDenied) as employee:
        ACCESS.check(rpc, person("E-2"))
    assert employee.value.reason is DenialReason.ROLE_NOT_ALLOWED
    with pytest.raises(PermissionDenied):
        ACCESS.check(rpc, NOTIFIER)


def test_the_servicer_is_guarded_by_the_table() -> None:
    assert NotificationServicer.access_table is ACCESS  # type: ignore[attr-defined]
    audited = {rpc for rpc, rule in ACCESS.rows() if rule.audited}
    assert audited == {"UpdateTenantDefaults"}, "only the HR action on a tenant's defaults is audited"


# ---- the handlers' checks ----


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """E-2 of acme and E-2 of globex (namesakes), each with one enrolment notification (in-app and
    e-mail), and acme's E-1 with one of their own."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    for tenant, employee in (("acme", "E-2"), ("globex", "E-2"), ("acme", "E-1")):
        trigger = Trigger(
            f"ev-{tenant}-{employee}",
            Template.ENROLLED,
            (Recipient(employee, Audience.MENTEE),),
            Facts(),
            tenant,
        )
        async with db.transaction() as uow:
            await handlers.notify(uow, trigger, "", POLICY, NOW)
    yield db
    await db.dispose()


def item_id(tenant: str, employee: str, channel: Channel = Channel.IN_APP) -> str:
    return notification_id(f"ev-{tenant}-{employee}", employee, Template.ENROLLED, channel)


async def run(db: Database, command: Command[R]) -> R:
    """The command as an RPC runs it: through the message bus, in a unit of work of its own."""
    email = EmailSending(
        NoContactDirectory(), MailboxDirectory(Path("/nonexistent"), "M <m@x.invalid>"), RetryPolicy()
    )
    return await MessageBus(db, handlers.handler_map(POLICY, email)).execute(command)


def naming_e1(caller: Principal) -> list[Command[Any]]:
    """One request per RPC that names E-1 as the recipient (GetDeliveryStatus names no recipient)."""
    return [
        ListInbox(caller, "E-1"),
        MarkRead(caller, item_id("acme", "E-1"), "E-1"),
        GetPreferences(caller, "E-1"),
        UpdatePreferences(caller, "E-1", False, True),
    ]


@pytest.mark.parametrize("caller", [person("E-2"), person("HR-1", "acme", "hr_admin")], ids=["peer", "hr"])
async def test_naming_another_recipient_is_not_yours(database: Database, caller: Principal) -> None:
    for command in naming_e1(caller):
        with pytest.raises(PermissionDenied) as raised:
            await run(database, command)
        assert raised.value.reason is DenialReason.NOT_YOURS, type(command).__name__
        assert "E-1" not in str(raised.value), "no personal data in a refusal"
    e1 = await run(database, GetPreferences(person("E-1"), "E-1"))
    assert e1.email is True, "the refused update changed nothing"


async def test_a_service_is_refused_in_the_handlers_too(database: Database) -> None:
    for command in [*naming_e1(NOTIFIER), GetDeliveryStatus(NOTIFIER, item_id("acme", "E-1"))]:
        with pytest.raises(PermissionDenied) as raised:
            await run(database, command)
        assert raised.value.reason is DenialReason.PEOPLE_ONLY, type(command).__name__


async def test_an_empty_recipient_is_the_caller(database: Database) -> None:
    inbox = await run(database, ListInbox(person("E-1")))
    assert [item.notification_id for item in inbox.items] == [item_id("acme", "E-1")]
    read = await run(database, MarkRead(person("E-1"), item_id("acme", "E-1")))
    assert read.read
    updated = await run(database, UpdatePreferences(person("E-1"), "", False, True))
    assert updated.recipient_id == "E-1"
    assert (await run(database, GetPreferences(person("E-1")))).email is False


async def test_another_persons_delivery_is_not_found_like_a_missing_one(database: Database) -> None:
    e2 = person("E-2")
    for wanted in (item_id("acme", "E-1"), item_id("acme", "E-1", Channel.EMAIL)):
        with pytest.raises(NotFound) as theirs:
            await run(database, GetDeliveryStatus(e2, wanted))
        missing_id = "f" * len(wanted)
        with pytest.raises(NotFound) as missing:
            await run(database, GetDeliveryStatus(e2, missing_id))
        assert str(theirs.value) == str(missing.value).replace(missing_id, wanted), "same shape"
    with pytest.raises(NotFound):
        await run(database, MarkRead(e2, item_id("acme", "E-1")))
    own = await run(database, GetDeliveryStatus(person("E-1"), item_id("acme", "E-1", Channel.EMAIL)))
    assert own.state.value == "pending"


async def test_namesakes_of_two_tenants_see_only_their_own(database: Database) -> None:
    acme, globex = person("E-2", "acme"), person("E-2", "globex")
    for caller, tenant in ((acme, "acme"), (globex, "globex")):
        inbox = await run(database, ListInbox(caller, "E-2"))
        assert [item.notification_id for item in inbox.items] == [item_id(tenant, "E-2")]
    for other in (item_id("acme", "E-2"), item_id("acme", "E-2", Channel.EMAIL)):
        with pytest.raises(NotFound):
            await run(database, GetDeliveryStatus(globex, other))
    with pytest.raises(NotFound):
        await run(database, MarkRead(globex, item_id("acme", "E-2"), "E-2"))
    assert (await run(database, ListInbox(acme, "E-2", unread_only=True))).total_size == 1

    await run(database, UpdatePreferences(acme, "E-2", False, True, "", ("match_proposed",)))
    assert (await run(database, GetPreferences(globex))).email is True
    async with database.transaction() as uow:
        assert set(await store.get_preferences(uow, "acme", ["E-2"])) == {"E-2"}
        assert await store.get_preferences(uow, "globex", ["E-2"]) == {}


async def test_an_event_applies_the_preferences_of_its_own_tenant(database: Database) -> None:
    await run(database, UpdatePreferences(person("E-2", "acme"), "", False, False))  # acme's E-2: nothing
    for tenant in ("acme", "globex"):
        trigger = Trigger(
            f"ev2-{tenant}", Template.ENROLLED, (Recipient("E-2", Audience.MENTEE),), Facts(), tenant
        )
        async with database.transaction() as uow:
            planned = await handlers.notify(uow, trigger, "", POLICY, NOW)
        expected = 0 if tenant == "acme" else 2
        assert len(planned.notifications) == expected, tenant


async def test_erasure_forgets_one_tenants_employee_only(database: Database) -> None:
    await run(database, UpdatePreferences(person("E-2", "globex"), "", False, True))
    assert await run(database, EraseRecipient("acme", "E-2")) == 2
    assert (await run(database, ListInbox(person("E-2", "acme")))).total_size == 0
    assert (await run(database, ListInbox(person("E-2", "globex")))).total_size == 1
    assert (await run(database, GetPreferences(person("E-2", "globex")))).email is False


async def test_a_session_event_of_another_tenant_does_not_reach_a_match(database: Database) -> None:
    match = NotifyMatchEvent("ev-m", Template.MATCH_ACTIVATED, "m-1", "", "E-1", ("E-2",), tenant="acme")
    await run(database, match)
    with pytest.raises(NotYetKnown):
        await run(database, NotifySessionEvent("ev-s1", Template.SESSION_SCHEDULED, "m-1", tenant="globex"))
    # Another tenant's event naming the same match id does not rewrite who takes part in acme's.
    intruder = NotifyMatchEvent("ev-g", Template.MATCH_ACTIVATED, "m-1", "", "G-1", ("G-2",), tenant="globex")
    await run(database, intruder)
    planned = await run(
        database, NotifySessionEvent("ev-s2", Template.SESSION_SCHEDULED, "m-1", tenant="acme")
    )
    assert {(item.tenant, item.recipient_id) for item in planned.notifications} == {
        ("acme", "E-1"),
        ("acme", "E-2"),
    }


async def test_an_event_without_a_tenant_is_refused(database: Database) -> None:
    for command in (
        NotifyMatchEvent("ev-x", Template.MATCH_PROPOSED, "m-2", "", "E-1", ("E-2",)),
        NotifySessionEvent("ev-y", Template.SESSION_SCHEDULED, "m-1"),
        EraseRecipient("", "E-2"),
    ):
        with pytest.raises(InvalidArgument) as raised:
            await run(database, command)
        assert raised.value.field == "tenant", type(command).__name__
