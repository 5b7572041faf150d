"""gRPC SessionService: each method translates its request into a command carrying its caller, has the
message bus run it (one unit of work; the relay is woken after a write) and translates the result back.
The access table (``access.py``) admits the caller's roles first; the handler checks them on the
relationship.

Domain errors propagate to the shared interceptor, which maps them to statuses with details.
"""

from __future__ import annotations

from typing import Any

import grpc
from mentoring.v1 import common_pb2, events_pb2, session_pb2, session_pb2_grpc
from typing_extensions import override

from services.session.adapters import translate
from services.session.entrypoints.access import ACCESS
from services.session.entrypoints.grpc_limits import LIMITS
from services.session.service_layer import commands
from services.shared.auth import current_principal
from services.shared.field_limits import bounded
from services.shared.messagebus import MessageBus
from services.shared.rpc_access import guarded
from services.shared.timestamps import instant

Context = grpc.aio.ServicerContext[Any, Any]


@guarded(ACCESS)
@bounded(LIMITS)
class SessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    @override
    async def ScheduleSession(
        self, request: session_pb2.ScheduleSessionRequest, context: Context
    ) -> events_pb2.Session:
        command = commands.ScheduleSession(
            match_id=request.match_id,
            starts_at=instant(request.starts_at) if request.HasField("starts_at") else None,
            duration_minutes=request.duration_minutes,
            agenda=request.agenda,
            request_id=request.request_id,
            delivery=translate.delivery_from_wire(request.delivery),
            location=request.location,
            meeting_link=request.meeting_link,
            caller=current_principal(),
        )
        return translate.session_to_wire(await self._bus.execute(command))

    @override
    async def CompleteSession(
        self, request: session_pb2.CompleteSessionRequest, context: Context
    ) -> events_pb2.Session:
        command = commands.CompleteSession(
            session_id=request.session_id, notes=request.notes, caller=current_principal()
        )
        return translate.session_to_wire(await self._bus.execute(command))

    @override
    async def CancelSession(
        self, request: session_pb2.CancelSessionRequest, context: Context
    ) -> events_pb2.Session:
        command = commands.CancelSession(
            session_id=request.session_id, reason=request.reason, caller=current_principal()
        )
        return translate.session_to_wire(await self._bus.execute(command))

    @override
    async def ListSessions(
        self, request: session_pb2.ListSessionsRequest, context: Context
    ) -> session_pb2.ListSessionsResponse:
        query = commands.ListSessions(
            match_id=request.match_id,
            employee_id=request.employee_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
            caller=current_principal(),
        )
        page = await self._bus.execute(query)
        return session_pb2.ListSessionsResponse(
            sessions=[translate.session_to_wire(session) for session in page.items],
            page=translate.page_to_wire(page.next_page_token, page.total_size),
        )

    @override
    async def SetGoal(self, request: session_pb2.SetGoalRequest, context: Context) -> common_pb2.Goal:
        goal = request.goal
        command = commands.SetGoal(
            match_id=request.match_id,
            goal_id=goal.goal_id,
            what=goal.what,
            metric=goal.metric,
            target=goal.target,
            due=instant(goal.due) if goal.HasField("due") else None,
            skill_tags=tuple(goal.skill_tags),
            caller=current_principal(),
        )
        return translate.goal_to_wire(await self._bus.execute(command))

    @override
    async def RecordGoalProgress(
        self, request: session_pb2.RecordGoalProgressRequest, context: Context
    ) -> session_pb2.GoalProgress:
        command = commands.RecordGoalProgress(
            match_id=request.match_id,
            goal_id=request.goal_id,
            progress=request.progress,
            note=request.note,
            employee_id=request.employee_id,
            caller=current_principal(),
        )
        return translate.progress_to_wire(await self._bus.execute(command))

    @override
    async def ListGoals(
        self, request: session_pb2.ListGoalsRequest, context: Context
    ) -> session_pb2.ListGoalsResponse:
        query = commands.ListGoals(
            match_id=request.match_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
            caller=current_principal(),
        )
        page = await self._bus.execute(query)
        return session_pb2.ListGoalsResponse(
            goals=[translate.goal_to_wire(goal) for goal in page.goals],
            progress=[translate.progress_to_wire(progress) for progress in page.progress],
            page=translate.page_to_wire(page.next_page_token, page.total_size),
            check_ins=[translate.progress_to_wire(check_in) for check_in in page.check_ins],
        )

    @override
    async def SubmitFeedback(
        self, request: session_pb2.SubmitFeedbackRequest, context: Context
    ) -> session_pb2.Feedback:
        command = commands.SubmitFeedback(
            match_id=request.match_id,
            session_id=request.session_id,
            employee_id=request.employee_id,
            rating=request.rating,
            comment=request.comment,
            caller=current_principal(),
        )
        return translate.feedback_to_wire(await self._bus.execute(command))

    @override
    async def ExportICalendar(
        self, request: session_pb2.ExportICalendarRequest, context: Context
    ) -> session_pb2.ICalendar:
        query = commands.ExportCalendar(
            employee_id=request.employee_id, match_id=request.match_id, caller=current_principal()
        )
        return session_pb2.ICalendar(content=await self._bus.execute(query))

    # ---- cadence plans ----

    @override
    async def GetPlan(self, request: session_pb2.GetPlanRequest, context: Context) -> session_pb2.Plan:
        query = commands.GetPlan(match_id=request.match_id, caller=current_principal())
        return translate.plan_to_wire(await self._bus.execute(query))

    @override
    async def AcceptPlannedSlot(
        self, request: session_pb2.AcceptPlannedSlotRequest, context: Context
    ) -> session_pb2.PlannedSlot:
        command = commands.AcceptPlannedSlot(
            match_id=request.match_id,
            index=request.index,
            agenda=request.agenda,
            location=request.location,
            meeting_link=request.meeting_link,
            caller=current_principal(),
        )
        return translate.slot_to_wire(await self._bus.execute(command))

    @override
    async def MovePlannedSlot(
        self, request: session_pb2.MovePlannedSlotRequest, context: Context
    ) -> session_pb2.PlannedSlot:
        command = commands.MovePlannedSlot(
            match_id=request.match_id,
            index=request.index,
            starts_at=instant(request.starts_at) if request.HasField("starts_at") else None,
            caller=current_principal(),
        )
        return translate.slot_to_wire(await self._bus.execute(command))

    @override
    async def SkipPlannedSlot(
        self, request: session_pb2.SkipPlannedSlotRequest, context: Context
    ) -> session_pb2.PlannedSlot:
        command = commands.SkipPlannedSlot(
            match_id=request.match_id, index=request.index, caller=current_principal()
        )
        return translate.slot_to_wire(await self._bus.execute(command))

    @override
    async def ExportPlanICalendar(
        self, request: session_pb2.ExportPlanICalendarRequest, context: Context
    ) -> session_pb2.ICalendar:
        query = commands.ExportPlan(match_id=request.match_id, caller=current_principal())
        return session_pb2.ICalendar(content=await self._bus.execute(query))

    # ---- health ----

    @override
    async def ListRelationshipsAtRisk(
        self, request: session_pb2.ListRelationshipsAtRiskRequest, context: Context
    ) -> session_pb2.ListRelationshipsAtRiskResponse:
        query = commands.ListRelationshipsAtRisk(
            program_id=request.program_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
            caller=current_principal(),
        )
        page = await self._bus.execute(query)
        return session_pb2.ListRelationshipsAtRiskResponse(
            relationships=[
                translate.at_risk_to_wire(item.match_id, item.program_id, item.health) for item in page.items
            ],
            page=translate.page_to_wire(page.next_page_token, page.total_size),
        )

    # ---- outcomes and feedback ----

    @override
    async def GetProgramOutcomes(
        self, request: session_pb2.GetProgramOutcomesRequest, context: Context
    ) -> session_pb2.ProgramOutcomes:
        query = commands.GetProgramOutcomes(program_id=request.program_id, caller=current_principal())
        return translate.outcomes_to_wire(await self._bus.execute(query))

    @override
    async def ListFeedbackReceived(
        self, request: session_pb2.ListFeedbackReceivedRequest, context: Context
    ) -> session_pb2.ListFeedbackReceivedResponse:
        query = commands.ListFeedbackReceived(match_id=request.match_id, caller=current_principal())
        given = await self._bus.execute(query)
        return session_pb2.ListFeedbackReceivedResponse(
            feedback=[translate.feedback_to_wire(f) for f in given]
        )

    @override
    async def SubmitClosingReview(
        self, request: session_pb2.SubmitClosingReviewRequest, context: Context
    ) -> session_pb2.ClosingReview:
        command = commands.SubmitClosingReview(
            match_id=request.match_id,
            employee_id=request.employee_id,
            satisfaction=request.satisfaction,
            goals_attained=tuple(request.goals_attained),
            benefits=translate.benefits_from_wire(request.benefits),
            comment=request.comment,
            caller=current_principal(),
        )
        return translate.review_to_wire(await self._bus.execute(command))
