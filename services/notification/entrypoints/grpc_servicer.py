"""gRPC NotificationService: each request becomes a command for the message bus, and its result goes
back as the response. Domain errors reach the shared interceptor, which maps them to statuses with
details.

Access: ``@guarded(ACCESS)`` admits the caller's roles per RPC (``access.py``); every command carries
the caller (``current_principal()``), whom the handler serves only their own inbox and preferences."""

from __future__ import annotations

from typing import Any

import grpc
from mentoring.v1 import notification_pb2, notification_pb2_grpc
from typing_extensions import override

from services.notification.adapters import translate
from services.notification.entrypoints.access import ACCESS
from services.notification.entrypoints.grpc_limits import LIMITS
from services.notification.service_layer.commands import (
    GetDeliveryStatus,
    GetPreferences,
    GetTenantDefaults,
    ListInbox,
    MarkRead,
    UpdatePreferences,
    UpdateTenantDefaults,
)
from services.shared.auth import current_principal
from services.shared.field_limits import bounded
from services.shared.messagebus import MessageBus
from services.shared.rpc_access import guarded

Context = grpc.aio.ServicerContext[Any, Any]


@guarded(ACCESS)
@bounded(LIMITS)
class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    @override
    async def ListInbox(
        self, request: notification_pb2.ListInboxRequest, context: Context
    ) -> notification_pb2.ListInboxResponse:
        query = ListInbox(
            current_principal(),
            request.recipient_id,
            request.unread_only,
            request.page.page_size,
            request.page.page_token,
        )
        return translate.inbox_page(await self._bus.execute(query))

    @override
    async def MarkRead(
        self, request: notification_pb2.MarkReadRequest, context: Context
    ) -> notification_pb2.InboxItem:
        command = MarkRead(current_principal(), request.notification_id, request.recipient_id)
        return translate.inbox_item(await self._bus.execute(command))

    @override
    async def GetPreferences(
        self, request: notification_pb2.GetPreferencesRequest, context: Context
    ) -> notification_pb2.NotificationPreferences:
        query = GetPreferences(current_principal(), request.recipient_id)
        return translate.preferences_message(await self._bus.execute(query))

    @override
    async def UpdatePreferences(
        self, request: notification_pb2.NotificationPreferences, context: Context
    ) -> notification_pb2.NotificationPreferences:
        command = UpdatePreferences(
            current_principal(),
            request.recipient_id,
            request.email,
            request.in_app,
            request.webhook_url,
            tuple(request.muted_templates),
            request.language,
            request.webhook_format,
            request.rotate_webhook_secret,
            (request.quiet_hours_start, request.quiet_hours_end),
            translate.category_entries(request.categories),
        )
        return translate.preferences_message(await self._bus.execute(command))

    @override
    async def GetDeliveryStatus(
        self, request: notification_pb2.GetDeliveryStatusRequest, context: Context
    ) -> notification_pb2.DeliveryStatus:
        query = GetDeliveryStatus(current_principal(), request.notification_id)
        return translate.delivery_status(await self._bus.execute(query))

    @override
    async def GetTenantDefaults(
        self, request: notification_pb2.GetTenantDefaultsRequest, context: Context
    ) -> notification_pb2.TenantDefaults:
        query = GetTenantDefaults(current_principal())
        return translate.tenant_defaults_message(await self._bus.execute(query))

    @override
    async def UpdateTenantDefaults(
        self, request: notification_pb2.TenantDefaults, context: Context
    ) -> notification_pb2.TenantDefaults:
        command = UpdateTenantDefaults(current_principal(), translate.category_entries(request.categories))
        return translate.tenant_defaults_message(await self._bus.execute(command))
