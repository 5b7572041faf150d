"""A mentor's cap across programs holds under concurrency, as real processes on the real broker.

Four programs share four mentors whose caps across programs are 1 or 2 (one of them states 1 in one
program and 6 in the others: the person's cap is the strictest, 1). Each round runs, all at once:
RunMatching for every program (spread over the instances), manual matches by HR, mentees' requests to a
nominated mentor, late enrolments (on Kafka: incremental proposals), declines, acceptances and ends.
After every round an independent check over the stored matches (ListMatches, every program, every
status that holds a seat) counts each mentor's live mentees: nobody is ever above their cap.

On SQLite with one instance, and on PostgreSQL with two instances on the same topic and database.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from mentoring.v1 import common_pb2, events_pb2, matching_pb2, matching_pb2_grpc

from tests.integration.test_matching_service import as_person, participant, program, publish
from tests.support.identity import KeycloakTokens, Metadata, bearer, hr
from tests.support.postgres import PostgresServer
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

MENTOR, MENTEE = common_pb2.ROLE_MENTOR, common_pb2.ROLE_MENTEE
PROGRAMS = ("p1", "p2", "p3", "p4")
# The cap across programs each mentor's enrolments state, per program; the person's cap is the smallest.
STATED_CAPS = {
    "M1": {"p1": 1, "p2": 1, "p3": 1, "p4": 1},
    "M2": {"p1": 2, "p2": 2, "p3": 2, "p4": 2},
    "M3": {"p1": 1, "p2": 6, "p3": 6, "p4": 6},
    "M4": {"p1": 2, "p2": 3, "p3": 2, "p4": 2},
}
CAPS = {mentor: min(stated.values()) for mentor, stated in STATED_CAPS.items()}
MENTEES_PER_PROGRAM = 4
ROUNDS = 5
SEAT_HOLDING = (common_pb2.MATCH_STATUS_PROPOSED, common_pb2.MATCH_STATUS_ACTIVE)
# What a busy platform answers a request that cannot be met; anything else fails the test.
REFUSALS = {
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def mentor_enrolment(program_id: str, mentor: str) -> common_pb2.Participant:
    person = participant(program_id, mentor, MENTOR, 9, skills=("python", "sql"))
    person.mentor_cap_across_programs = STATED_CAPS[mentor][program_id]
    person.profile.capacity = 2
    return person


def mentee_enrolment(program_id: str, mentee: str) -> common_pb2.Participant:
    return participant(program_id, mentee, MENTEE, 4, skills=("python",), nominations=("M1", "M2"))


def initial_events() -> list[Any]:
    events: list[Any] = []
    for program_id in PROGRAMS:
        events.append(events_pb2.ProgramCreated(program=program(program_id, mentor_capacity_default=2)))
        events += [
            events_pb2.ParticipantEnrolled(participant=mentor_enrolment(program_id, m)) for m in STATED_CAPS
        ]
        events += [
            events_pb2.ParticipantEnrolled(participant=mentee_enrolment(program_id, f"E{program_id}-{k}"))
            for k in range(MENTEES_PER_PROGRAM)
        ]
    return events


async def seat_holding_matches(
    stub: matching_pb2_grpc.MatchingServiceStub, as_hr: Metadata
) -> list[common_pb2.Match]:
    """Every proposed or active match of every program, read back from the service (by HR)."""
    found: list[common_pb2.Match] = []
    for status in SEAT_HOLDING:
        token = ""
        while True:
            page = await stub.ListMatches(
                matching_pb2.ListMatchesRequest(
                    status=status, page=common_pb2.PageRequest(page_size=500, page_token=token)
                ),
                timeout=30,
                metadata=as_hr,
            )
            found += page.matches
            token = page.page.next_page_token
            if not token:
                break
    return found


def over_cap(matches: Sequence[common_pb2.Match]) -> dict[str, int]:
    """Mentors holding more mentees than their cap across programs: mentor -> mentees held."""
    held = Counter[str]()
    for match in matches:
        held[match.mentor_employee_id] += len(match.mentee_employee_ids)
    return {mentor: count for mentor, count in held.items() if mentor in CAPS and count > CAPS[mentor]}


async def attempt(call: Any) -> Any:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        if error.code() not in REFUSALS:
            raise
        return error


async def play_round(
    number: int,
    stubs: Sequence[matching_pb2_grpc.MatchingServiceStub],
    live: Sequence[common_pb2.Match],
    rng: random.Random,
    bootstrap: str,
    namespace: str,
    tokens: KeycloakTokens,
) -> list[Any]:
    """One round of everything at once, each call by whom it concerns (HR runs and pairs, the members
    answer); returns the outcomes (responses or refusals)."""
    calls: list[Any] = []
    as_hr = bearer(hr(tokens, "acme", "hr-1"))

    def stub() -> matching_pb2_grpc.MatchingServiceStub:
        return stubs[len(calls) % len(stubs)]

    for program_id in PROGRAMS:
        calls.append(
            stub().RunMatching(
                matching_pb2.RunMatchingRequest(
                    program_id=program_id, request_id=f"round-{number}-{program_id}"
                ),
                timeout=60,
                metadata=as_hr,
            )
        )
    for _ in range(2):
        program_id = rng.choice(PROGRAMS)
        mentee = f"E{program_id}-{rng.randrange(MENTEES_PER_PROGRAM)}"
        calls.append(
            stub().CreateManualMatch(
                matching_pb2.CreateManualMatchRequest(
                    program_id=program_id,
                    mentor_enrollment_id=f"{program_id}:{rng.choice(list(CAPS))}",
                    mentee_enrollment_ids=[f"{program_id}:{mentee}"],
                    override_reason="HR pairs them",
                    hr_actor_id="hr-1",
                ),
                timeout=30,
                metadata=as_hr,
            )
        )
    for _ in range(2):
        program_id = rng.choice(PROGRAMS)
        mentee = f"E{program_id}-{rng.randrange(MENTEES_PER_PROGRAM)}"
        calls.append(
            stub().RequestNominatedMentor(
                matching_pb2.RequestNominatedMentorRequest(
                    program_id=program_id,
                    mentee_enrollment_id=f"{program_id}:{mentee}",
                    mentor_employee_id=rng.choice(("M1", "M2")),
                ),
                timeout=30,
                metadata=as_person(tokens, mentee),
            )
        )
    proposed = [m for m in live if m.status == common_pb2.MATCH_STATUS_PROPOSED]
    active = [m for m in live if m.status == common_pb2.MATCH_STATUS_ACTIVE]
    rng.shuffle(proposed)
    for match in proposed[:2]:  # declined, by either side
        who = rng.choice((match.mentor_employee_id, match.mentee_employee_ids[0]))
        calls.append(
            stub().DeclineMatch(
                matching_pb2.RespondToMatchRequest(match_id=match.match_id, employee_id=who),
                timeout=30,
                metadata=as_person(tokens, who),
            )
        )
    for match in proposed[2:4]:  # accepted by both sides: active
        for who in (match.mentor_employee_id, match.mentee_employee_ids[0]):
            calls.append(
                stub().AcceptMatch(
                    matching_pb2.RespondToMatchRequest(match_id=match.match_id, employee_id=who),
                    timeout=30,
                    metadata=as_person(tokens, who),
                )
            )
    for match in active[:1]:  # ended, with a rematch offered
        calls.append(
            stub().EndMatch(
                matching_pb2.EndMatchRequest(
                    match_id=match.match_id, employee_id=match.mentee_employee_ids[0], offer_rematch=True
                ),
                timeout=30,
                metadata=as_person(tokens, match.mentee_employee_ids[0]),
            )
        )
    late = [
        events_pb2.ParticipantEnrolled(participant=mentee_enrolment(program_id, f"L{number}-{program_id}"))
        for program_id in rng.sample(PROGRAMS, 2)
    ]
    publishing = publish(bootstrap, namespace, late)
    outcomes = await asyncio.gather(publishing, *(attempt(call) for call in calls))
    return list(outcomes[1:])


async def wait_for_pools(stub: matching_pb2_grpc.MatchingServiceStub, as_hr: Metadata) -> None:
    """Every enrolment was consumed once every program's dry run matches all its mentees."""

    async def ready() -> bool:
        for program_id in PROGRAMS:
            try:
                preview = await stub.PreviewMatching(
                    matching_pb2.RunMatchingRequest(program_id=program_id), timeout=30, metadata=as_hr
                )
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            if len(preview.matches) < MENTEES_PER_PROGRAM:
                return False
        return True

    deadline = asyncio.get_running_loop().time() + 90
    while not await ready():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the enrolments were not consumed in 90 s")
        await asyncio.sleep(0.3)


