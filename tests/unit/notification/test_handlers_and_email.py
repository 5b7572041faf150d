"""Notification handlers and the e-mail dispatcher on a real SQLite file and a real mailbox directory;
the contact look-up goes over real gRPC to a small in-process enrollment directory, which records the
token and tenant each look-up carries. API commands carry their caller, the recipient themselves."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc
from sqlalchemy import select

from services.notification.adapters import store
from services.notification.adapters.contacts import GrpcContactDirectory, NoContactDirectory
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.model import Notification, Recipient, Trigger
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import (
    DispatchDueEmails,
    EraseRecipient,
    GetDeliveryStatus,
    GetPreferences,
    ListInbox,
    MarkRead,
    NotifySessionEvent,
    RememberProgram,
    UpdatePreferences,
)
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, InvalidArgument, NotFound
from services.shared.messagebus import MessageBus
from services.shared.outbox import outbox_table

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
IN_APP_ONLY = Policy(email_by_default=False)
WITH_EMAIL = Policy(email_by_default=True)
CONTACTS = {
    "E-1": ("Grace Hopper", "grace@example.com", common_pb2.EMPLOYEE_STATUS_ACTIVE),
    "E-3": ("Gone", "gone@example.com", common_pb2.EMPLOYEE_STATUS_TERMINATED),
}


SERVICE_TOKEN = "the-notification-service-token"


def person(employee_id: str, tenant: str = "acme") -> Principal:
    return Principal(f"sub-{employee_id}", tenant, employee_id, None, frozenset({"employee"}))


async def service_token() -> str:
    return SERVICE_TOKEN


class Directory(enrollment_pb2_grpc.EnrollmentServiceServicer):
    """Answers from CONTACTS; ``asked`` records (authorization, tenant, employee id) of each look-up."""

    asked: list[tuple[str, str, str]] = []

    async def GetEmployeeContact(  # noqa: N802 - the gRPC method name
        self, request: enrollment_pb2.GetEmployeeContactRequest, context: Any
    ) -> enrollment_pb2.EmployeeContact:
        metadata = dict(context.invocation_metadata())
        asked = (metadata.get("authorization", ""), metadata.get("tenant", ""), request.employee_id)
        self.asked.append(asked)
        if request.employee_id not in CONTACTS:
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown")
        name, address, status = CONTACTS[request.employee_id]
        return enrollment_pb2.EmployeeContact(
            employee_id=request.employee_id, display_name=name, email=address, status=status
        )


@pytest.fixture
async def directory_target() -> AsyncIterator[str]:
    server = grpc.aio.server()
    enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(Directory(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.remember_program(uow, RememberProgram("prog-1", "Engineering mentoring"))
        await handlers.remember_match(uow, "acme", "m-1", "prog-1", "E-1", ["E-2"])
    yield db
    await db.dispose()


async def staged(db: Database) -> list[tuple[str, str]]:
    async with db.transaction() as uow:
        rows = await uow.execute(
            select(outbox_table.c.ce_type, outbox_table.c.key).order_by(outbox_table.c.id)
        )
    return [(ce_type.rsplit(".", 2)[-2], key.decode()) for ce_type, key in rows]


async def notify_enrolled(
    db: Database, event_id: str, recipient: str, policy: Policy, now: datetime = NOW
) -> None:
    trigger = Trigger(event_id, Template.ENROLLED, (Recipient(recipient, Audience.MENTEE),), Facts(), "acme")
    async with db.transaction() as uow:
        await handlers.notify(uow, trigger, "prog-1", policy, now)


async def test_in_app_items_are_delivered_with_the_programme_name_and_staged(database: Database) -> None:
    await notify_enrolled(database, "ev-1", "E-2", IN_APP_ONLY)
    async with database.transaction() as uow:
        page = await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 0, ""))
    assert [item.template for item in page.items] == [Template.ENROLLED]
    assert "Engineering mentoring" in page.items[0].title
    assert await staged(database) == [("delivered", "E-2")]


async def test_inbox_pages_newest_first_and_filters_unread(database: Database) -> None:
    for minute in range(5):
        await notify_enrolled(database, f"ev-{minute}", "E-2", IN_APP_ONLY, NOW + timedelta(minutes=minute))
    seen: list[datetime] = []
    token = ""
    while True:
        async with database.transaction() as uow:
            page = await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 2, token))
        assert page.total_size == 5
        seen.extend(item.created_at for item in page.items)
        token = page.next_page_token
        if not token:
            break
    assert seen == [NOW + timedelta(minutes=minute) for minute in (4, 3, 2, 1, 0)]

    async with database.transaction() as uow:
        newest = (await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 1, ""))).items[0]
        assert (await handlers.mark_read(uow, MarkRead(person("E-2"), newest.notification_id, "E-2"))).read
        unread = await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", True, 0, ""))
    assert unread.total_size == 4
    assert newest.notification_id not in {item.notification_id for item in unread.items}


async def test_mark_read_checks_existence_and_recipient(database: Database) -> None:
    await notify_enrolled(database, "ev-1", "E-2", IN_APP_ONLY)
    async with database.transaction() as uow:
        item = (await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 0, ""))).items[0]
        with pytest.raises(FailedPrecondition) as raised:
            item.mark_read("E-1")
        assert raised.value.rule == "not_the_recipient"
        with pytest.raises(NotFound):  # the API finds only the caller's own items
            await handlers.mark_read(uow, MarkRead(person("E-1"), item.notification_id, "E-1"))
        with pytest.raises(NotFound):
            await handlers.mark_read(uow, MarkRead(person("E-2"), "nope", "E-2"))
        with pytest.raises(InvalidArgument):
            await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 0, "forged"))


async def test_preferences_default_then_persist_and_are_applied(database: Database) -> None:
    async with database.transaction() as uow:
        default = await handlers.get_preferences(uow, GetPreferences(person("E-2"), "E-2"), policy=WITH_EMAIL)
        assert (default.email, default.in_app, default.muted_templates) == (True, True, frozenset())
        wanted = UpdatePreferences(person("E-2"), "E-2", False, True, "", ("enrolled",))
        await handlers.update_preferences(uow, wanted)
        stored = await handlers.get_preferences(uow, GetPreferences(person("E-2"), "E-2"), policy=WITH_EMAIL)
    assert (stored.email, stored.muted_templates) == (False, frozenset({Template.ENROLLED}))
    await notify_enrolled(database, "ev-1", "E-2", WITH_EMAIL)
    async with database.transaction() as uow:
        assert (await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 0, ""))).total_size == 0
    assert await staged(database) == []


async def test_session_events_need_a_known_match(database: Database) -> None:
    async with database.transaction() as uow:
        planned = await handlers.notify_session_event(
            uow,
            NotifySessionEvent("ev-s", Template.SESSION_SCHEDULED, "m-1", Facts(starts_at=NOW), "acme"),
            policy=IN_APP_ONLY,
            now=NOW,
        )
        assert sorted(item.recipient_id for item in planned.notifications) == ["E-1", "E-2"]
        with pytest.raises(FailedPrecondition) as raised:
            await handlers.notify_session_event(
                uow,
                NotifySessionEvent("ev-t", Template.SESSION_SCHEDULED, "m-404", tenant="acme"),
                policy=IN_APP_ONLY,
            )
    assert raised.value.rule == "match_unknown"


async def test_erasure_forgets_the_recipient(database: Database) -> None:
    await notify_enrolled(database, "ev-1", "E-2", IN_APP_ONLY)
    async with database.transaction() as uow:
        assert await handlers.erase_recipient(uow, EraseRecipient("acme", "E-2")) == 1
        assert (await handlers.list_inbox(uow, ListInbox(person("E-2"), "E-2", False, 0, ""))).total_size == 0
        planned = await handlers.notify_session_event(
            uow,
            NotifySessionEvent("ev-s", Template.SESSION_SCHEDULED, "m-1", tenant="acme"),
            policy=IN_APP_ONLY,
            now=NOW,
        )
    assert [item.recipient_id for item in planned.notifications] == ["E-1"]


# ---- e-mail ----


class Dispatcher:
    """The e-mail dispatcher as the service runs it: DispatchDueEmails through the message bus."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    async def dispatch_due(self, now: datetime) -> int:
        return await self._bus.execute(DispatchDueEmails(now))


