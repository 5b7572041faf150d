"""Outcomes: per program, counts for HR and the program's managers (no person in them); per
relationship, each member's closing review, and the feedback given to each side, for that side to read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.session import metrics
from services.session.adapters import outcome_store, program_store, review_store
from services.session.domain import reviews
from services.session.domain.model import Feedback, Role
from services.session.domain.outcomes import ProgramOutcomes
from services.session.domain.reviews import ClosingReview
from services.session.service_layer import commands, permissions
from services.session.service_layer.lookups import member_of, now_or
from services.shared import access
from services.shared.errors import NotFound
from services.shared.ids import require_id
from services.shared.messagebus import Command, Handler
from services.shared.unit_of_work import after_commit


async def get_program_outcomes(uow: AsyncSession, command: commands.GetProgramOutcomes) -> ProgramOutcomes:
    """HR of the tenant, or a manager of the program."""
    tenant = permissions.tenant_of(command.caller)
    program_id = require_id(command.program_id, "program_id")
    program = await program_store.get_program(uow, program_id, tenant)
    access.require_program_role(command.caller, set(program.manager_ids) if program is not None else set())
    if program is None:
        raise NotFound("program", program_id)
    return await outcome_store.program_outcomes(uow, tenant, program_id, program.window_end)


async def list_feedback_received(uow: AsyncSession, command: commands.ListFeedbackReceived) -> list[Feedback]:
    """What the other side said: the mentees' feedback for the mentor, the mentor's for a mentee (a
    mentee never reads another mentee's)."""
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    mine = relationship.role_of(access.person_of(command.caller))
    given_by = Role.MENTEE if mine is Role.MENTOR else Role.MENTOR
    return await outcome_store.feedback_by(uow, relationship.match_id, given_by)


async def submit_closing_review(
    uow: AsyncSession, command: commands.SubmitClosingReview, now: datetime | None = None
) -> ClosingReview:
    """The caller's own review of a relationship of theirs that ended, or whose program did."""
    moment = now_or(now)
    author = permissions.own(command.caller, command.employee_id)
    relationship = await member_of(uow, command.caller, require_id(command.match_id, "match_id"))
    program = await program_store.get_program(uow, relationship.program_id, relationship.tenant)
    window_end = program.window_end if program is not None else None
    goal_ids = await review_store.goal_ids_of(uow, relationship.match_id)
    given = reviews.review(
        relationship,
        author,
        command.satisfaction,
        command.goals_attained,
        command.benefits,
        command.comment,
        goal_ids=goal_ids,
        program_over=window_end is not None and moment >= window_end,
        already_given=await review_store.review_exists(uow, relationship.match_id, author),
        now=moment,
    )
    await review_store.insert_review(uow, given)
    after_commit(uow, metrics.CLOSING_REVIEWS.labels(given.by.value).inc)
    return given


HANDLERS: Final[dict[type[Command[Any]], Handler]] = {
    commands.SubmitClosingReview: submit_closing_review,
    commands.GetProgramOutcomes: get_program_outcomes,
    commands.ListFeedbackReceived: list_feedback_received,
}
