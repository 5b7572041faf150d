"""The EnrollmentService's access table: who may call each RPC at all, which RPCs are audited, and the
servicer refusing a caller before its request becomes a command."""

from __future__ import annotations

from typing import Any

import pytest
from mentoring.v1 import enrollment_pb2

from services.enrollment.entrypoints.access import ACCESS
from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.shared.access import DenialReason, PermissionDenied
from services.shared.auth import Principal, acting_as

EMPLOYEE = Principal("e", "acme", "E1", None, frozenset({"employee"}))
MANAGER = Principal("m", "acme", "PM1", None, frozenset({"employee", "program_manager"}))
HR = Principal("h", "acme", "HR", None, frozenset({"employee", "hr_admin"}))
NOTIFICATION = Principal("n", None, None, "notification", frozenset({"contact_lookup"}))
OTHER_SERVICE = Principal("s", None, None, "matching", frozenset())

# Who the table lets knock, per RPC (the handlers then check the objects).
EXPECTED = {
    "CreateProgram": {"hr"},
    "UpdateProgram": {"manager", "hr"},
    "GetProgram": {"employee", "manager", "hr"},
    "ListPrograms": {"employee", "manager", "hr"},
    "CloseProgram": {"hr"},
    "Enroll": {"employee", "manager", "hr"},
    "UpdateEnrollment": {"employee", "manager", "hr"},
    "WithdrawEnrollment": {"employee", "manager", "hr"},
    "GetEnrollment": {"employee", "manager", "hr"},
    "ListParticipants": {"manager", "hr"},
    "GetEmployeeContact": {"notification"},
}
CALLERS = {
    "employee": EMPLOYEE,
    "manager": MANAGER,
    "hr": HR,
    "notification": NOTIFICATION,
    "other service": OTHER_SERVICE,
}


def test_the_table_admits_exactly_the_expected_callers() -> None:
    admitted = {
        method: {name for name, caller in CALLERS.items() if rule.admits(caller)}
        for method, rule in ACCESS.rows()
    }
    assert admitted == EXPECTED


def test_hr_actions_and_contact_reads_are_audited() -> None:
    audited = {method for method, rule in ACCESS.rows() if rule.audited}
    assert audited == {"CreateProgram", "UpdateProgram", "CloseProgram", "GetEmployeeContact"}


class RecordingBus:
    def __init__(self) -> None:
        self.commands: list[Any] = []

    async def execute(self, command: Any) -> Any:
        self.commands.append(command)
        raise AssertionError("a refused caller's request reached the bus")


@pytest.mark.parametrize(
    ("caller", "method", "message", "reason"),
    [
        (
            HR,
            "GetEmployeeContact",
            enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"),
            "ROLE_NOT_ALLOWED",
        ),
        (EMPLOYEE, "CreateProgram", enrollment_pb2.CreateProgramRequest(), "ROLE_NOT_ALLOWED"),
        (MANAGER, "CloseProgram", enrollment_pb2.CloseProgramRequest(program_id="p"), "ROLE_NOT_ALLOWED"),
        (
            EMPLOYEE,
            "ListParticipants",
            enrollment_pb2.ListParticipantsRequest(program_id="p"),
            "ROLE_NOT_ALLOWED",
        ),
        (
            NOTIFICATION,
            "GetEnrollment",
            enrollment_pb2.GetEnrollmentRequest(enrollment_id="x"),
            "SERVICE_NOT_ALLOWED",
        ),
        (
            OTHER_SERVICE,
            "GetEmployeeContact",
            enrollment_pb2.GetEmployeeContactRequest(employee_id="E1"),
            "SERVICE_NOT_ALLOWED",
        ),
    ],
)
async def test_the_servicer_refuses_before_the_request_becomes_a_command(
    caller: Principal, method: str, message: Any, reason: str
) -> None:
    bus = RecordingBus()
    servicer = EnrollmentServicer(bus)  # type: ignore[arg-type]
    assert type(servicer).access_table is ACCESS  # type: ignore[attr-defined]
    with acting_as(caller), pytest.raises(PermissionDenied) as raised:
        await getattr(servicer, method)(message, None)
    assert raised.value.reason is DenialReason(reason)
    assert bus.commands == []