def dispatcher(db: Database, contacts: Any, mailbox: Path, max_attempts: int = 3) -> Dispatcher:
    email = EmailSending(
        contacts,
        MailboxDirectory(mailbox, "Mentoring <noreply@example.invalid>"),
        RetryPolicy(max_attempts=max_attempts, retry_base=timedelta(seconds=10)),
    )
    return Dispatcher(MessageBus(db, handlers.handler_map(WITH_EMAIL, email)))


async def email_of(db: Database, recipient: str) -> list[Notification]:
    async with db.transaction() as uow:
        items = [
            item
            for item in await store.due_emails(uow, NOW + timedelta(days=365), 100)
            if item.recipient_id == recipient
        ]
    return items


async def status_of(db: Database, delivery: Notification) -> tuple[str, int, str]:
    """The delivery's status as its recipient asks for it."""
    caller = person(delivery.recipient_id, delivery.tenant)
    async with db.transaction() as uow:
        item = await handlers.get_delivery_status(uow, GetDeliveryStatus(caller, delivery.notification_id))
    return item.state.value, item.attempts, item.last_error


async def test_without_a_directory_every_email_fails_as_lookup_unavailable(
    database: Database, tmp_path: Path
) -> None:
    await notify_enrolled(database, "ev-1", "E-1", WITH_EMAIL)
    [pending] = await email_of(database, "E-1")
    assert await dispatcher(database, NoContactDirectory(), tmp_path / "mail").dispatch_due(NOW) == 1
    assert await status_of(database, pending) == ("failed", 1, "contact_lookup_unavailable")
    assert await staged(database) == [("delivered", "E-1"), ("failed", "E-1")]
    assert not (tmp_path / "mail").exists()


