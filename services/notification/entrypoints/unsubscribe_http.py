"""One-click unsubscribe over HTTP (RFC 8058): ``POST /notifications/unsubscribe?token=...`` with the
form body ``List-Unsubscribe=One-Click``, as a mail client sends it from the ``List-Unsubscribe-Post``
header, mutes the e-mail's template for its recipient at once. The signed token is the authority (a mail
client has no bearer token); a bad or forged one is 400. A deployment routes
``<public_base_url>/notifications/unsubscribe`` here (``MENTORING_NOTIFICATION_UNSUBSCRIBE_PORT``)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from services.notification.service_layer.commands import Unsubscribe
from services.shared.errors import InvalidArgument
from services.shared.logging import get_logger
from services.shared.messagebus import MessageBus

log = get_logger(__name__)

PATH = "/notifications/unsubscribe"


def application(bus: MessageBus) -> web.Application:
    async def one_click(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("List-Unsubscribe") != "One-Click":
            return web.Response(status=400, text="expected List-Unsubscribe=One-Click\\n")
        try:
            await bus.execute(Unsubscribe(request.query.get("token", "")))
        except InvalidArgument:
            return web.Response(status=400, text="not an unsubscribe link of this service\\n")
        return web.Response(status=200, text="unsubscribed\\n")

    app = web.Application(client_max_size=4096)
    app.router.add_post(PATH, one_click)
    return app


async def serve(bus: MessageBus, host: str, port: int) -> None:
    """Serve until cancelled (a job of the service)."""
    runner = web.AppRunner(application(bus), access_log=None)  # the query holds a token: no access log
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("unsubscribe_endpoint_started", port=port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
