"""gRPC SessionService: request -> command, handler inside one transaction, result -> response.

Domain errors propagate to the shared interceptor, which maps them to statuses with details. After a
command commits, the outbox relay is woken so that its events leave at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from mentoring.v1 import common_pb2, events_pb2, session_pb2, session_pb2_grpc
from typing_extensions import override

from services.session.service_layer import commands, handlers
from services.session.service_layer.messages import (
    feedback_message,
    goal_message,
    progress_message,
    session_message,
)
from services.shared.db import Database
from services.shared.timestamps import instant

Context = grpc.aio.ServicerContext[Any, Any]


class SessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, database: Database, wake_relay: Callable[[], None]) -> None:
        self._database = database
        self._wake_relay = wake_relay

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
        )
        async with self._database.transaction() as uow:
            session = await handlers.schedule_session(uow, command)
        self._wake_relay()
        return session_message(session)

    @override
    async def CompleteSession(
        self, request: session_pb2.CompleteSessionRequest, context: Context
    ) -> events_pb2.Session:
        async with self._database.transaction() as uow:
            session = await handlers.complete_session(
                uow, commands.CompleteSession(session_id=request.session_id, notes=request.notes)
            )
        self._wake_relay()
        return session_message(session)

    @override
    async def CancelSession(
        self, request: session_pb2.CancelSessionRequest, context: Context
    ) -> events_pb2.Session:
        async with self._database.transaction() as uow:
            session = await handlers.cancel_session(
                uow, commands.CancelSession(session_id=request.session_id, reason=request.reason)
            )
        self._wake_relay()
        return session_message(session)

    @override
    async def ListSessions(
        self, request: session_pb2.ListSessionsRequest, context: Context
    ) -> session_pb2.ListSessionsResponse:
        command = commands.ListSessions(
            match_id=request.match_id,
            employee_id=request.employee_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        async with self._database.transaction() as uow:
            page = await handlers.list_sessions(uow, command)
        return session_pb2.ListSessionsResponse(
            sessions=[session_message(session) for session in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
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
        )
        async with self._database.transaction() as uow:
            saved = await handlers.set_goal(uow, command)
        return goal_message(saved)

    @override
    async def RecordGoalProgress(
        self, request: session_pb2.RecordGoalProgressRequest, context: Context
    ) -> session_pb2.GoalProgress:
        command = commands.RecordGoalProgress(
            match_id=request.match_id, goal_id=request.goal_id, progress=request.progress, note=request.note
        )
        async with self._database.transaction() as uow:
            progress = await handlers.record_goal_progress(uow, command)
        self._wake_relay()
        return progress_message(progress)

    @override
    async def ListGoals(
        self, request: session_pb2.ListGoalsRequest, context: Context
    ) -> session_pb2.ListGoalsResponse:
        command = commands.ListGoals(
            match_id=request.match_id, page_size=request.page.page_size, page_token=request.page.page_token
        )
        async with self._database.transaction() as uow:
            page = await handlers.list_goals(uow, command)
        return session_pb2.ListGoalsResponse(
            goals=[goal_message(goal) for goal in page.goals],
            progress=[progress_message(progress) for progress in page.progress],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
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
        )
        async with self._database.transaction() as uow:
            feedback = await handlers.submit_feedback(uow, command)
        self._wake_relay()
        return feedback_message(feedback)

    @override
    async def ExportICalendar(
        self, request: session_pb2.ExportICalendarRequest, context: Context
    ) -> session_pb2.ICalendar:
        command = commands.ExportCalendar(employee_id=request.employee_id, match_id=request.match_id)
        async with self._database.transaction() as uow:
            content = await handlers.export_calendar(uow, command)
        return session_pb2.ICalendar(content=content)
