"""gRPC NotificationService: request -> handler inside one transaction -> response. Domain errors reach
the shared interceptor, which maps them to statuses with details."""

from __future__ import annotations

from typing import Any

import grpc
from mentoring.v1 import common_pb2, notification_pb2, notification_pb2_grpc
from typing_extensions import override

from services.notification.service_layer import handlers
from services.notification.service_layer.handlers import Policy
from services.notification.service_layer.messages import delivery_status, inbox_item, preferences_message
from services.shared.db import Database

Context = grpc.aio.ServicerContext[Any, Any]


class NotificationServicer(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, database: Database, policy: Policy) -> None:
        self._database = database
        self._policy = policy

    @override
    async def ListInbox(
        self, request: notification_pb2.ListInboxRequest, context: Context
    ) -> notification_pb2.ListInboxResponse:
        async with self._database.transaction() as uow:
            page = await handlers.list_inbox(
                uow,
                request.recipient_id,
                request.unread_only,
                request.page.page_size,
                request.page.page_token,
            )
        return notification_pb2.ListInboxResponse(
            items=[inbox_item(item) for item in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    @override
    async def MarkRead(
        self, request: notification_pb2.MarkReadRequest, context: Context
    ) -> notification_pb2.InboxItem:
        async with self._database.transaction() as uow:
            item = await handlers.mark_read(uow, request.notification_id, request.recipient_id)
        return inbox_item(item)

    @override
    async def GetPreferences(
        self, request: notification_pb2.GetPreferencesRequest, context: Context
    ) -> notification_pb2.NotificationPreferences:
        async with self._database.transaction() as uow:
            preferences = await handlers.get_preferences(uow, request.recipient_id, self._policy)
        return preferences_message(preferences)

    @override
    async def UpdatePreferences(
        self, request: notification_pb2.NotificationPreferences, context: Context
    ) -> notification_pb2.NotificationPreferences:
        async with self._database.transaction() as uow:
            preferences = await handlers.update_preferences(
                uow,
                request.recipient_id,
                request.email,
                request.in_app,
                request.webhook_url,
                list(request.muted_templates),
            )
        return preferences_message(preferences)

    @override
    async def GetDeliveryStatus(
        self, request: notification_pb2.GetDeliveryStatusRequest, context: Context
    ) -> notification_pb2.DeliveryStatus:
        async with self._database.transaction() as uow:
            item = await handlers.delivery_status(uow, request.notification_id)
        return delivery_status(item)
