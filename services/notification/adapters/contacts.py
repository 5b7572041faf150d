"""The contact look-up the e-mail channel needs: the enrollment service's GetEmployeeContact over gRPC,
or nothing at all when the service runs without one. Contacts are used at send time and never stored."""

from __future__ import annotations

from typing import Protocol

import grpc
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc

from services.notification.domain.model import Contact

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
    async def contact_of(self, employee_id: str) -> Contact | None:
        """The contact of an employee, None if the directory does not know them."""
        ...

    async def close(self) -> None: ...


class NoContactDirectory:
    """No directory configured: every look-up is unavailable, and asking again will not help."""

    async def contact_of(self, employee_id: str) -> Contact | None:
        raise ContactLookupUnavailable("no contact directory is configured", retryable=False)

    async def close(self) -> None:
        return None


class GrpcContactDirectory:
    def __init__(self, target: str, timeout_seconds: float) -> None:
        self._target = target
        self._timeout = timeout_seconds
        self._channel: grpc.aio.Channel | None = None

    def _stub(self) -> enrollment_pb2_grpc.EnrollmentServiceAsyncStub:
        # Created on first use, inside the running event loop that grpc.aio binds it to.
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self._target)
        return enrollment_pb2_grpc.EnrollmentServiceStub(self._channel)

    async def contact_of(self, employee_id: str) -> Contact | None:
        try:
            reply = await self._stub().GetEmployeeContact(
                enrollment_pb2.GetEmployeeContactRequest(employee_id=employee_id), timeout=self._timeout
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
        )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(None)
            self._channel = None


def contact_directory(target: str, timeout_seconds: float) -> ContactDirectory:
    return GrpcContactDirectory(target, timeout_seconds) if target.strip() else NoContactDirectory()
