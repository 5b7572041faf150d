"""Fan-out of one programme's proposals to e-mail and webhook, next to the bare client libraries.

    python -m benchmarks.notification_fanout [--proposals 10000] [--batch 500]

In this process: a local SMTP server (aiosmtpd) and a local HTTP endpoint (aiohttp) that time-stamp what
they receive; the notification service's handlers, e-mail and webhook dispatchers on a SQLite file, as
the service runs them (the dispatch jobs polling every 50 ms while the proposals arrive in consumer-sized
batches, one transaction each). Each proposal notifies its mentor and its mentee: two e-mails and two
webhook posts (standard, signed). Contacts come from an in-memory directory (the gRPC look-up is not
measured) and the webhook endpoint is plain HTTP on loopback (no TLS on either side).

Prints, per channel, deliveries per second and the p50/p99 from the committed event to the server's
receipt; then a baseline that sends the same number of messages with aiosmtplib and aiohttp in a loop
(same concurrency) with no database: the floor of this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.notification.adapters import store
from services.notification.adapters.smtp import SmtpChannel, SmtpServer
from services.notification.adapters.webhook import HttpWebhooks
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.email import Links
from services.notification.domain.model import Contact, Preferences, Recipient, Trigger
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import DispatchDueEmails, DispatchDueWebhooks
from services.notification.service_layer.delivery import RetryPolicy
from services.notification.service_layer.email_dispatch import EmailSending
from services.notification.service_layer.webhook_dispatch import Circuits, WebhookSending, new_webhook_secret
from services.shared.db import Database
from services.shared.messagebus import MessageBus

CONCURRENCY = 16


class Receipts:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content or b"")
        self.at[str(message.get("X-Notification-Id", f"bare-{len(self.at)}"))] = time.perf_counter()
        return "250 OK"

    async def webhook(self, request: web.Request) -> web.Response:
        await request.read()
        self.at[request.headers.get("webhook-id", f"bare-{len(self.at)}")] = time.perf_counter()
        return web.Response(status=204)


class Directory:
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        return Contact(employee_id, f"Person {employee_id}", f"{employee_id.lower()}@example.com")

    async def close(self) -> None:
        return None


def summary(label: str, count: int, seconds: float, latencies: list[float]) -> str:
    ordered = sorted(latencies) or [0.0]
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{label:<28} {count:>7} in {seconds:7.2f} s = {count / seconds:8.0f}/s"
        f"   p50 {p50 * 1000:8.1f} ms   p99 {p99 * 1000:8.1f} ms"
    )


async def fanout(proposals: int, batch: int, smtp_port: int, hook_url: str, receipts: Receipts) -> None:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{Path(directory) / 'notification.db'}")
        await database.migrate(MIGRATIONS)
        retry = RetryPolicy(batch_size=500, concurrency=CONCURRENCY)
        links = Links("https://mentoring.example.com", b"k")
        channel = SmtpChannel(SmtpServer("127.0.0.1", smtp_port, "none"), "M <m@example.com>")
        email = EmailSending(Directory(), channel, retry, links=links)
        http = HttpWebhooks(5.0)
        webhooks = WebhookSending(http, retry, Circuits(), links)
        bus = MessageBus(
            database, handlers.handler_map(handlers.Policy(email_by_default=True), email, webhooks)
        )
        now = datetime.now(UTC)
        async with database.transaction() as uow:
            for index in range(proposals):
                for person in (f"M-{index}", f"E-{index}"):
                    wanted = Preferences(person, True, True, hook_url, webhook_secret=new_webhook_secret())
                    await store.save_preferences(uow, "acme", wanted, now)
        committed: dict[str, tuple[float, str]] = {}  # notification id: (commit time, channel)
        done = asyncio.Event()

        async def produce() -> None:
            for start in range(0, proposals, batch):
                async with database.transaction() as uow:
                    planned = []
                    for index in range(start, min(start + batch, proposals)):
                        people = (
                            Recipient(f"M-{index}", Audience.MENTOR),
                            Recipient(f"E-{index}", Audience.MENTEE),
                        )
                        trigger = Trigger(
                            f"ev-{index}",
                            Template.MATCH_PROPOSED,
                            people,
                            Facts(match_id=f"m-{index}"),
                            "acme",
                            people,
                        )
                        plan = await handlers.notify(uow, trigger, "", handlers.Policy(True))
                        planned.extend(plan.notifications)
                stamp = time.perf_counter()
                committed.update(
                    {
                        item.notification_id: (stamp, item.channel.value)
                        for item in planned
                        if item.channel.value != "in_app"
                    }
                )
                await asyncio.sleep(0)
            done.set()
            print(f"events committed in {time.perf_counter() - began:.2f} s")

        async def dispatch(command: type[DispatchDueEmails] | type[DispatchDueWebhooks]) -> None:
            while True:
                finished = done.is_set()  # before the batch: what committed by then is in it
                if await bus.execute(command()) == 0:
                    if finished:
                        return
                    await asyncio.sleep(0.05)

        began = time.perf_counter()
        await asyncio.gather(produce(), dispatch(DispatchDueEmails), dispatch(DispatchDueWebhooks))
        await http.close()
        await database.dispose()
        for label, wanted in (("service e-mail", "email"), ("service webhook", "webhook")):
            ids = [nid for nid, (_, channel) in committed.items() if channel == wanted and nid in receipts.at]
            latencies = [receipts.at[nid] - committed[nid][0] for nid in ids]
            last = max((receipts.at[nid] for nid in ids), default=began)
            print(summary(label, len(ids), last - began, latencies))


async def baseline(count: int, smtp_port: int, hook_url: str) -> None:
    slots = asyncio.Semaphore(CONCURRENCY)
    body = b'{"type":"notification.match_proposed","data":{}}'
    latencies: list[float] = []

    async def mail(index: int) -> None:
        async with slots:
            sent = time.perf_counter()
            await aiosmtplib.send(
                f"From: m@example.com\r\nTo: p{index}@example.com\r\nSubject: x\r\n\r\nHello\r\n",
                sender="m@example.com",
                recipients=[f"p{index}@example.com"],
                hostname="127.0.0.1",
                port=smtp_port,
            )
            latencies.append(time.perf_counter() - sent)

    began = time.perf_counter()
    await asyncio.gather(*(mail(index) for index in range(count)))
    print(summary("bare aiosmtplib loop", count, time.perf_counter() - began, latencies))
    latencies.clear()
    async with aiohttp.ClientSession() as client:

        async def post(index: int) -> None:
            async with slots:
                sent = time.perf_counter()
                async with client.post(hook_url, data=body, headers={"webhook-id": f"b-{index}"}) as reply:
                    await reply.read()
                latencies.append(time.perf_counter() - sent)

        began = time.perf_counter()
        await asyncio.gather(*(post(index) for index in range(count)))
        print(summary("bare aiohttp loop", count, time.perf_counter() - began, latencies))


async def main(arguments: Any) -> None:
    receipts = Receipts()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(receipts, hostname="localhost"), "127.0.0.1", 0)
    smtp_port = smtp.sockets[0].getsockname()[1]
    app = web.Application()
    app.router.add_post("/hook", receipts.webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
    each = 2 * arguments.proposals
    print(f"{arguments.proposals} proposals: {each} e-mails and {each} webhook posts")
    await fanout(arguments.proposals, arguments.batch, smtp_port, hook_url, receipts)
    await baseline(2 * arguments.proposals, smtp_port, hook_url)
    await runner.cleanup()
    smtp.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    asyncio.run(main(parser.parse_args()))