async def rounds_never_oversubscribe(
    processes: Sequence[ServiceProcess], bootstrap: str, namespace: str, tokens: KeycloakTokens
) -> None:
    channels = [grpc.aio.insecure_channel(process.grpc_target) for process in processes]
    try:
        stubs = [matching_pb2_grpc.MatchingServiceStub(channel) for channel in channels]
        await publish(bootstrap, namespace, initial_events())
        as_hr = bearer(hr(tokens, "acme", "hr-1"))
        await wait_for_pools(stubs[0], as_hr)
        rng = random.Random(11)
        live: list[common_pb2.Match] = []
        stored = Counter[str]()
        full_seen = 0
        for number in range(1, ROUNDS + 1):
            outcomes = await play_round(number, stubs, live, rng, bootstrap, namespace, tokens)
            stored.update(type(outcome).__name__ for outcome in outcomes)
            live = await seat_holding_matches(stubs[number % len(stubs)], as_hr)
            held = Counter[str]()
            for match in live:
                held[match.mentor_employee_id] += len(match.mentee_employee_ids)
            full_seen += sum(1 for mentor, cap in CAPS.items() if held[mentor] == cap)
            excess = over_cap(live)
            assert not excess, "; ".join(
                f"mentor {mentor} held {count} live matches with cap {CAPS[mentor]} "
                f"in round {number} of {ROUNDS}"
                for mentor, count in sorted(excess.items())
            )
        # The rounds did put the caps under pressure (the check above could not pass by doing nothing).
        assert stored["MatchingRun"] == ROUNDS * len(PROGRAMS)
        assert full_seen >= ROUNDS, f"mentors at their cap only {full_seen} times"
    finally:
        for channel in channels:
            await channel.close()


