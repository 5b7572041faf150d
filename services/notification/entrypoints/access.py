"""Who may call each RPC of the NotificationService (checked before a request becomes a command); the
handlers then check the objects (``service_layer/handlers.py``, ``_own``).

Every RPC but the tenant defaults is about a person's own inbox and preferences: any person may call,
for themselves only; the tenant's channels per category are HR's, in their own tenant. A
request naming another recipient is PERMISSION_DENIED (NOT_YOURS) whoever calls, HR included; a
delivery of another person or another tenant is NOT_FOUND, like a missing one. No service account may
call: the service reads events, not requests, to write to inboxes.
"""

from __future__ import annotations

from mentoring.v1 import notification_pb2

from services.shared.access import HR_ROLES
from services.shared.rpc_access import EVERY_PERSON, AccessTable, RpcAccess

_OWN = "the caller's own inbox in their tenant (recipient_id empty or theirs; anyone else's: NOT_YOURS)"

ACCESS = AccessTable(
    notification_pb2.DESCRIPTOR.services_by_name["NotificationService"],
    {
        "ListInbox": RpcAccess(people=EVERY_PERSON, objects=_OWN),
        "MarkRead": RpcAccess(
            people=EVERY_PERSON,
            objects=f"{_OWN}; an item of another person or tenant is NOT_FOUND",
        ),
        "GetPreferences": RpcAccess(
            people=EVERY_PERSON,
            objects="the caller's own preferences in their tenant (recipient_id empty or theirs)",
        ),
        "UpdatePreferences": RpcAccess(
            people=EVERY_PERSON,
            objects="the caller's own preferences in their tenant (recipient_id empty or theirs)",
        ),
        "GetDeliveryStatus": RpcAccess(
            people=EVERY_PERSON,
            objects="a delivery to the caller; another person's or tenant's is NOT_FOUND",
        ),
        "GetTenantDefaults": RpcAccess(people=HR_ROLES, objects="the caller's tenant's defaults"),
        "UpdateTenantDefaults": RpcAccess(
            people=HR_ROLES, objects="the caller's tenant's defaults", audited=True
        ),
    },
)
