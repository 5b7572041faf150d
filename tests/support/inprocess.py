"""The four services' gRPC servicers in this process: each on its own migrated SQLite file, behind a
real ``services.shared.grpc_server.GrpcServer`` (the interceptor, deserializers and status mapping the
services run with) on a loopback port. No consumers and no outbox relay: tests of the gRPC edge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import grpc
from mentoring.v1 import (
    enrollment_pb2_grpc,
    matching_pb2_grpc,
    notification_pb2_grpc,
    session_pb2_grpc,
)

from services.enrollment import bootstrap as enrollment_bootstrap
from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.enrollment.service_layer.handlers import handler_map as enrollment_handlers
from services.matching import bootstrap as matching_bootstrap
from services.matching.config import MatchingSettings
from services.matching.entrypoints.grpc_servicer import MatchingServicer
from services.matching.service_layer.handlers import handlers as matching_handlers
from services.matching.service_layer.policy import Policy as MatchingPolicy
from services.notification import bootstrap as notification_bootstrap
from services.notification.adapters.contacts import contact_directory
from services.notification.adapters.mailbox import MailboxDirectory
from services.notification.config import NotificationSettings
from services.notification.entrypoints.grpc_servicer import NotificationServicer
from services.notification.service_layer.email_dispatch import EmailSending, RetryPolicy
from services.notification.service_layer.handlers import Policy as NotificationPolicy
from services.notification.service_layer.handlers import handler_map as notification_handlers
from services.session import bootstrap as session_bootstrap
from services.session.entrypoints.grpc_servicer import SessionServicer
from services.session.service_layer.handlers import handler_map as session_handlers
from services.shared.admission import Admission
from services.shared.auth_tokens import TokenVerifier
from services.shared.db import Database
from services.shared.grpc_server import GrpcServer
from services.shared.messagebus import MessageBus

MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Running:
    targets: dict[str, str]  # full service name -> host:port


@asynccontextmanager
async def _serve(
    data_dir: Path,
    name: str,
    migrations: Path,
    register: Callable[[grpc.aio.Server, Database], None],
    verifier: TokenVerifier,
) -> AsyncIterator[tuple[str, GrpcServer]]:
    database = Database(f"sqlite+aiosqlite:///{data_dir / f'{name}.db'}")
    await database.migrate(migrations)
    server = GrpcServer(
        "127.0.0.1",
        0,
        [lambda grpc_server: register(grpc_server, database)],
        [f"mentoring.v1.{name.capitalize()}Service"],
        MAX_MESSAGE_BYTES,
        1.0,
        verifier,
    )
    await server.start()
    try:
        yield f"127.0.0.1:{server.port}", server
    finally:
        await server.stop()
        await database.dispose()


@asynccontextmanager
async def four_services(data_dir: Path, verifier: TokenVerifier) -> AsyncIterator[Running]:
    """Enrollment, matching, session and notification serving gRPC from this process, trusting the
    tokens ``verifier`` accepts (tests/support/identity.py)."""

    def enrollment(server: grpc.aio.Server, database: Database) -> None:
        servicer = EnrollmentServicer(MessageBus(database, enrollment_handlers()))
        enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, server)

    def matching(server: grpc.aio.Server, database: Database) -> None:
        policy = MatchingPolicy.from_settings(MatchingSettings(data_dir=data_dir))
        solves = Admission("matching", "matching_run", limit=2, queue=4)
        servicer = MatchingServicer(MessageBus(database, matching_handlers(policy)), solves)
        matching_pb2_grpc.add_MatchingServiceServicer_to_server(servicer, server)

    def session(server: grpc.aio.Server, database: Database) -> None:
        servicer = SessionServicer(MessageBus(database, session_handlers()))
        session_pb2_grpc.add_SessionServiceServicer_to_server(servicer, server)

    async with _serve(data_dir, "enrollment", enrollment_bootstrap.MIGRATIONS, enrollment, verifier) as (
        enrollment_target,
        _,
    ):
        settings = NotificationSettings(data_dir=data_dir, enrollment_grpc_target=enrollment_target)
        contacts = contact_directory(settings)
        email = EmailSending(
            contacts,
            MailboxDirectory(settings.effective_mailbox_dir, settings.email_from),
            RetryPolicy(
                max_attempts=settings.email_max_attempts,
                retry_base=timedelta(seconds=settings.email_retry_base_seconds),
                batch_size=settings.email_batch_size,
            ),
        )

        def notification(server: grpc.aio.Server, database: Database) -> None:
            bus = MessageBus(database, notification_handlers(NotificationPolicy(), email))
            notification_pb2_grpc.add_NotificationServiceServicer_to_server(NotificationServicer(bus), server)

        async with (
            _serve(data_dir, "matching", matching_bootstrap.MIGRATIONS, matching, verifier) as (
                matching_target,
                _,
            ),
            _serve(data_dir, "session", session_bootstrap.MIGRATIONS, session, verifier) as (
                session_target,
                _,
            ),
            _serve(data_dir, "notification", notification_bootstrap.MIGRATIONS, notification, verifier) as (
                notification_target,
                _,
            ),
        ):
            try:
                yield Running(
                    {
                        "mentoring.v1.EnrollmentService": enrollment_target,
                        "mentoring.v1.MatchingService": matching_target,
                        "mentoring.v1.SessionService": session_target,
                        "mentoring.v1.NotificationService": notification_target,
                    }
                )
            finally:
                await contacts.close()
