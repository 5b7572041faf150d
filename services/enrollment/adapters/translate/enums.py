"""Enums and days, domain <-> wire: a domain member ``X`` is the wire's ``PREFIX_X``; zero
(unspecified) is refused or stands for a default."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2

from services.enrollment.domain import (
    EmployeeStatus,
    EnrollmentStatus,
    PauseReason,
    ProgramFormat,
    ProgramStatus,
    Role,
    WithdrawalCause,
)
from services.shared.errors import InvalidArgument
from services.shared.timestamps import timestamp

E = TypeVar("E", bound=enum.Enum)


def enum_from_wire(
    wrapper: Any, prefix: str, domain: type[E], number: int, field: str, default: E | None
) -> E:
    if number == 0:
        if default is None:
            raise InvalidArgument(field, "is required")
        return default
    try:
        name: str = wrapper.Name(number)
    except ValueError:
        raise InvalidArgument(field, f"unknown value {number}") from None
    return domain(name.removeprefix(prefix))


def enum_to_wire(wrapper: Any, prefix: str, member: enum.Enum) -> Any:
    return wrapper.Value(prefix + member.value)


def program_format(
    number: int, field: str = "program.format", optional: bool = False
) -> ProgramFormat | None:
    if optional and number == 0:
        return None
    return enum_from_wire(common_pb2.ProgramFormat, "PROGRAM_FORMAT_", ProgramFormat, number, field, None)


def program_status(number: int, field: str = "status") -> ProgramStatus | None:
    """A status filter: unspecified means any."""
    if number == 0:
        return None
    return enum_from_wire(common_pb2.ProgramStatus, "PROGRAM_STATUS_", ProgramStatus, number, field, None)


def role(number: int, field: str = "role", optional: bool = False) -> Role | None:
    if optional and number == 0:
        return None
    return enum_from_wire(common_pb2.Role, "ROLE_", Role, number, field, None)


def enrollment_status(number: int, field: str = "status") -> EnrollmentStatus | None:
    if number == 0:
        return None
    return enum_from_wire(
        common_pb2.EnrollmentStatus, "ENROLLMENT_STATUS_", EnrollmentStatus, number, field, None
    )


def role_to_wire(member: Role) -> common_pb2.Role.ValueType:
    result: common_pb2.Role.ValueType = enum_to_wire(common_pb2.Role, "ROLE_", member)
    return result


def employee_status_to_wire(status: EmployeeStatus) -> common_pb2.EmployeeStatus.ValueType:
    result: common_pb2.EmployeeStatus.ValueType = enum_to_wire(
        common_pb2.EmployeeStatus, "EMPLOYEE_STATUS_", status
    )
    return result


def withdrawal_cause_to_wire(cause: WithdrawalCause) -> common_pb2.WithdrawalCause.ValueType:
    result: common_pb2.WithdrawalCause.ValueType = enum_to_wire(
        common_pb2.WithdrawalCause, "WITHDRAWAL_CAUSE_", cause
    )
    return result


def pause_cause_to_wire(cause: PauseReason) -> common_pb2.PauseCause.ValueType:
    result: common_pb2.PauseCause.ValueType = enum_to_wire(common_pb2.PauseCause, "PAUSE_CAUSE_", cause)
    return result


def day_timestamp(day: date) -> Timestamp:
    return timestamp(datetime.combine(day, time(0), tzinfo=UTC))
