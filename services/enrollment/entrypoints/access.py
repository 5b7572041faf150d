"""Who may call each RPC of the EnrollmentService (``services.shared.rpc_access``); the handlers then
check the caller against the program or enrolment they load (``service_layer/permissions.py``)."""

from __future__ import annotations

from mentoring.v1 import enrollment_pb2

from services.shared.access import HR_ROLES, PROGRAM_ROLES, ServiceRole
from services.shared.rpc_access import EVERY_PERSON, NOBODY, AccessTable, RpcAccess

ACCESS = AccessTable(
    enrollment_pb2.DESCRIPTOR.services_by_name["EnrollmentService"],
    {
        "CreateProgram": RpcAccess(
            people=HR_ROLES,
            objects="a program of the caller's tenant (request tenant empty or theirs)",
            audited=True,
        ),
        "UpdateProgram": RpcAccess(
            people=PROGRAM_ROLES,
            objects="a program of the caller's tenant; a program manager only one naming them, and not "
            "its managers nor its closing",
            audited=True,
        ),
        "GetProgram": RpcAccess(
            people=EVERY_PERSON,
            objects="a program of the caller's tenant; a draft only for HR and program managers",
        ),
        "ListPrograms": RpcAccess(
            people=EVERY_PERSON,
            objects="the caller's tenant's programs (request tenant empty or theirs); drafts only for HR "
            "and program managers",
        ),
        "CloseProgram": RpcAccess(people=HR_ROLES, objects="a program of the caller's tenant", audited=True),
        "Enroll": RpcAccess(
            people=EVERY_PERSON,
            objects="an open program of the caller's tenant; the caller themselves, HR anyone of the tenant",
        ),
        "UpdateEnrollment": RpcAccess(
            people=EVERY_PERSON, objects="the caller's own enrolment; HR any of the tenant"
        ),
        "WithdrawEnrollment": RpcAccess(
            people=EVERY_PERSON, objects="the caller's own enrolment; HR any of the tenant"
        ),
        "GetEnrollment": RpcAccess(
            people=EVERY_PERSON,
            objects="the caller's own enrolment; HR any of the tenant; a program manager those of the "
            "programs naming them",
        ),
        "ListParticipants": RpcAccess(
            people=PROGRAM_ROLES,
            objects="a program of the caller's tenant; a program manager only one naming them",
        ),
        "GetEmployeeContact": RpcAccess(
            people=NOBODY,
            services=frozenset({ServiceRole.CONTACT_LOOKUP.value}),
            objects="an employee of the tenant the service names (call metadata `tenant`)",
            audited=True,
        ),
    },
)
