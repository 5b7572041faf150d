"""gRPC EnrollmentService: request -> command, handler inside one transaction, result -> response.

Domain errors propagate to the shared interceptor, which maps them to statuses with details
(INVALID_ARGUMENT + the field, FAILED_PRECONDITION + the rule, NOT_FOUND, ALREADY_EXISTS). After a
command commits, the outbox relay is woken so that its events leave at once.

Tenancy: requests that carry a tenant use it; ``GetEmployeeContact`` has no tenant field, so it reads
the ``tenant`` (or ``x-tenant``) call metadata, and without it the id must be known in one tenant only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import Message
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc
from typing_extensions import override

from services.enrollment.adapters import translate
from services.enrollment.domain import Role
from services.enrollment.service_layer import commands, handlers
from services.shared.db import Database
from services.shared.errors import InvalidArgument

Context = grpc.aio.ServicerContext[Any, Any]
TENANT_METADATA = ("tenant", "x-tenant")


def fingerprint(message: Message) -> str:
    """What a retried create must repeat exactly to be taken as the same request."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def _tenant_from_metadata(context: Context) -> str:
    for key, value in context.invocation_metadata() or ():
        if key.lower() in TENANT_METADATA:
            return value if isinstance(value, str) else value.decode()
    return ""


def _role(number: int, field: str = "role") -> Role:
    found = translate.role(number, field)
    assert found is not None
    return found


class EnrollmentServicer(enrollment_pb2_grpc.EnrollmentServiceServicer):
    def __init__(self, database: Database, wake_relay: Callable[[], None]) -> None:
        self._database = database
        self._wake_relay = wake_relay

    # --- programs (HR program managers) ---

    @override
    async def CreateProgram(
        self, request: enrollment_pb2.CreateProgramRequest, context: Context
    ) -> common_pb2.Program:
        tenant = request.tenant or request.program.tenant
        if request.tenant and request.program.tenant and request.program.tenant != request.tenant:
            raise InvalidArgument("program.tenant", "differs from the request's tenant")
        if request.program.status == common_pb2.PROGRAM_STATUS_CLOSED:
            raise InvalidArgument("program.status", "a program is created DRAFT or OPEN")
        command = commands.CreateProgram(
            tenant=tenant,
            spec=translate.spec_from_wire(request.program),
            draft=request.program.status == common_pb2.PROGRAM_STATUS_DRAFT,
            request_id=request.request_id,
            fingerprint=fingerprint(
                enrollment_pb2.CreateProgramRequest(tenant=tenant, program=request.program)
            ),
        )
        async with self._database.transaction() as session:
            program = await handlers.create_program(session, command)
        self._wake_relay()
        return translate.program_to_wire(program)

    @override
    async def UpdateProgram(
        self, request: enrollment_pb2.UpdateProgramRequest, context: Context
    ) -> common_pb2.Program:
        command = commands.UpdateProgram(
            program_id=request.program_id,
            program=request.program,
            paths=translate.update_paths(request.program, request.update_mask),
        )
        async with self._database.transaction() as session:
            program = await handlers.update_program(session, command)
        self._wake_relay()
        return translate.program_to_wire(program)

    @override
    async def GetProgram(
        self, request: enrollment_pb2.GetProgramRequest, context: Context
    ) -> common_pb2.Program:
        async with self._database.transaction() as session:
            program = await handlers.get_program(session, request.program_id)
        return translate.program_to_wire(program)

    @override
    async def ListPrograms(
        self, request: enrollment_pb2.ListProgramsRequest, context: Context
    ) -> enrollment_pb2.ListProgramsResponse:
        query = commands.ListPrograms(
            tenant=request.tenant,
            status=translate.program_status(request.status),
            program_format=translate.program_format(request.format, "format", optional=True),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        async with self._database.transaction() as session:
            page = await handlers.list_programs(session, query)
        return enrollment_pb2.ListProgramsResponse(
            programs=[translate.program_to_wire(program) for program in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    @override
    async def CloseProgram(
        self, request: enrollment_pb2.CloseProgramRequest, context: Context
    ) -> common_pb2.Program:
        command = commands.CloseProgram(program_id=request.program_id, reason=request.reason)
        async with self._database.transaction() as session:
            program = await handlers.close_program(session, command)
        self._wake_relay()
        return translate.program_to_wire(program)

    # --- enrollments (employees) ---

    @override
    async def Enroll(
        self, request: enrollment_pb2.EnrollRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        command = commands.Enrol(
            program_id=request.program_id,
            employee_id=request.employee_id,
            role=_role(request.role),
            profile=translate.profile_from_wire(request.profile),
            request_id=request.request_id,
            fingerprint=fingerprint(
                enrollment_pb2.EnrollRequest(
                    program_id=request.program_id,
                    employee_id=request.employee_id,
                    role=request.role,
                    profile=request.profile,
                )
            ),
        )
        async with self._database.transaction() as session:
            enrollment = await handlers.enrol(session, command)
        self._wake_relay()
        return translate.enrollment_to_wire(enrollment)

    @override
    async def UpdateEnrollment(
        self, request: enrollment_pb2.UpdateEnrollmentRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        command = commands.UpdateEnrollment(
            enrollment_id=request.enrollment_id, profile=translate.profile_from_wire(request.profile)
        )
        async with self._database.transaction() as session:
            enrollment = await handlers.update_enrollment(session, command)
        self._wake_relay()
        return translate.enrollment_to_wire(enrollment)

    @override
    async def WithdrawEnrollment(
        self, request: enrollment_pb2.WithdrawEnrollmentRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        command = commands.WithdrawEnrollment(enrollment_id=request.enrollment_id, reason=request.reason)
        async with self._database.transaction() as session:
            enrollment = await handlers.withdraw_enrollment(session, command)
        self._wake_relay()
        return translate.enrollment_to_wire(enrollment)

    @override
    async def GetEnrollment(
        self, request: enrollment_pb2.GetEnrollmentRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        async with self._database.transaction() as session:
            enrollment = await handlers.get_enrollment(session, request.enrollment_id)
        return translate.enrollment_to_wire(enrollment)

    @override
    async def ListParticipants(
        self, request: enrollment_pb2.ListParticipantsRequest, context: Context
    ) -> enrollment_pb2.ListParticipantsResponse:
        query = commands.ListParticipants(
            program_id=request.program_id,
            role=translate.role(request.role, optional=True),
            status=translate.enrollment_status(request.status),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        async with self._database.transaction() as session:
            page = await handlers.list_participants(session, query)
        return enrollment_pb2.ListParticipantsResponse(
            participants=[translate.participant_to_wire(participant) for participant in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    # --- contact look-up (notification service) ---

    @override
    async def GetEmployeeContact(
        self, request: enrollment_pb2.GetEmployeeContactRequest, context: Context
    ) -> enrollment_pb2.EmployeeContact:
        query = commands.LookUpContact(employee_id=request.employee_id, tenant=_tenant_from_metadata(context))
        async with self._database.transaction() as session:
            employee = await handlers.look_up_contact(session, query)
        return translate.contact_to_wire(employee)