async def test_email_goes_to_the_mailbox_with_the_directory_contact(
    database: Database, tmp_path: Path, directory_target: str
) -> None:
    for recipient in ("E-1", "E-3", "E-404"):
        await notify_enrolled(database, f"ev-{recipient}", recipient, WITH_EMAIL)
    emails = {recipient: (await email_of(database, recipient))[0] for recipient in ("E-1", "E-3", "E-404")}
    contacts = GrpcContactDirectory(directory_target, timeout_seconds=5, tokens=service_token)
    Directory.asked.clear()
    try:
        assert await dispatcher(database, contacts, tmp_path / "mail").dispatch_due(NOW) == 3
    finally:
        await contacts.close()
    assert sorted(Directory.asked) == [
        (f"Bearer {SERVICE_TOKEN}", "acme", recipient) for recipient in ("E-1", "E-3", "E-404")
    ], "each look-up carries the service's token and names the recipient's tenant"

    assert await status_of(database, emails["E-1"]) == ("delivered", 1, "")
    assert await status_of(database, emails["E-3"]) == ("failed", 1, "recipient_inactive")
    assert await status_of(database, emails["E-404"]) == ("failed", 1, "contact_not_found")
    [written] = list((tmp_path / "mail").glob("*.eml"))
    assert written.name == f"{emails['E-1'].notification_id}.eml"
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == "Grace Hopper <grace@example.com>"
    assert message["Subject"] == emails["E-1"].title
    assert emails["E-1"].body in message.get_body(("plain",)).get_content()
    assert sorted((await staged(database))[-3:]) == [
        ("delivered", "E-1"),
        ("failed", "E-3"),
        ("failed", "E-404"),
    ]


async def test_an_unreachable_directory_is_retried_with_back_off(database: Database, tmp_path: Path) -> None:
    await notify_enrolled(database, "ev-1", "E-1", WITH_EMAIL)
    [pending] = await email_of(database, "E-1")
    contacts = GrpcContactDirectory("127.0.0.1:1", timeout_seconds=0.5, tokens=service_token)
    sender = dispatcher(database, contacts, tmp_path / "mail", max_attempts=2)
    try:
        assert await sender.dispatch_due(NOW) == 1
        assert await status_of(database, pending) == (
            "pending",
            1,
            "contact_lookup_unavailable",
        )
        assert await sender.dispatch_due(NOW + timedelta(seconds=5)) == 0, "not due before the back-off"
        assert await sender.dispatch_due(NOW + timedelta(seconds=10)) == 1
    finally:
        await contacts.close()
    assert await status_of(database, pending) == ("failed", 2, "contact_lookup_unavailable")
    assert [item for item in await staged(database) if item[0] == "failed"] == [("failed", "E-1")]
