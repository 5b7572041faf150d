"""gRPC MatchingService: request -> handler inside a unit of work -> response.

Domain errors propagate to the shared interceptor, which maps them to statuses with details (the rule
that failed travels in a PreconditionFailure). Before a match is read or answered, proposals past their
response window are expired in a unit of work of their own, so that an answer to an expired proposal
fails with ``not_pending`` while the expiry itself is kept. After a commit the outbox relay is woken.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from mentoring.v1 import common_pb2, matching_pb2, matching_pb2_grpc
from typing_extensions import override

from services.matching.adapters.translate import STATUS_FROM_WIRE, match_to_wire
from services.matching.service_layer import answers, requests, runs
from services.matching.service_layer.context import Policy
from services.shared.db import Database
from services.shared.errors import InvalidArgument

Context = grpc.aio.ServicerContext[Any, Any]


def _now() -> datetime:
    return datetime.now(UTC)


class MatchingServicer(matching_pb2_grpc.MatchingServiceServicer):
    def __init__(self, database: Database, policy: Policy, wake_relay: Callable[[], None]) -> None:
        self._database = database
        self._policy = policy
        self._wake_relay = wake_relay

    async def expire_overdue(self) -> int:
        """Expire every proposal past its window (batch by batch); returns how many."""
        total = 0
        while True:
            async with self._database.transaction() as session:
                expired = await answers.expire_overdue(session, _now())
            total += expired
            if expired < answers.SWEEP_BATCH:
                break
        if total:
            self._wake_relay()
        return total

    @override
    async def RunMatching(
        self, request: matching_pb2.RunMatchingRequest, context: Context
    ) -> matching_pb2.MatchingRun:
        run = await runs.run_matching(
            self._database, request.program_id.strip(), request.request_id, dry_run=False, policy=self._policy
        )
        self._wake_relay()
        return run

    @override
    async def PreviewMatching(
        self, request: matching_pb2.RunMatchingRequest, context: Context
    ) -> matching_pb2.MatchingRun:
        return await runs.run_matching(
            self._database, request.program_id.strip(), request.request_id, dry_run=True, policy=self._policy
        )

    @override
    async def GetMatch(self, request: matching_pb2.GetMatchRequest, context: Context) -> common_pb2.Match:
        await self.expire_overdue()
        async with self._database.transaction() as session:
            record = await answers.get_match(session, request.match_id)
        return match_to_wire(record)

    @override
    async def ListMatches(
        self, request: matching_pb2.ListMatchesRequest, context: Context
    ) -> matching_pb2.ListMatchesResponse:
        status = None
        if request.status != common_pb2.MATCH_STATUS_UNSPECIFIED:
            status = STATUS_FROM_WIRE.get(request.status)
            if status is None:
                raise InvalidArgument("status", "is not a known match status")
        await self.expire_overdue()
        query = answers.ListQuery(
            program_id=request.program_id,
            status=status,
            employee_id=request.employee_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        async with self._database.transaction() as session:
            page = await answers.list_matches(session, query)
        return matching_pb2.ListMatchesResponse(
            matches=[match_to_wire(record) for record in page.items],
            page=common_pb2.PageResponse(next_page_token=page.next_page_token, total_size=page.total_size),
        )

    @override
    async def AcceptMatch(
        self, request: matching_pb2.RespondToMatchRequest, context: Context
    ) -> common_pb2.Match:
        await self.expire_overdue()
        async with self._database.transaction() as session:
            record = await answers.accept_match(session, request.match_id, request.employee_id, _now())
        self._wake_relay()
        return match_to_wire(record)

    @override
    async def DeclineMatch(
        self, request: matching_pb2.RespondToMatchRequest, context: Context
    ) -> common_pb2.Match:
        await self.expire_overdue()
        async with self._database.transaction() as session:
            record = await answers.decline_match(
                session, request.match_id, request.employee_id, request.reason, _now(), self._policy
            )
        self._wake_relay()
        return match_to_wire(record)

    @override
    async def EndMatch(self, request: matching_pb2.EndMatchRequest, context: Context) -> common_pb2.Match:
        await self.expire_overdue()
        async with self._database.transaction() as session:
            record = await answers.end_match(
                session,
                request.match_id,
                request.employee_id,
                request.reason,
                request.offer_rematch,
                _now(),
                self._policy,
            )
        self._wake_relay()
        return match_to_wire(record)

    @override
    async def CreateManualMatch(
        self, request: matching_pb2.CreateManualMatchRequest, context: Context
    ) -> common_pb2.Match:
        command = requests.ManualMatch(
            program_id=request.program_id,
            mentor_enrollment_id=request.mentor_enrollment_id,
            mentee_enrollment_ids=tuple(request.mentee_enrollment_ids),
            override_reason=request.override_reason,
            hr_actor_id=request.hr_actor_id,
        )
        async with self._database.transaction() as session:
            record = await requests.create_manual_match(session, command, _now(), self._policy)
        self._wake_relay()
        return match_to_wire(record)

    @override
    async def RequestNominatedMentor(
        self, request: matching_pb2.RequestNominatedMentorRequest, context: Context
    ) -> common_pb2.Match:
        command = requests.NominatedMentorRequest(
            program_id=request.program_id,
            mentee_enrollment_id=request.mentee_enrollment_id,
            mentor_employee_id=request.mentor_employee_id,
            skill_area=request.skill_area,
            message=request.message,
        )
        async with self._database.transaction() as session:
            record = await requests.request_nominated_mentor(session, command, _now(), self._policy)
        self._wake_relay()
        return match_to_wire(record)

    @override
    async def IntroduceColleague(
        self, request: matching_pb2.IntroduceColleagueRequest, context: Context
    ) -> matching_pb2.Introduction:
        command = requests.Introduction(
            introducer_employee_id=request.introducer_employee_id,
            mentee_employee_id=request.mentee_employee_id,
            mentor_employee_id=request.mentor_employee_id,
            program_id=request.program_id,
            note=request.note,
        )
        async with self._database.transaction() as session:
            row = await requests.introduce(session, command, _now())
        return matching_pb2.Introduction(
            introduction_id=row.introduction_id,
            introducer_employee_id=row.introducer_employee_id,
            mentee_employee_id=row.mentee_employee_id,
            mentor_employee_id=row.mentor_employee_id,
            program_id=row.program_id,
        )
