"""The notification service as a real process on the real broker with its chat/webhook channel: the
mentor's endpoint (a real HTTPS server in the test process) receives Standard Webhooks posts that an
independent verifier (the ``standardwebhooks`` library) accepts with the secret the mentor was given;
the mentee's endpoint is dead, its circuit opens, and every e-mail still reaches the SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiohttp import web
from mentoring.v1 import notification_pb2 as pb
from mentoring.v1 import notification_pb2_grpc
from standardwebhooks.webhooks import Webhook

from tests.integration.test_notification_smtp import (
    MENTEE,
    MENTOR,
    as_person,
    directory_target,
    proposal,
    record,
    smtp_env,
)
from tests.support.identity import KeycloakTokens
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess, metric_value
from tests.support.waiting import wait_for
from tests.unit.notification.mail_server import mail_server, self_signed

pytestmark = pytest.mark.integration
__all__ = ["directory_target"]  # the fixture, shared


class Endpoint:
    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), await request.read()))
        return web.Response(status=204)


@pytest.fixture
async def endpoint(tmp_path: Path) -> AsyncIterator[tuple[str, Endpoint, Path]]:
    context, certificate = self_signed(tmp_path)
    receiver = Endpoint()
    app = web.Application()
    app.router.add_post("/hooks/mentoring", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"https://localhost:{port}/hooks/mentoring", receiver, certificate
    await runner.cleanup()


async def test_signed_webhooks_arrive_and_a_dead_endpoint_opens_its_circuit_while_email_flows(
    kafka_bootstrap: str,
    namespace: str,
    data_dir: Path,
    directory_target: str,
    tokens: KeycloakTokens,
    endpoint: tuple[str, Endpoint, Path],
) -> None:
    url, receiver, certificate = endpoint
    mentor, mentee = await as_person(tokens, MENTOR), await as_person(tokens, MENTEE)
    proposals = [proposal(f"m-{index}") for index in range(4)]
    async with mail_server() as server:
        env = {
            **smtp_env(directory_target, server.port),
            "MENTORING_NOTIFICATION_WEBHOOK_CA_FILE": str(certificate),
            "MENTORING_NOTIFICATION_WEBHOOK_CIRCUIT_THRESHOLD": "2",
            "MENTORING_NOTIFICATION_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
            "MENTORING_NOTIFICATION_WEBHOOK_TIMEOUT_SECONDS": "1",
        }
        with ServiceProcess("notification", data_dir, namespace, kafka_bootstrap, env) as service:
            async with grpc.aio.insecure_channel(service.grpc_target) as channel:
                stub = notification_pb2_grpc.NotificationServiceStub(channel)
                mine = await stub.UpdatePreferences(
                    pb.NotificationPreferences(email=True, in_app=True, webhook_url=url), metadata=mentor
                )
                await stub.UpdatePreferences(
                    pb.NotificationPreferences(
                        email=True,
                        in_app=True,
                        webhook_url="https://localhost:1/dead",
                        webhook_format="slack",
                    ),
                    metadata=mentee,
                )
            assert mine.webhook_secret.startswith("whsec_") and mine.webhook_format == "standard"
            await produce_raw(
                kafka_bootstrap,
                namespace + "matching.events.v1",
                [record(event, f"m-{index}") for index, event in enumerate(proposals)],
            )
            await wait_for(lambda: len(receiver.calls) == 4, what="the mentor's four webhooks")
            await wait_for(lambda: len(server.recorder.received) == 8, what="every e-mail")

            def opened() -> bool:
                name = "mentoring_notification_webhook_circuits_opened_total"
                return metric_value(service.metrics_port, name) >= 1

            await wait_for(opened, what="the dead endpoint's circuit open")
            assert service.stop() == 0, service.log_tail()
    verifier = Webhook(mine.webhook_secret)
    delivered: list[Any] = [verifier.verify(body, headers) for headers, body in receiver.calls]
    assert {document["type"] for document in delivered} == {"notification.match_proposed"}
    assert len({headers["webhook-id"] for headers, _ in receiver.calls}) == 4
    assert (
        sorted(item.rcpt_tos[0] for item in server.recorder.received)
        == ["alan@example.com"] * 4 + ["grace@example.com"] * 4
    )
