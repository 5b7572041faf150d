"""Wires the notification service on the shared runtime: its message bus, consumers, gRPC servicer and
the e-mail dispatcher's background job."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

import grpc
from mentoring.v1 import notification_pb2_grpc

from services.notification.adapters.contacts import contact_directory
from services.notification.adapters.email_message import EmailChannel
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.adapters.smtp import SmtpChannel, SmtpServer
from services.notification.adapters.webhook import HttpWebhooks
from services.notification.config import NotificationSettings
from services.notification.domain.email import Links
from services.notification.entrypoints import unsubscribe_http
from services.notification.entrypoints.consumers import translators
from services.notification.entrypoints.grpc_servicer import NotificationServicer
from services.notification.service_layer.commands import (
    DispatchDueEmails,
    DispatchDueWebhooks,
    FireDueReminders,
)
from services.notification.service_layer.delivery import RetryPolicy
from services.notification.service_layer.email_dispatch import EmailSending
from services.notification.service_layer.handlers import Policy, handler_map
from services.notification.service_layer.webhook_dispatch import Circuits, WebhookSending
from services.shared.messagebus import MessageBus
from services.shared.runtime import ServiceRuntime, run

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def email_channel(settings: NotificationSettings) -> EmailChannel:
    """SMTP when a host is set; the local mailbox sink otherwise (the embedded `make run`)."""
    if not settings.smtp_host.strip():
        directory = settings.effective_mailbox_dir
        return MailboxDirectory(directory, settings.email_from, settings.message_id_domain)
    server = SmtpServer(
        host=settings.smtp_host.strip(),
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        timeout_seconds=settings.smtp_timeout_seconds,
        ca_file=settings.smtp_ca_file,
        validate_certs=settings.smtp_validate_certs,
    )
    return SmtpChannel(server, settings.email_from, settings.message_id_domain)


def links(settings: NotificationSettings) -> Links:
    return Links(settings.public_base_url, settings.unsubscribe_secret.get_secret_value().encode())


def build(settings: NotificationSettings | None = None) -> ServiceRuntime:
    settings = settings or NotificationSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    contacts = contact_directory(settings)
    email = EmailSending(
        contacts,
        email_channel(settings),
        RetryPolicy(
            max_attempts=settings.email_max_attempts,
            retry_base=timedelta(seconds=settings.email_retry_base_seconds),
            batch_size=settings.email_batch_size,
            concurrency=settings.email_concurrency,
        ),
        runtime.relay.wake,
        links(settings),
        settings.email_from,
    )
    http = HttpWebhooks(settings.webhook_timeout_seconds, settings.webhook_ca_file)
    webhooks = WebhookSending(
        http,
        RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            retry_base=timedelta(seconds=settings.webhook_retry_base_seconds),
            batch_size=settings.email_batch_size,
            concurrency=settings.webhook_concurrency,
        ),
        Circuits(
            settings.webhook_circuit_threshold, timedelta(seconds=settings.webhook_circuit_cooldown_seconds)
        ),
        links(settings),
        runtime.relay.wake,
    )
    policy = Policy(
        email_by_default=settings.email_by_default, reminder_leads_hours=settings.reminder_leads_hours
    )
    bus = MessageBus(runtime.database, handler_map(policy, email, webhooks), runtime.relay.wake)
    servicer = NotificationServicer(bus)

    def register(server: grpc.aio.Server) -> None:
        notification_pb2_grpc.add_NotificationServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.NotificationService")
    for topic, translators_of_topic in translators().items():
        runtime.consume(topic, bus.event_handlers(translators_of_topic))

    async def dispatch_due_emails() -> None:
        # A full batch suggests more are due: the next one goes at once rather than after the poll.
        while await bus.execute(DispatchDueEmails()) >= settings.email_batch_size:
            pass

    runtime.jobs.every("email_dispatch", settings.email_poll_seconds, dispatch_due_emails)

    async def dispatch_due_webhooks() -> None:
        while await bus.execute(DispatchDueWebhooks()) >= settings.email_batch_size:
            pass

    # A job of its own: a dead endpoint never holds e-mail back.
    runtime.jobs.every("webhook_dispatch", settings.email_poll_seconds, dispatch_due_webhooks)
    runtime.on_stop(http.close)

    async def fire_due_reminders() -> None:
        while await bus.execute(FireDueReminders()) >= FireDueReminders().limit:
            pass

    runtime.jobs.every("session_reminders", settings.email_poll_seconds, fire_due_reminders)

    if settings.unsubscribe_port:
        host, port = settings.unsubscribe_host, settings.unsubscribe_port
        runtime.jobs.forever("unsubscribe_http", partial(unsubscribe_http.serve, bus, host, port))

    runtime.on_stop(contacts.close)
    return runtime


def main() -> None:
    run(build())
