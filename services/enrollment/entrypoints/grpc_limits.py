"""The limits of the EnrollmenService's requests: each string field's limit and each method's
required ids (see ``services.shared.field_limits``); the servicer checks them before anything else."""

from __future__ import annotations

from mentoring.v1 import enrollment_pb2

from services.shared.field_limits import ID, SHORT_TEXT, RequestLimits

# Every string of every request, with its limit (services.shared.field_limits); Program and Profile
# fields are in COMMON_BOUNDS. Required ids: empty is INVALID_ARGUMENT before anything is looked up.
LIMITS = RequestLimits(
    enrollment_pb2.DESCRIPTOR.services_by_name["EnrollmentService"],
    {
        "mentoring.v1.CreateProgramRequest.tenant": ID,
        "mentoring.v1.CreateProgramRequest.request_id": ID,
        "mentoring.v1.UpdateProgramRequest.program_id": ID,
        "mentoring.v1.GetProgramRequest.program_id": ID,
        "mentoring.v1.ListProgramsRequest.tenant": ID,
        "mentoring.v1.CloseProgramRequest.program_id": ID,
        "mentoring.v1.CloseProgramRequest.reason": SHORT_TEXT,
        "mentoring.v1.EnrollRequest.program_id": ID,
        "mentoring.v1.EnrollRequest.employee_id": ID,
        "mentoring.v1.EnrollRequest.request_id": ID,
        "mentoring.v1.UpdateEnrollmentRequest.enrollment_id": ID,
        "mentoring.v1.WithdrawEnrollmentRequest.enrollment_id": ID,
        "mentoring.v1.WithdrawEnrollmentRequest.reason": SHORT_TEXT,
        "mentoring.v1.GetEnrollmentRequest.enrollment_id": ID,
        "mentoring.v1.ListParticipantsRequest.program_id": ID,
        "mentoring.v1.GetEmployeeContactRequest.employee_id": ID,
    },
    required={
        "UpdateProgram": ("program_id",),
        "GetProgram": ("program_id",),
        "CloseProgram": ("program_id",),
        "Enroll": ("program_id", "employee_id"),
        "UpdateEnrollment": ("enrollment_id",),
        "WithdrawEnrollment": ("enrollment_id",),
        "GetEnrollment": ("enrollment_id",),
        "ListParticipants": ("program_id",),
        "GetEmployeeContact": ("employee_id",),
    },
)
