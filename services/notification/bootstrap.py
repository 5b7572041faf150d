"""Wires the notification service: its store, consumers, e-mail dispatcher and gRPC servicer on the
shared runtime."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import grpc
from mentoring.v1 import notification_pb2_grpc

from services.notification.adapters.contacts import contact_directory
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.config import NotificationSettings
from services.notification.entrypoints.consumers import handlers_by_topic
from services.notification.entrypoints.email_worker import run_email_worker
from services.notification.entrypoints.grpc_servicer import NotificationServicer
from services.notification.service_layer.email_dispatch import EmailDispatcher, RetryPolicy
from services.notification.service_layer.handlers import Policy
from services.shared.runtime import ServiceRuntime, run

MIGRATIONS = Path(__file__).resolve().parent / "adapters" / "migrations"


def build(settings: NotificationSettings | None = None) -> ServiceRuntime:
    settings = settings or NotificationSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    policy = Policy(email_by_default=settings.email_by_default)
    servicer = NotificationServicer(runtime.database, policy)

    def register(server: grpc.aio.Server) -> None:
        notification_pb2_grpc.add_NotificationServiceServicer_to_server(servicer, server)

    runtime.add_grpc_service(register, "mentoring.v1.NotificationService")
    for topic, handlers in handlers_by_topic(policy).items():
        runtime.consume(topic, handlers)

    contacts = contact_directory(settings.enrollment_grpc_target, settings.contact_lookup_timeout_seconds)
    dispatcher = EmailDispatcher(
        runtime.database,
        contacts,
        MailboxDirectory(settings.effective_mailbox_dir, settings.email_from),
        RetryPolicy(
            max_attempts=settings.email_max_attempts,
            retry_base=timedelta(seconds=settings.email_retry_base_seconds),
            batch_size=settings.email_batch_size,
        ),
        runtime.relay.wake,
    )

    async def email_worker() -> None:
        await run_email_worker(dispatcher, contacts, settings.email_poll_seconds, settings.email_batch_size)

    # A Faust app task starts with the worker and is cancelled when it stops.
    runtime.faust_app.task(email_worker)
    return runtime


def main() -> None:
    run(build())
