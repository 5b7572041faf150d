"""One program as matching sees it at the start of a unit of work: its pool, live loads, the skill
areas live matches hold, past partners, each mentor's cap across programs, the pairs declined here; and
the pool a full solve is given."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters import decline_store, match_store, pool_store
from services.matching.domain import Participant, Pool, ProgramFormat, ProgramSettings, Role, normalise_tag
from services.matching.domain.engine_input import (
    Workload,
    engine_participant,
    program_settings,
    uses_skill_areas,
)
from services.matching.domain.enrollments import Enrollment, Program
from services.matching.service_layer.policy import Policy
from services.shared.errors import FailedPrecondition, InvalidArgument, NotFound


@dataclass(slots=True)
class ProgramView:
    """One program as matching sees it at the start of a unit of work."""

    program: Program
    format: ProgramFormat
    settings: ProgramSettings
    active: list[Enrollment]
    loads: dict[str, Workload]  # mentor employee id -> live mentees here and elsewhere
    live: dict[str, set[str]]  # employee id -> skill areas their live matches here cover
    partners: dict[str, set[str]]  # employee id -> partners of ended matches, any program
    by_enrollment: dict[str, Enrollment] = field(default_factory=dict)
    caps: dict[str, int | None] = field(default_factory=dict)  # mentor -> cap across programs (person's)
    declined: dict[str, set[str]] = field(default_factory=dict)  # employee id -> declined pairs here

    def workload(self, employee_id: str) -> Workload:
        return self.loads.get(employee_id, Workload())

    def cap_of(self, employee_id: str) -> int | Literal["enrolment"] | None:
        """The person's cap across programs; "enrolment" (what the enrolment states) when not loaded."""
        return self.caps.get(employee_id, "enrolment")

    def declined_of(self, employee_id: str) -> set[str]:
        return self.declined.get(employee_id, set())

    def response_window(self, policy: Policy) -> timedelta:
        return timedelta(hours=self.program.response_window_hours or policy.response_window_default_hours)

    def is_live(self, participant: Enrollment, skill_area: str = "") -> bool:
        """Whether the participant already has a live match here (for ``skill_area``, in a program with a
        mentor per skill area)."""
        held = self.live.get(participant.employee_id)
        if not held:
            return False
        if self.settings.multi_mentor_per_skill and skill_area:
            return normalise_tag(skill_area) in held
        return True


async def load_program(session: AsyncSession, program_id: str, tenant: str | None = None) -> Program:
    """The program; with ``tenant`` (a caller's), another tenant's program is not found, like a missing
    one."""
    if not program_id:
        raise InvalidArgument("program_id", "is required")
    program = await pool_store.load_program(session, program_id, tenant)
    if program is None:
        raise NotFound("program", program_id)
    return program


def require_open(program: Program) -> None:
    if program.closed:
        raise FailedPrecondition("program_closed", f"program {program.program_id} is closed")


async def load_view(
    session: AsyncSession,
    program_id: str,
    policy: Policy,
    extra_employees: Collection[str] = (),
    tenant: str | None = None,
) -> ProgramView:
    program = await load_program(session, program_id, tenant)
    active = await pool_store.load_participants(session, program_id)
    employees = {p.employee_id for p in active} | set(extra_employees)
    mentors = {p.employee_id for p in active if p.role is Role.MENTOR} | set(extra_employees)
    settings = program_settings(
        program,
        multi_mentor_per_skill=uses_skill_areas(program, active),
        solver_time_limit_seconds=policy.solver_time_limit_seconds,
        solver_workers=policy.solver_workers,
    )
    return ProgramView(
        program=program,
        format=settings.format,
        settings=settings,
        active=active,
        loads=await match_store.mentor_loads(session, program.tenant, program_id),
        live=await match_store.live_mentees(session, program_id),
        partners=await match_store.ended_partners(session, program.tenant, employees),
        by_enrollment={p.enrollment_id: p for p in active},
        caps=await pool_store.person_caps(session, program.tenant, mentors),
        declined=await decline_store.declined_in(session, program_id),
    )


def mentee_side(view: ProgramView, role: Role) -> bool:
    return role is Role.PEER if view.format is ProgramFormat.PEER else role is Role.MENTEE


def solve_pool(view: ProgramView) -> Pool:
    """The pool of a full solve: everyone active, less the mentees (peers) already in a live match; a
    mentor's live mentees here are taken off their capacity. In a program with a mentor per skill area, a
    mentee keeps the areas no live match covers yet."""
    people: list[Participant] = []
    seen: set[tuple[str, Role]] = set()
    for participant in view.active:
        role = participant.role
        if role is None or (participant.employee_id, role) in seen:
            continue
        areas: list[str] | None = None
        held = view.live.get(participant.employee_id)
        if held and mentee_side(view, role):
            if not (view.settings.multi_mentor_per_skill and role is Role.MENTEE):
                continue
            requested = [normalise_tag(area) for area in participant.profile.requested_skill_areas]
            areas = [area for area in requested if area not in held]
            if not areas:
                continue
        seen.add((participant.employee_id, role))
        people.append(
            engine_participant(
                participant,
                view.program,
                workload=view.workload(participant.employee_id),
                past_partner_ids=view.partners.get(participant.employee_id, ()),
                declined_partner_ids=view.declined_of(participant.employee_id),
                global_cap=view.cap_of(participant.employee_id),
                requested_skill_areas=areas,
            )
        )
    return Pool(tuple(people))
