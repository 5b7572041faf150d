"""Matching's view of one enrollment (what participant events carry): HRIS attributes, the declared
profile and the live management chain; never a name or an e-mail address."""

from __future__ import annotations

from dataclasses import dataclass

from services.enrollment.domain.common import normalise_tags
from services.enrollment.domain.employees import Employee
from services.enrollment.domain.enrollments import Enrollment
from services.enrollment.domain.profile import (
    Availability,
    EnrollmentStatus,
    Goal,
    MustHaves,
    Preferences,
    Role,
)
from services.enrollment.domain.programs import Program


@dataclass(frozen=True)
class Participant:
    """Matching's view of one enrollment: HRIS attributes + declared profile + live management chain."""

    enrollment_id: str
    program_id: str
    employee_id: str
    role: Role
    status: EnrollmentStatus
    grade: int | None
    department: str | None
    division: str | None
    organization: str | None
    location: str | None
    timezone: str | None
    languages: tuple[str, ...]  # HRIS languages and the profile's, de-duplicated
    hris_skills: tuple[str, ...]
    skills_offered: tuple[str, ...]
    skills_wanted: tuple[str, ...]
    goals: tuple[Goal, ...]
    nominations: tuple[str, ...]
    capacity: int | None  # mentors only: mentees at once in this program
    cap_across_programs: int | None  # mentors only: mentees at once over every program
    management_chain: tuple[str, ...]  # manager, skip-level, ... (employee ids)
    preferences: Preferences
    must_haves: MustHaves
    availability: Availability
    requested_skill_areas: tuple[str, ...] = ()


def participant_view(
    enrollment: Enrollment, program: Program, employee: Employee, management_chain: tuple[str, ...]
) -> Participant:
    """What matching sees of one enrollment: no name, no e-mail."""
    profile = enrollment.profile
    is_mentor = enrollment.role is Role.MENTOR
    return Participant(
        enrollment_id=enrollment.enrollment_id,
        program_id=enrollment.program_id,
        employee_id=enrollment.employee_id,
        role=enrollment.role,
        status=enrollment.status,
        grade=employee.grade,
        department=employee.department,
        division=employee.division,
        organization=employee.organization,
        location=employee.location,
        timezone=employee.timezone,
        languages=normalise_tags((*employee.languages, *profile.languages)),
        hris_skills=employee.skills,
        skills_offered=profile.skills_offered,
        skills_wanted=profile.skills_wanted,
        goals=profile.goals,
        nominations=profile.nominations,
        capacity=profile.capacity if is_mentor else None,
        cap_across_programs=program.spec.cap_per_mentor if is_mentor else None,
        management_chain=management_chain,
        preferences=profile.preferences,
        must_haves=profile.must_haves,
        availability=profile.availability,
        requested_skill_areas=profile.requested_skill_areas,
    )