async def test_concurrent_runs_manual_matches_requests_and_late_enrolments_never_exceed_a_cap_on_sqlite(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    with ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as matching:
        await rounds_never_oversubscribe([matching], kafka_bootstrap, namespace, tokens)
        assert matching.stop() == 0, matching.log_tail()


async def test_two_instances_on_postgres_never_exceed_a_cap(
    kafka_bootstrap: str,
    namespace: str,
    data_dir: Path,
    postgres_server: PostgresServer,
    tokens: KeycloakTokens,
) -> None:
    url = await postgres_server.create_database("matching")
    on_postgres = {"MENTORING_MATCHING_DATABASE_URL": url}
    dirs = [data_dir / "first", data_dir / "second"]
    for path in dirs:
        path.mkdir()
    first = ServiceProcess("matching", dirs[0], namespace, kafka_bootstrap, on_postgres)
    second = ServiceProcess("matching", dirs[1], namespace, kafka_bootstrap, on_postgres)
    try:
        # One after the other (each migrates the database at start); both join the topic's consumer
        # group and share its partitions.
        await asyncio.to_thread(first.start)
        await asyncio.to_thread(second.start)
        await rounds_never_oversubscribe([first, second], kafka_bootstrap, namespace, tokens)
        codes = await asyncio.gather(asyncio.to_thread(first.stop), asyncio.to_thread(second.stop))
        assert codes == [0, 0], first.log_tail() + second.log_tail()
    finally:
        first.kill()
        second.kill()
