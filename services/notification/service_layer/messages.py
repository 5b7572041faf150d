"""Domain values as protobuf messages: the events the service publishes and the responses of its API."""

from __future__ import annotations

from typing import Final

from mentoring.v1 import events_pb2, notification_pb2

from services.notification.domain.model import DeliveryState, Notification, Preferences
from services.shared.envelope import CloudEvent, new_event
from services.shared.timestamps import timestamp

SOURCE: Final = "/mentoring/notification"
DELIVERED: Final = "mentoring.notification.notification.delivered.v1"
FAILED: Final = "mentoring.notification.notification.failed.v1"


def inbox_item(item: Notification) -> notification_pb2.InboxItem:
    return notification_pb2.InboxItem(
        notification_id=item.notification_id,
        recipient_id=item.recipient_id,
        template=item.template.value,
        title=item.title,
        body=item.body,
        read=item.read,
        created_at=timestamp(item.created_at),
    )


def preferences_message(preferences: Preferences) -> notification_pb2.NotificationPreferences:
    return notification_pb2.NotificationPreferences(
        recipient_id=preferences.recipient_id,
        email=preferences.email,
        in_app=preferences.in_app,
        webhook_url=preferences.webhook_url,
        muted_templates=sorted(template.value for template in preferences.muted_templates),
    )


def delivery_status(item: Notification) -> notification_pb2.DeliveryStatus:
    return notification_pb2.DeliveryStatus(
        notification_id=item.notification_id,
        channel=item.channel.value,
        status=item.state.value,
        attempts=item.attempts,
        last_error=item.last_error,
    )


def outcome_event(item: Notification) -> tuple[CloudEvent, str] | None:
    """The event of a delivery that reached its end (keyed by recipient); None while it is pending."""
    if item.state is DeliveryState.DELIVERED:
        data: events_pb2.NotificationDelivered | events_pb2.NotificationFailed = (
            events_pb2.NotificationDelivered(
                notification_id=item.notification_id,
                recipient_id=item.recipient_id,
                channel=item.channel.value,
                template=item.template.value,
            )
        )
        ce_type = DELIVERED
    elif item.state is DeliveryState.FAILED:
        data = events_pb2.NotificationFailed(
            notification_id=item.notification_id,
            recipient_id=item.recipient_id,
            channel=item.channel.value,
            reason=item.last_error,
        )
        ce_type = FAILED
    else:
        return None
    event = new_event(ce_type, SOURCE, data, subject=item.notification_id, tenant=item.tenant)
    return event, item.recipient_id
