"""gRPC MatchingService: each method translates the request into a command, runs it on the bus and
translates the result back. Each RPC's caller is admitted by the access table (``access.py``) and
carried in the command, whose handler checks it against the program or match.

Domain errors propagate to the shared interceptor, which maps them to statuses with details (the rule
that failed travels in a PreconditionFailure). Before a match is read or answered, proposals past their
response window are expired in a unit of work of their own, so that an answer to an expired proposal
fails with ``not_pending`` while the expiry itself is kept.

Runs and previews (a solve each) are admitted by one :class:`Admission`: one per program at a time and a
bounded number in all, with a bounded queue; beyond it the call is refused with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

from typing import Any

import grpc
from mentoring.v1 import common_pb2, matching_pb2, matching_pb2_grpc
from typing_extensions import override

from services.matching.adapters import translate
from services.matching.entrypoints.access import ACCESS
from services.matching.entrypoints.grpc_limits import LIMITS
from services.matching.service_layer import commands
from services.shared.admission import Admission
from services.shared.auth import current_principal
from services.shared.field_limits import bounded
from services.shared.messagebus import MessageBus
from services.shared.rpc_access import guarded

Context = grpc.aio.ServicerContext[Any, Any]


@guarded(ACCESS)
@bounded(LIMITS)
class MatchingServicer(matching_pb2_grpc.MatchingServiceServicer):
    def __init__(self, bus: MessageBus, solves: Admission) -> None:
        self._bus = bus
        self._solves = solves

    async def _expire_overdue(self) -> None:
        await self._bus.execute(commands.ExpireOverdue())

    @override
    async def RunMatching(
        self, request: matching_pb2.RunMatchingRequest, context: Context
    ) -> matching_pb2.MatchingRun:
        async with self._solves.admit(request.program_id.strip()):
            run = await self._bus.execute(
                commands.RunMatching(request.program_id, request.request_id, caller=current_principal())
            )
        return translate.outcome_to_wire(run)

    @override
    async def PreviewMatching(
        self, request: matching_pb2.RunMatchingRequest, context: Context
    ) -> matching_pb2.MatchingRun:
        async with self._solves.admit(request.program_id.strip()):
            run = await self._bus.execute(
                commands.PreviewMatching(request.program_id, request.request_id, caller=current_principal())
            )
        return translate.run_to_wire(run)

    @override
    async def GetMatch(self, request: matching_pb2.GetMatchRequest, context: Context) -> common_pb2.Match:
        await self._expire_overdue()
        return translate.match_to_wire(
            await self._bus.execute(commands.GetMatch(request.match_id, caller=current_principal()))
        )

    @override
    async def ListMatches(
        self, request: matching_pb2.ListMatchesRequest, context: Context
    ) -> matching_pb2.ListMatchesResponse:
        status = translate.status_filter_from_wire(request.status)
        await self._expire_overdue()
        page = await self._bus.execute(
            commands.ListMatches(
                program_id=request.program_id,
                status=status,
                employee_id=request.employee_id,
                page_size=request.page.page_size,
                page_token=request.page.page_token,
                caller=current_principal(),
            )
        )
        return matching_pb2.ListMatchesResponse(
            matches=[translate.match_to_wire(record) for record in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    @override
    async def AcceptMatch(
        self, request: matching_pb2.RespondToMatchRequest, context: Context
    ) -> common_pb2.Match:
        await self._expire_overdue()
        record = await self._bus.execute(
            commands.AcceptMatch(request.match_id, request.employee_id, caller=current_principal())
        )
        return translate.match_to_wire(record)

    @override
    async def DeclineMatch(
        self, request: matching_pb2.RespondToMatchRequest, context: Context
    ) -> common_pb2.Match:
        await self._expire_overdue()
        record = await self._bus.execute(
            commands.DeclineMatch(
                request.match_id, request.employee_id, request.reason, caller=current_principal()
            )
        )
        return translate.match_to_wire(record)

    @override
    async def EndMatch(self, request: matching_pb2.EndMatchRequest, context: Context) -> common_pb2.Match:
        await self._expire_overdue()
        record = await self._bus.execute(
            commands.EndMatch(
                request.match_id,
                request.employee_id,
                request.reason,
                request.offer_rematch,
                caller=current_principal(),
            )
        )
        return translate.match_to_wire(record)

    @override
    async def CreateManualMatch(
        self, request: matching_pb2.CreateManualMatchRequest, context: Context
    ) -> common_pb2.Match:
        command = commands.CreateManualMatch(
            program_id=request.program_id,
            mentor_enrollment_id=request.mentor_enrollment_id,
            mentee_enrollment_ids=tuple(request.mentee_enrollment_ids),
            override_reason=request.override_reason,
            hr_actor_id=request.hr_actor_id,
            caller=current_principal(),
        )
        return translate.match_to_wire(await self._bus.execute(command))

    @override
    async def RequestNominatedMentor(
        self, request: matching_pb2.RequestNominatedMentorRequest, context: Context
    ) -> common_pb2.Match:
        command = commands.RequestNominatedMentor(
            program_id=request.program_id,
            mentee_enrollment_id=request.mentee_enrollment_id,
            mentor_employee_id=request.mentor_employee_id,
            skill_area=request.skill_area,
            message=request.message,
            caller=current_principal(),
        )
        return translate.match_to_wire(await self._bus.execute(command))

    @override
    async def IntroduceColleague(
        self, request: matching_pb2.IntroduceColleagueRequest, context: Context
    ) -> matching_pb2.Introduction:
        command = commands.IntroduceColleague(
            introducer_employee_id=request.introducer_employee_id,
            mentee_employee_id=request.mentee_employee_id,
            mentor_employee_id=request.mentor_employee_id,
            program_id=request.program_id,
            note=request.note,
            caller=current_principal(),
        )
        return translate.introduction_to_wire(await self._bus.execute(command))
