"""The limits of the NotificationService's requests: each string field's limit and each method's
required ids (see ``services.shared.field_limits``); the servicer checks them before anything else."""

from __future__ import annotations

from mentoring.v1 import notification_pb2

from services.shared.field_limits import ID, LONG_TEXT, NAME, RequestLimits

# Every string of every request, with its limit (services.shared.field_limits). Required ids: empty is
# INVALID_ARGUMENT before anything is looked up. A recipient_id is optional: empty means the caller.
LIMITS = RequestLimits(
    notification_pb2.DESCRIPTOR.services_by_name["NotificationService"],
    {
        "mentoring.v1.ListInboxRequest.recipient_id": ID,
        "mentoring.v1.MarkReadRequest.notification_id": ID,
        "mentoring.v1.MarkReadRequest.recipient_id": ID,
        "mentoring.v1.GetPreferencesRequest.recipient_id": ID,
        "mentoring.v1.NotificationPreferences.recipient_id": ID,
        "mentoring.v1.NotificationPreferences.webhook_url": LONG_TEXT,
        "mentoring.v1.NotificationPreferences.muted_templates": NAME,
        "mentoring.v1.NotificationPreferences.language": ID,
        "mentoring.v1.NotificationPreferences.webhook_format": ID,
        "mentoring.v1.NotificationPreferences.webhook_secret": ID,
        "mentoring.v1.NotificationPreferences.webhook_previous_secret": ID,
        "mentoring.v1.NotificationPreferences.quiet_hours_start": ID,
        "mentoring.v1.NotificationPreferences.quiet_hours_end": ID,
        "mentoring.v1.GetDeliveryStatusRequest.notification_id": ID,
        "mentoring.v1.CategoryChannels.category": ID,
        "mentoring.v1.CategoryChannels.channels": ID,
    },
    required={
        "MarkRead": ("notification_id",),
        "GetDeliveryStatus": ("notification_id",),
    },
)
