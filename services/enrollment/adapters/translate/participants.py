"""Matching's view of a participant, enrollments and contacts, domain -> wire."""

from __future__ import annotations

from mentoring.v1 import common_pb2, enrollment_pb2

from services.enrollment.adapters.translate.enums import enum_to_wire, role_to_wire
from services.enrollment.adapters.translate.profiles import profile_to_wire
from services.enrollment.domain import (
    Employee,
    Enrollment,
    Participant,
    Profile,
)


def participant_to_wire(participant: Participant) -> common_pb2.Participant:
    """Matching's view: opaque ids and attributes, never a name or an e-mail address."""
    profile = Profile(
        skills_offered=participant.skills_offered,
        skills_wanted=participant.skills_wanted,
        goals=participant.goals,
        nominations=participant.nominations,
        availability=participant.availability,
        capacity=participant.capacity,
        preferences=participant.preferences,
        must_haves=participant.must_haves,
        requested_skill_areas=participant.requested_skill_areas,
    )
    return common_pb2.Participant(
        enrollment_id=participant.enrollment_id,
        program_id=participant.program_id,
        employee_id=participant.employee_id,
        role=role_to_wire(participant.role),
        grade=participant.grade or 0,
        department=participant.department or "",
        division=participant.division or "",
        location=participant.location or "",
        timezone=participant.timezone or "",
        profile=profile_to_wire(profile, languages=participant.languages),
        management_chain_ids=list(participant.management_chain),
        mentor_cap_across_programs=participant.cap_across_programs or 0,
        status=enum_to_wire(common_pb2.EnrollmentStatus, "ENROLLMENT_STATUS_", participant.status),
    )


def status_reason(enrollment: Enrollment) -> str:
    if enrollment.withdrawal_reason:
        return enrollment.withdrawal_reason
    return enrollment.pause_reason.value.lower() if enrollment.pause_reason else ""


def enrollment_to_wire(enrollment: Enrollment) -> enrollment_pb2.Enrollment:
    return enrollment_pb2.Enrollment(
        enrollment_id=enrollment.enrollment_id,
        program_id=enrollment.program_id,
        employee_id=enrollment.employee_id,
        role=role_to_wire(enrollment.role),
        profile=profile_to_wire(enrollment.profile),
        status=enum_to_wire(common_pb2.EnrollmentStatus, "ENROLLMENT_STATUS_", enrollment.status),
        status_reason=status_reason(enrollment),
    )


def contact_to_wire(employee: Employee) -> enrollment_pb2.EmployeeContact:
    return enrollment_pb2.EmployeeContact(
        employee_id=employee.employee_id,
        display_name=employee.display_name or "",
        email=employee.email or "",
        timezone=employee.timezone or "",
        status=enum_to_wire(common_pb2.EmployeeStatus, "EMPLOYEE_STATUS_", employee.status),
    )
