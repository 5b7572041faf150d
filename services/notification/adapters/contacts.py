"""The contact look-up the e-mail channel needs: the enrollment service's GetEmployeeContact over gRPC,
or nothing at all when the service runs without one. Contacts are used at send time and never stored.

Each call carries the notification service's own access token (the client-credentials grant of its
client, ``MENTORING_NOTIFICATION_AUTH_CLIENT_ID`` / ``_SECRET``, whose service account has the
``contact_lookup`` role) and names the tenant of the recipient in the ``tenant`` call metadata: a
service has no tenant of its own, and employee ids are unique within a tenant only.
"""

from __future__ import annotations

from typing import Final, Protocol

import grpc
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc

from services.notification.config import NotificationSettings
from services.notification.domain.model import Contact
from services.shared.auth import IssuerUnavailable
from services.shared.auth_client import BearerTokenInterceptor, ClientCredentials, TokenSource

TENANT_METADATA: Final = "tenant"

_INACTIVE = (common_pb2.EMPLOYEE_STATUS_TERMINATED, common_pb2.EMPLOYEE_STATUS_ERASED)
# Statuses worth another try later: the directory may be restarting or overloaded.
_RETRYABLE = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
)


class ContactLookupUnavailable(Exception):
    """The directory could not be asked; ``retryable`` when asking again later may succeed."""

    def __init__(self, detail: str, retryable: bool) -> None:
        super().__init__(detail)
        self.retryable = retryable


class ContactDirectory(Protocol):
    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        """The contact of an employee of ``tenant``, None if the directory does not know them."""
        ...

    async def close(self) -> None: ...


class NoContactDirectory:
    """No directory configured: every look-up is unavailable, and asking again will not help."""

    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        raise ContactLookupUnavailable("no contact directory is configured", retryable=False)

    async def close(self) -> None:
        return None


class GrpcContactDirectory:
    """``tokens``: the service's own access tokens (:class:`ClientCredentials`), sent with every call."""

    def __init__(self, target: str, timeout_seconds: float, tokens: ClientCredentials | TokenSource) -> None:
        self._target = target
        self._timeout = timeout_seconds
        self._tokens = tokens
        self._token = tokens.token if isinstance(tokens, ClientCredentials) else tokens
        self._channel: grpc.aio.Channel | None = None

    def _stub(self) -> enrollment_pb2_grpc.EnrollmentServiceAsyncStub:
        # Created on first use, inside the running event loop that grpc.aio binds it to.
        if self._channel is None:
            bearer = BearerTokenInterceptor(self._tokens)
            # The stubs type aio channel interceptors as a placeholder that no interceptor class matches.
            self._channel = grpc.aio.insecure_channel(self._target, interceptors=[bearer])  # type: ignore[list-item]
        return enrollment_pb2_grpc.EnrollmentServiceStub(self._channel)

    async def contact_of(self, tenant: str, employee_id: str) -> Contact | None:
        if not tenant.strip():
            # Which of the namesakes of all tenants would it be? Asking again will not tell.
            raise ContactLookupUnavailable("the delivery names no tenant", retryable=False)
        try:
            # Had (and cached) before the call, so the interceptor sends it without asking the issuer.
            await self._token()
        except IssuerUnavailable as error:
            raise ContactLookupUnavailable("no access token", retryable=True) from error
        try:
            reply = await self._stub().GetEmployeeContact(
                enrollment_pb2.GetEmployeeContactRequest(employee_id=employee_id),
                metadata=((TENANT_METADATA, tenant.strip()),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise ContactLookupUnavailable(error.code().name, retryable=error.code() in _RETRYABLE) from error
        return Contact(
            employee_id=reply.employee_id or employee_id,
            display_name=reply.display_name,
            email=reply.email,
            active=reply.status not in _INACTIVE,
            timezone=reply.timezone,
        )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(None)
            self._channel = None


def contact_directory(settings: NotificationSettings) -> ContactDirectory:
    """The directory the settings name: enrollment's over gRPC, called with the service's own client
    credentials; none without a target."""
    target = settings.enrollment_grpc_target.strip()
    if not target:
        return NoContactDirectory()
    tokens = ClientCredentials(
        settings.auth_issuer,
        settings.auth_client_id,
        settings.auth_client_secret.get_secret_value(),
        timeout_seconds=settings.auth_http_timeout_seconds,
    )
    return GrpcContactDirectory(target, settings.contact_lookup_timeout_seconds, tokens)
