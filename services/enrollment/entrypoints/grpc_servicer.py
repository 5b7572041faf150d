"""gRPC EnrollmentService: request -> command, the message bus runs it, result -> response.

Domain errors propagate to the shared interceptor, which maps them to statuses with details
(INVALID_ARGUMENT + the field, FAILED_PRECONDITION + the rule, NOT_FOUND, ALREADY_EXISTS). The bus runs
each command in its own unit of work and wakes the outbox relay once a write commits.

Access: ``@guarded(ACCESS)`` admits the caller's roles per RPC (``access.py``); every command carries the
caller (``current_principal()``), which the handler checks against what it loads. Tenancy: a person acts
in their token's tenant (a request naming another is refused); ``GetEmployeeContact``, called by services
that have no tenant of their own, names the tenant in the ``tenant`` (or ``x-tenant``) call metadata.
"""

from __future__ import annotations

import hashlib
from typing import Any

import grpc
from google.protobuf.message import Message
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc
from typing_extensions import override

from services.enrollment.adapters import translate
from services.enrollment.domain import Role
from services.enrollment.entrypoints.access import ACCESS
from services.enrollment.entrypoints.grpc_limits import LIMITS
from services.enrollment.service_layer import commands
from services.shared.access import tenant_of
from services.shared.auth import current_principal
from services.shared.errors import InvalidArgument
from services.shared.field_limits import bounded
from services.shared.ids import optional_id
from services.shared.messagebus import MessageBus
from services.shared.rpc_access import guarded

Context = grpc.aio.ServicerContext[Any, Any]
TENANT_METADATA = ("tenant", "x-tenant")


def fingerprint(message: Message) -> str:
    """What a retried create must repeat exactly to be taken as the same request."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def _tenant_from_metadata(context: Context) -> str:
    for key, value in context.invocation_metadata() or ():
        if key.lower() in TENANT_METADATA:
            return optional_id(
                value if isinstance(value, str) else value.decode(errors="replace"), key.lower()
            )
    return ""


def _role(number: int, field: str = "role") -> Role:
    found = translate.role(number, field)
    assert found is not None
    return found


@guarded(ACCESS)
@bounded(LIMITS)
class EnrollmentServicer(enrollment_pb2_grpc.EnrollmentServiceServicer):
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    # --- programs (HR; program managers their own) ---

    @override
    async def CreateProgram(
        self, request: enrollment_pb2.CreateProgramRequest, context: Context
    ) -> common_pb2.Program:
        caller = current_principal()
        if request.tenant and request.program.tenant and request.program.tenant != request.tenant:
            raise InvalidArgument("program.tenant", "differs from the request's tenant")
        tenant = tenant_of(caller, request.tenant or request.program.tenant)
        if request.program.status == common_pb2.PROGRAM_STATUS_CLOSED:
            raise InvalidArgument("program.status", "a program is created DRAFT or OPEN")
        command = commands.CreateProgram(
            caller=caller,
            tenant=tenant,
            spec=translate.spec_from_wire(request.program),
            draft=request.program.status == common_pb2.PROGRAM_STATUS_DRAFT,
            request_id=request.request_id,
            fingerprint=fingerprint(
                enrollment_pb2.CreateProgramRequest(tenant=tenant, program=request.program)
            ),
        )
        program = await self._bus.execute(command)
        return translate.program_to_wire(program)

    @override
    async def UpdateProgram(
        self, request: enrollment_pb2.UpdateProgramRequest, context: Context
    ) -> common_pb2.Program:
        command = commands.UpdateProgram(
            caller=current_principal(),
            program_id=request.program_id,
            edit=translate.program_edit(
                request.program, translate.update_paths(request.program, request.update_mask)
            ),
        )
        program = await self._bus.execute(command)
        return translate.program_to_wire(program)

    @override
    async def GetProgram(
        self, request: enrollment_pb2.GetProgramRequest, context: Context
    ) -> common_pb2.Program:
        program = await self._bus.execute(commands.GetProgram(request.program_id, caller=current_principal()))
        return translate.program_to_wire(program)

    @override
    async def ListPrograms(
        self, request: enrollment_pb2.ListProgramsRequest, context: Context
    ) -> enrollment_pb2.ListProgramsResponse:
        query = commands.ListPrograms(
            caller=current_principal(),
            tenant=request.tenant,
            status=translate.program_status(request.status),
            program_format=translate.program_format(request.format, "format", optional=True),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        page = await self._bus.execute(query)
        return enrollment_pb2.ListProgramsResponse(
            programs=[translate.program_to_wire(program) for program in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    @override
    async def CloseProgram(
        self, request: enrollment_pb2.CloseProgramRequest, context: Context
    ) -> common_pb2.Program:
        command = commands.CloseProgram(
            program_id=request.program_id, reason=request.reason, caller=current_principal()
        )
        program = await self._bus.execute(command)
        return translate.program_to_wire(program)

    # --- enrollments (employees) ---

    @override
    async def Enroll(
        self, request: enrollment_pb2.EnrollRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        command = commands.Enrol(
            caller=current_principal(),
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
        enrollment = await self._bus.execute(command)
        return translate.enrollment_to_wire(enrollment)

    @override
    async def UpdateEnrollment(
        self, request: enrollment_pb2.UpdateEnrollmentRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        command = commands.UpdateEnrollment(
            enrollment_id=request.enrollment_id,
            profile=translate.profile_from_wire(request.profile),
            caller=current_principal(),
        )
        enrollment = await self._bus.execute(command)
        return translate.enrollment_to_wire(enrollment)

    @override
    async def WithdrawEnrollment(
        self, request: enrollment_pb2.WithdrawEnrollmentRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        command = commands.WithdrawEnrollment(
            enrollment_id=request.enrollment_id, reason=request.reason, caller=current_principal()
        )
        enrollment = await self._bus.execute(command)
        return translate.enrollment_to_wire(enrollment)

    @override
    async def GetEnrollment(
        self, request: enrollment_pb2.GetEnrollmentRequest, context: Context
    ) -> enrollment_pb2.Enrollment:
        enrollment = await self._bus.execute(
            commands.GetEnrollment(request.enrollment_id, caller=current_principal())
        )
        return translate.enrollment_to_wire(enrollment)

    @override
    async def ListParticipants(
        self, request: enrollment_pb2.ListParticipantsRequest, context: Context
    ) -> enrollment_pb2.ListParticipantsResponse:
        query = commands.ListParticipants(
            caller=current_principal(),
            program_id=request.program_id,
            role=translate.role(request.role, optional=True),
            status=translate.enrollment_status(request.status),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        page = await self._bus.execute(query)
        return enrollment_pb2.ListParticipantsResponse(
            participants=[translate.participant_to_wire(participant) for participant in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    # --- contact look-up (notification service) ---

    @override
    async def GetEmployeeContact(
        self, request: enrollment_pb2.GetEmployeeContactRequest, context: Context
    ) -> enrollment_pb2.EmployeeContact:
        query = commands.LookUpContact(
            employee_id=request.employee_id, tenant=_tenant_from_metadata(context), caller=current_principal()
        )
        employee = await self._bus.execute(query)
        return translate.contact_to_wire(employee)
