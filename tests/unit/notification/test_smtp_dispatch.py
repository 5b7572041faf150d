"""The e-mail dispatcher sending over SMTP (aiosmtplib) to a real SMTP server in this process (aiosmtpd),
on a real SQLite file: what the server received (envelope, bytes, headers, parts), how 4xx, 5xx,
refused connections and timeouts end, every attempt in the delivery status, STARTTLS with
authentication and implicit TLS; and the erasure of the mailbox sink's files and the history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.notification.adapters import store
from services.notification.adapters.email_message import EmailChannel, message_id
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.adapters.smtp import Security, SmtpChannel, SmtpServer
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.email import EmailContent, Links, compose_email
from services.notification.domain.model import Contact, Notification, Recipient, Trigger
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.domain.unsubscribe import Unsubscription, read_unsubscribe_token
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import DispatchDueEmails, EraseRecipient, GetDeliveryStatus
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.messagebus import MessageBus
from tests.unit.notification.mail_server import mail_server, self_signed

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SENDER = "Mentoring <noreply@mentoring.example.com>"
LINKS = Links("https://mentoring.example.com", b"unsubscribe-secret")
ADDRESSES = {"E-1": "grace@example.com", "E-2": "alan@example.com", "E-5": "nobody@example.com"}


class Contacts:
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        return Contact(employee_id, f"Person {employee_id}", ADDRESSES[employee_id])

    async def close(self) -> None:
        return None


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.remember_match(uow, "acme", "m-1", "prog-1", "E-1", ["E-2"])
    yield db
    await db.dispose()


def smtp(port: int, security: Security = "none", **extra: object) -> SmtpChannel:
    server = SmtpServer("localhost", port, security, timeout_seconds=2, **extra)  # type: ignore[arg-type]
    return SmtpChannel(server, SENDER, "mentoring.example.com")


def bus(db: Database, channel: EmailChannel, max_attempts: int = 3) -> MessageBus:
    retry = RetryPolicy(max_attempts=max_attempts, retry_base=timedelta(seconds=10), jitter=lambda: 0.0)
    email = EmailSending(Contacts(), channel, retry, links=LINKS)
    return MessageBus(db, handlers.handler_map(Policy(email_by_default=True), email))


async def enrolled(db: Database, recipient: str = "E-1", event_id: str = "ev-1") -> Notification:
    trigger = Trigger(event_id, Template.ENROLLED, (Recipient(recipient, Audience.MENTOR),), Facts(), "acme")
    async with db.transaction() as uow:
        planned = await handlers.notify(uow, trigger, "", Policy(email_by_default=True), NOW)
    return next(item for item in planned.notifications if item.channel.value == "email")


async def status(db: Database, item: Notification) -> Notification:
    caller = Principal(f"sub-{item.recipient_id}", "acme", item.recipient_id, None, frozenset({"employee"}))
    async with db.transaction() as uow:
        return await handlers.get_delivery_status(uow, GetDeliveryStatus(caller, item.notification_id))


def history(item: Notification) -> list[tuple[int, str, str, str]]:
    return [(a.attempt, a.outcome.value, a.reason, a.detail) for a in item.history]


async def test_an_email_reaches_the_smtp_server_multipart_with_its_headers(database: Database) -> None:
    pending = await enrolled(database)
    async with mail_server() as server:
        assert await bus(database, smtp(server.port)).execute(DispatchDueEmails(NOW)) == 1
    [received] = server.recorder.received
    assert (received.mail_from, received.rcpt_tos) == ("noreply@mentoring.example.com", [ADDRESSES["E-1"]])
    assert b"\r\n" in received.data and not received.data.replace(b"\r\n", b"").count(b"\n")
    message = received.message
    assert message["From"] == SENDER and message["To"] == "Person E-1 <grace@example.com>"
    assert message["Subject"] == pending.title
    assert message["Message-ID"] == f"<{pending.notification_id}@mentoring.example.com>"
    assert message["Message-ID"] == message_id(pending.notification_id, "mentoring.example.com")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://mentoring.example.com/notifications/unsubscribe?token=")
    token = unsubscribe.strip("<>").split("token=", 1)[1]
    assert read_unsubscribe_token(b"unsubscribe-secret", token) == Unsubscription(
        "acme", "E-1", Template.ENROLLED
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert text.startswith("Hello Person E-1,") and pending.body in text
    assert f"<p>{pending.body}</p>" in html and "https://mentoring.example.com/settings/notifications" in html
    done = await status(database, pending)
    assert (done.state.value, done.attempts) == ("delivered", 1)
    assert history(done) == [(1, "delivered", "", "250")]


async def test_the_same_notification_keeps_its_message_id_when_sent_again(database: Database) -> None:
    pending = await enrolled(database)
    async with mail_server() as server:
        channel = smtp(server.port)
        content = compose_email(pending, Contact("E-1", "P", ADDRESSES["E-1"]), LINKS)
        assert isinstance(content, EmailContent)
        await channel.send(content)
        await channel.send(content)
    ids = {received.message["Message-ID"] for received in server.recorder.received}
    assert len(server.recorder.received) == 2
    assert ids == {f"<{pending.notification_id}@mentoring.example.com>"}


@pytest.mark.parametrize(
    ("refusal", "reason", "detail"),
    [
        ({"rcpt": "550 5.1.1 No such user"}, "invalid_email_address", "550"),
        ({"data": "554 5.7.1 Rejected as spam"}, "smtp_rejected", "554"),
    ],
)
async def test_a_permanent_refusal_is_not_retried(
    database: Database, refusal: dict[str, str], reason: str, detail: str
) -> None:
    pending = await enrolled(database)
    async with mail_server() as server:
        if "rcpt" in refusal:
            server.recorder.refuse_rcpt[ADDRESSES["E-1"]] = refusal["rcpt"]
        else:
            server.recorder.data_replies.append(refusal["data"])
        sender = bus(database, smtp(server.port))
        assert await sender.execute(DispatchDueEmails(NOW)) == 1
        assert await sender.execute(DispatchDueEmails(NOW + timedelta(days=1))) == 0
    assert server.recorder.received == []
    failed = await status(database, pending)
    assert (failed.state.value, failed.attempts, failed.last_error) == ("failed", 1, reason)
    assert history(failed) == [(1, "failed", reason, detail)]


async def test_a_temporary_refusal_is_retried_after_the_back_off(database: Database) -> None:
    pending = await enrolled(database)
    async with mail_server() as server:
        server.recorder.data_replies.append("451 4.7.1 Greylisted, try again later")
        sender = bus(database, smtp(server.port))
        assert await sender.execute(DispatchDueEmails(NOW)) == 1
        retrying = await status(database, pending)
        assert retrying.next_attempt_at == NOW + timedelta(seconds=10)
        assert await sender.execute(DispatchDueEmails(NOW + timedelta(seconds=9))) == 0
        assert await sender.execute(DispatchDueEmails(NOW + timedelta(seconds=10))) == 1
    assert len(server.recorder.received) == 1
    done = await status(database, pending)
    assert history(done) == [(1, "retry", "smtp_deferred", "451"), (2, "delivered", "", "250")]
    assert done.history[0].next_attempt_at == NOW + timedelta(seconds=10)


async def test_refused_connections_and_timeouts_are_retried_then_fail_with_the_reason(
    database: Database,
) -> None:
    refused = await enrolled(database, "E-1", "ev-1")
    silent = await enrolled(database, "E-2", "ev-2")

    async def never_greets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    mute = await asyncio.start_server(never_greets, "127.0.0.1", 0)
    mute_port = mute.sockets[0].getsockname()[1]
    closed = await asyncio.start_server(never_greets, "127.0.0.1", 0)
    closed_port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()

    def plain(port: int) -> SmtpChannel:
        return SmtpChannel(SmtpServer("127.0.0.1", port, "none", timeout_seconds=0.5), SENDER)

    class ByRecipient:
        """E-1's mail goes to a closed port, E-2's to a server that never answers."""

        def __init__(self) -> None:
            self._refused, self._mute = plain(closed_port), plain(mute_port)

        async def send(self, content: EmailContent) -> str:
            channel = self._refused if content.to_address == ADDRESSES["E-1"] else self._mute
            return await channel.send(content)

        def forget(self, notification_ids: list[str]) -> None:
            return None

    sender = bus(database, ByRecipient(), max_attempts=2)
    try:
        assert await sender.execute(DispatchDueEmails(NOW)) == 2
        assert await sender.execute(DispatchDueEmails(NOW + timedelta(seconds=10))) == 2
    finally:
        mute.close()
    for item in (refused, silent):
        failed = await status(database, item)
        assert (failed.state.value, failed.attempts, failed.last_error) == ("failed", 2, "smtp_unreachable")
        assert [(a.attempt, a.outcome.value, a.reason) for a in failed.history] == [
            (1, "retry", "smtp_unreachable"),
            (2, "failed", "smtp_unreachable"),
        ]
    refusal = (await status(database, refused)).history[0].detail
    assert refusal in {"SMTPConnectError", "ConnectionRefusedError"}
    assert "Timeout" in (await status(database, silent)).history[0].detail


async def test_starttls_with_authentication(database: Database, tmp_path: Path) -> None:
    context, certificate = self_signed(tmp_path)
    await enrolled(database)
    async with mail_server(starttls=context, auth=True) as server:
        good = smtp(server.port, "starttls", username="mentoring", password="s3cret", ca_file=certificate)
        assert await bus(database, good).execute(DispatchDueEmails(NOW)) == 1
    assert server.recorder.logins == [(b"mentoring", b"s3cret")]
    assert len(server.recorder.received) == 1


async def test_wrong_credentials_are_retried_as_the_deployment_s_fault(
    database: Database, tmp_path: Path
) -> None:
    context, certificate = self_signed(tmp_path)
    pending = await enrolled(database)
    async with mail_server(starttls=context, auth=True) as server:
        wrong = smtp(server.port, "starttls", username="mentoring", password="typo", ca_file=certificate)
        assert await bus(database, wrong).execute(DispatchDueEmails(NOW)) == 1
    assert server.recorder.received == []
    assert history(await status(database, pending)) == [(1, "retry", "channel_unavailable", "auth_535")]


async def test_implicit_tls(database: Database, tmp_path: Path) -> None:
    context, certificate = self_signed(tmp_path)
    await enrolled(database)
    async with mail_server(implicit_tls=context) as server:
        assert (
            await bus(database, smtp(server.port, "tls", ca_file=certificate)).execute(DispatchDueEmails(NOW))
            == 1
        )
        untrusted = await enrolled(database, "E-2", "ev-2")
        assert await bus(database, smtp(server.port, "tls")).execute(DispatchDueEmails(NOW)) == 1
    assert len(server.recorder.received) == 1, "a certificate nobody vouches for is not trusted"
    assert history(await status(database, untrusted))[0][1:3] == ("retry", "smtp_unreachable")


async def test_erasure_deletes_the_mail_files_queued_deliveries_and_history(
    database: Database, tmp_path: Path
) -> None:
    mailbox = MailboxDirectory(tmp_path / "mail", SENDER)
    sent = await enrolled(database, "E-1", "ev-1")
    other = await enrolled(database, "E-2", "ev-2")
    sender = bus(database, mailbox)
    assert await sender.execute(DispatchDueEmails(NOW)) == 2
    await enrolled(database, "E-1", "ev-3")  # queued, not yet sent
    assert mailbox.path_of(sent.notification_id).exists()
    assert await sender.execute(EraseRecipient("acme", "E-1")) == 4  # two in-app items, two e-mails
    assert not mailbox.path_of(sent.notification_id).exists()
    assert mailbox.path_of(other.notification_id).exists(), "another person's mail stays"
    assert await sender.execute(DispatchDueEmails(NOW + timedelta(days=1))) == 0, "nothing queued remains"
    async with database.transaction() as uow:
        left = (await uow.execute(select(store.delivery_attempts.c.recipient_id).distinct())).all()
    assert [tuple(row) for row in left] == [("E-2",)]
