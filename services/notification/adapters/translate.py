"""Protobuf <-> notification domain values, both ways: roles and instants of the events consumed, the
API's responses, and the outcome events the service publishes."""

from __future__ import annotations

from collections.abc import Iterable

from mentoring.v1 import common_pb2, events_pb2, notification_pb2

from services.notification.domain.categories import CategoryChannels
from services.notification.domain.model import DeliveryState, InboxPage, Notification, Preferences
from services.notification.domain.quiet_hours import quiet_hours_text
from services.notification.domain.templates import Audience, ProgramFormat
from services.shared.timestamps import timestamp

_AUDIENCE = {common_pb2.ROLE_MENTOR: Audience.MENTOR, common_pb2.ROLE_MENTEE: Audience.MENTEE}

_FORMAT = {
    common_pb2.PROGRAM_FORMAT_ONE_ON_ONE: ProgramFormat.ONE_ON_ONE,
    common_pb2.PROGRAM_FORMAT_GROUP: ProgramFormat.GROUP,
    common_pb2.PROGRAM_FORMAT_PEER: ProgramFormat.PEER,
    common_pb2.PROGRAM_FORMAT_REVERSE: ProgramFormat.REVERSE,
    common_pb2.PROGRAM_FORMAT_SPEED: ProgramFormat.SPEED,
}

OutcomeMessage = events_pb2.NotificationDelivered | events_pb2.NotificationFailed


def audience_of(role: common_pb2.Role.ValueType) -> Audience | None:
    """The audience of a role; None for an unspecified one (nobody in particular acted)."""
    return _AUDIENCE.get(role)


def program_format_of(value: common_pb2.ProgramFormat.ValueType) -> ProgramFormat | None:
    return _FORMAT.get(value)


# ---- the API ----


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


def inbox_page(page: InboxPage) -> notification_pb2.ListInboxResponse:
    return notification_pb2.ListInboxResponse(
        items=[inbox_item(item) for item in page.items],
        page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
    )


def preferences_message(preferences: Preferences) -> notification_pb2.NotificationPreferences:
    return notification_pb2.NotificationPreferences(
        recipient_id=preferences.recipient_id,
        email=preferences.email,
        in_app=preferences.in_app,
        webhook_url=preferences.webhook_url,
        muted_templates=sorted(template.value for template in preferences.muted_templates),
        language=preferences.language,
        webhook_format=preferences.webhook_format.value,
        webhook_secret=preferences.webhook_secret,
        webhook_previous_secret=preferences.webhook_previous_secret,
        quiet_hours_start=quiet_hours_text(preferences.quiet_hours)[0],
        quiet_hours_end=quiet_hours_text(preferences.quiet_hours)[1],
        categories=category_messages(preferences.categories),
    )


def category_messages(choices: CategoryChannels) -> list[notification_pb2.CategoryChannels]:
    return [
        notification_pb2.CategoryChannels(
            category=category.value, channels=sorted(channel.value for channel in choices[category])
        )
        for category in sorted(choices)
    ]


def category_entries(
    messages: Iterable[notification_pb2.CategoryChannels],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((message.category, tuple(message.channels)) for message in messages)


def tenant_defaults_message(choices: CategoryChannels) -> notification_pb2.TenantDefaults:
    return notification_pb2.TenantDefaults(categories=category_messages(choices))


def delivery_status(item: Notification) -> notification_pb2.DeliveryStatus:
    return notification_pb2.DeliveryStatus(
        notification_id=item.notification_id,
        channel=item.channel.value,
        status=item.state.value,
        attempts=item.attempts,
        last_error=item.last_error,
        history=[
            notification_pb2.DeliveryAttempt(
                attempt=attempt.attempt,
                at=timestamp(attempt.at),
                outcome=attempt.outcome.value,
                reason=attempt.reason,
                detail=attempt.detail,
                next_attempt_at=timestamp(attempt.next_attempt_at) if attempt.next_attempt_at else None,
            )
            for attempt in item.history
        ],
    )


# ---- events published ----


def outcome_message(item: Notification) -> OutcomeMessage | None:
    """The event of a delivery that reached its end; None while it is pending."""
    if item.state is DeliveryState.DELIVERED:
        return events_pb2.NotificationDelivered(
            notification_id=item.notification_id,
            recipient_id=item.recipient_id,
            channel=item.channel.value,
            template=item.template.value,
        )
    if item.state is DeliveryState.FAILED:
        return events_pb2.NotificationFailed(
            notification_id=item.notification_id,
            recipient_id=item.recipient_id,
            channel=item.channel.value,
            reason=item.last_error,
        )
    return None
