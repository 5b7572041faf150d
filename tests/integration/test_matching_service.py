"""The matching service as a real process on the real broker: enrolments in (CloudEvents in binary mode
on the test's own namespace), proposals out on matching.events.v1, answers over gRPC, reactions to HRIS
effects, refusals with the rule in the status details, and a crash that loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2, matching_pb2, matching_pb2_grpc

from services.shared.envelope import decode, encode_binary, new_event
from services.shared.topics import ce_type_of
from tests.support.grpc_errors import rpc_error
from tests.support.identity import KeycloakTokens, Metadata, bearer, hr
from tests.support.kafka import produce_raw, read_topic
from tests.support.processes import ServiceProcess, metric_value

pytestmark = pytest.mark.integration

MENTOR, MENTEE = common_pb2.ROLE_MENTOR, common_pb2.ROLE_MENTEE
PROPOSED = "mentoring.matching.match.proposed.v1"
ACCEPTED = "mentoring.matching.match.accepted.v1"
DECLINED = "mentoring.matching.match.declined.v1"
ACTIVATED = "mentoring.matching.match.activated.v1"
ENDED = "mentoring.matching.match.ended.v1"


# ---- building enrollment events ------------------------------------------------------------------


def program(program_id: str, **fields: Any) -> common_pb2.Program:
    values: dict[str, Any] = {
        "program_id": program_id,
        "tenant": "acme",
        "format": common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
        "delivery": common_pb2.DELIVERY_REMOTE,
        "mentor_capacity_default": 1,
        "status": common_pb2.PROGRAM_STATUS_OPEN,
    }
    values.update(fields)
    return common_pb2.Program(**values)


def participant(
    program_id: str,
    employee_id: str,
    role: int,
    grade: int,
    *,
    skills: tuple[str, ...] = (),
    chain: tuple[str, ...] = ("boss",),
    department: str = "eng",
    nominations: tuple[str, ...] = (),
) -> common_pb2.Participant:
    profile = common_pb2.Profile(languages=["en"], nominated_mentor_ids=list(nominations))
    if role == MENTOR:
        profile.skills_offered.extend(skills)
    else:
        profile.skills_wanted.extend(skills)
    return common_pb2.Participant(
        enrollment_id=f"{program_id}:{employee_id}",
        program_id=program_id,
        employee_id=employee_id,
        role=role,  # type: ignore[arg-type]
        grade=grade,
        department=department,
        timezone="Europe/Berlin",
        management_chain_ids=list(chain),
        status=common_pb2.ENROLLMENT_STATUS_ACTIVE,
        profile=profile,
    )


async def publish(bootstrap: str, namespace: str, messages: list[Message]) -> None:
    """Enrollment events as the enrollment service's relay sends them: binary CloudEvents keyed by program."""
    records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
    for message in messages:
        event = new_event(ce_type_of(type(message)), "enrollment", message, tenant="acme")
        headers, value = encode_binary(event)
        key = _program_of(message)
        records.append((key.encode(), value, headers))
    await produce_raw(bootstrap, namespace + "enrollment.events.v1", records)


def _program_of(message: Any) -> str:
    if hasattr(message, "participant"):
        return str(message.participant.program_id)
    if hasattr(message, "program"):
        return str(message.program.program_id)
    return str(getattr(message, "program_id", "none"))


def enrolments(program_id: str, people: list[common_pb2.Participant]) -> list[Message]:
    return [
        events_pb2.ProgramCreated(program=program(program_id)),
        *[events_pb2.ParticipantEnrolled(participant=p) for p in people],
    ]


# ---- reading matching events ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    ce_id: str
    ce_type: str
    key: bytes
    message: Any


async def matching_events(bootstrap: str, namespace: str, expected: int, timeout: float = 60.0) -> list[Seen]:
    records = await read_topic(
        bootstrap, namespace + "matching.events.v1", expected, timeout=timeout, settle=0.5
    )
    seen = []
    for record in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)):
        event = decode(record.headers, record.value)
        seen.append(Seen(event.id, event.type, record.key, event.data))
    return seen


def distinct(seen: list[Seen]) -> list[Seen]:
    """One per ce_id (the relay is at-least-once: a consumer keeps the first of duplicates)."""
    firsts: dict[str, Seen] = {}
    for item in seen:
        firsts.setdefault(item.ce_id, item)
    return list(firsts.values())


def of_type(seen: list[Seen], ce_type: str) -> list[Seen]:
    return [item for item in distinct(seen) if item.ce_type == ce_type]


async def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout} s")
        await asyncio.sleep(0.2)


async def wait_for_events(
    bootstrap: str, namespace: str, predicate: Callable[[list[Seen]], bool], timeout: float = 60.0
) -> list[Seen]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = await matching_events(bootstrap, namespace, expected=1, timeout=10)
        if predicate(seen):
            return seen
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"expected events never arrived; saw {[(s.ce_type, s.message) for s in seen]}")
        await asyncio.sleep(0.3)


# ---- gRPC -----------------------------------------------------------------------------------------


@contextmanager
def matching_stub(
    process: ServiceProcess, tokens: KeycloakTokens, tenant: str = "acme"
) -> Iterator[matching_pb2_grpc.MatchingServiceStub]:
    """A stub whose calls carry an HR admin's token of ``tenant`` unless a call passes its own."""
    with process.channel(lambda: hr(tokens, tenant)) as channel:
        yield matching_pb2_grpc.MatchingServiceStub(channel)


def as_person(tokens: KeycloakTokens, employee_id: str, *roles: str, tenant: str = "acme") -> Metadata:
    """The call's metadata of a person of ``tenant`` (a member answering for themselves)."""
    return bearer(tokens.person(tenant, employee_id, *roles))


async def wait_for_pool(stub: matching_pb2_grpc.MatchingServiceStub, program_id: str, matches: int) -> None:
    """The enrolments were consumed once a dry run finds the expected number of matches."""

    def ready() -> bool:
        try:
            preview = stub.PreviewMatching(matching_pb2.RunMatchingRequest(program_id=program_id), timeout=10)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return len(preview.matches) == matches

    await wait_until(ready, what=f"a pool of {program_id} with {matches} matches")


def by_mentee(run: matching_pb2.MatchingRun) -> dict[str, common_pb2.Match]:
    return {match.mentee_employee_ids[0]: match for match in run.matches}


# ---- tests ----------------------------------------------------------------------------------------


async def test_enrolments_in_proposals_out_then_accept_decline_and_end_with_a_rematch(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    people = [
        participant("p1", "M1", MENTOR, 8, skills=("python",)),
        participant("p1", "M2", MENTOR, 8, skills=("sql",)),
        participant("p1", "M3", MENTOR, 8, skills=("design",)),
        participant("p1", "E1", MENTEE, 4, skills=("python",)),
        participant("p1", "E2", MENTEE, 4, skills=("sql",)),
        participant("p1", "E3", MENTEE, 4, skills=("design",)),
    ]
    with (
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as service,
        matching_stub(service, tokens) as stub,
    ):
        await publish(kafka_bootstrap, namespace, enrolments("p1", people))
        await wait_for_pool(stub, "p1", 3)
        assert await matching_events(kafka_bootstrap, namespace, expected=0, timeout=1) == [], (
            "a preview publishes nothing"
        )

        run = stub.RunMatching(matching_pb2.RunMatchingRequest(program_id="p1", request_id="run-1"))
        pairs = {(m.mentor_employee_id, m.mentee_employee_ids[0]) for m in run.matches}
        assert pairs == {("M1", "E1"), ("M2", "E2"), ("M3", "E3")}
        assert run.quality.matched == 3 and run.quality.max_matchable == 3
        assert run.quality.share_of_optimum == pytest.approx(1.0)
        assert all(any(c.name == "skills" and c.points > 0 for c in m.breakdown) for m in run.matches)
        assert stub.RunMatching(matching_pb2.RunMatchingRequest(program_id="p1", request_id="run-1")) == run

        seen = await matching_events(kafka_bootstrap, namespace, expected=3)
        proposed = of_type(seen, PROPOSED)
        assert Counter(item.message.match.match_id for item in proposed) == Counter(
            m.match_id for m in run.matches
        )
        assert all(item.key == item.message.match.match_id.encode() for item in proposed), "keyed by match id"

        matches = by_mentee(run)
        accepted = stub.AcceptMatch(
            matching_pb2.RespondToMatchRequest(match_id=matches["E1"].match_id, employee_id="M1"),
            metadata=as_person(tokens, "M1"),
        )
        assert accepted.status == common_pb2.MATCH_STATUS_PROPOSED and accepted.mentor_accepted
        active = stub.AcceptMatch(
            matching_pb2.RespondToMatchRequest(match_id=matches["E1"].match_id, employee_id="E1"),
            metadata=as_person(tokens, "E1"),
        )
        assert active.status == common_pb2.MATCH_STATUS_ACTIVE
        code, rule = rpc_error(
            lambda: stub.AcceptMatch(
                matching_pb2.RespondToMatchRequest(match_id=matches["E3"].match_id, employee_id="E1"),
                metadata=as_person(tokens, "E1"),
            )
        )
        assert (code, rule) == (grpc.StatusCode.FAILED_PRECONDITION, "not_a_participant")

        declined = stub.DeclineMatch(
            matching_pb2.RespondToMatchRequest(
                match_id=matches["E2"].match_id, employee_id="E2", reason="timing"
            ),
            metadata=as_person(tokens, "E2"),
        )
        assert declined.status == common_pb2.MATCH_STATUS_DECLINED

        ended = stub.EndMatch(
            matching_pb2.EndMatchRequest(
                match_id=matches["E1"].match_id, employee_id="E1", offer_rematch=True
            ),
            metadata=as_person(tokens, "E1"),
        )
        assert ended.status == common_pb2.MATCH_STATUS_ENDED
        live = stub.ListMatches(matching_pb2.ListMatchesRequest(program_id="p1", employee_id="E1"))
        rematch = [m for m in live.matches if m.status == common_pb2.MATCH_STATUS_PROPOSED]
        assert [(m.mentor_employee_id, m.origin) for m in rematch] == [("M2", "rematch")], (
            "the only mentor free"
        )

        seen = await matching_events(kafka_bootstrap, namespace, expected=9)
        kinds = Counter(item.ce_type for item in distinct(seen))
        assert kinds == {PROPOSED: 4, ACCEPTED: 2, ACTIVATED: 1, DECLINED: 1, ENDED: 1}
        (end_event,) = of_type(seen, ENDED)
        assert end_event.message.by == MENTEE and end_event.message.rematch_offered
        (decline_event,) = of_type(seen, DECLINED)
        assert decline_event.message.reason == "timing" and decline_event.message.by == MENTEE
        assert all(item.message.match.program_id == "p1" for item in distinct(seen))

        assert (
            metric_value(service.metrics_port, "mentoring_matching_pending_proposals") == 2
        )  # E3's and E1's rematch
        assert metric_value(service.metrics_port, "mentoring_matching_proposals_total", origin="rematch") == 1
        assert (
            metric_value(
                service.metrics_port, "mentoring_matching_proposal_outcomes_total", outcome="activated"
            )
            == 1
        )
        assert metric_value(service.metrics_port, "mentoring_matching_runs_total", outcome="completed") == 1
        assert metric_value(service.metrics_port, "mentoring_matching_time_to_match_seconds_count") == 3


async def test_hris_effects_end_matches_and_late_enrolments_get_proposals_without_a_run(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    people = [
        participant("p1", "M1", MENTOR, 8, skills=("python",)),
        participant("p1", "M2", MENTOR, 8, skills=("sql",)),
        participant("p1", "E1", MENTEE, 4, skills=("python",)),
        participant("p1", "E2", MENTEE, 4, skills=("sql",)),
    ]
    with (
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as service,
        matching_stub(service, tokens) as stub,
    ):
        await publish(
            kafka_bootstrap,
            namespace,
            [
                events_pb2.ProgramCreated(program=program("p1", mentor_capacity_default=2)),
                *[events_pb2.ParticipantEnrolled(participant=p) for p in people],
            ],
        )
        await wait_for_pool(stub, "p1", 2)
        run = stub.RunMatching(matching_pb2.RunMatchingRequest(program_id="p1", request_id="r"))
        first = by_mentee(run)
        assert (first["E1"].mentor_employee_id, first["E2"].mentor_employee_id) == ("M1", "M2")
        for employee in ("M1", "E1"):
            stub.AcceptMatch(
                matching_pb2.RespondToMatchRequest(match_id=first["E1"].match_id, employee_id=employee),
                metadata=as_person(tokens, employee),
            )

        # E1's new manager is their mentor: the match ends and E1 is proposed to the other mentor.
        promoted = participant("p1", "E1", MENTEE, 4, skills=("python",), chain=("M1", "boss"))
        await publish(kafka_bootstrap, namespace, [events_pb2.ParticipantUpdated(participant=promoted)])
        seen = await wait_for_events(
            kafka_bootstrap,
            namespace,
            lambda s: len(of_type(s, ENDED)) == 1 and len(of_type(s, PROPOSED)) == 3,
        )
        (chain_end,) = of_type(seen, ENDED)
        assert chain_end.message.match.match_id == first["E1"].match_id
        assert chain_end.message.reason == "management_chain"
        rematch = of_type(seen, PROPOSED)[-1].message.match
        assert (rematch.mentee_employee_ids[0], rematch.mentor_employee_id, rematch.origin) == (
            "E1",
            "M2",
            "rematch",
        )

        # A late enrolment is proposed at once, by the incremental engine (no run).
        late = participant("p1", "E3", MENTEE, 4, skills=("python",))
        await publish(kafka_bootstrap, namespace, [events_pb2.ParticipantEnrolled(participant=late)])
        seen = await wait_for_events(kafka_bootstrap, namespace, lambda s: len(of_type(s, PROPOSED)) == 4)
        late_match = of_type(seen, PROPOSED)[-1].message.match
        assert (late_match.mentee_employee_ids[0], late_match.mentor_employee_id) == ("E3", "M1")
        assert late_match.origin == "late_enrolment"
        assert (
            metric_value(service.metrics_port, "mentoring_matching_runs_total", outcome="completed") == 1
        ), "no re-solve"

        # M2 is terminated: both of M2's matches end, seats are freed, E2 gets M1's last seat.
        gone = participant("p1", "M2", MENTOR, 8, skills=("sql",))
        gone.status = common_pb2.ENROLLMENT_STATUS_WITHDRAWN
        await publish(
            kafka_bootstrap,
            namespace,
            [
                events_pb2.ParticipantWithdrawn(
                    participant=gone, reason="terminated", cause=common_pb2.WITHDRAWAL_CAUSE_TERMINATED
                )
            ],
        )
        seen = await wait_for_events(
            kafka_bootstrap,
            namespace,
            lambda s: len(of_type(s, ENDED)) == 3 and len(of_type(s, PROPOSED)) == 5,
        )
        terminated = [item.message for item in of_type(seen, ENDED)[1:]]
        assert {m.match.mentor_employee_id for m in terminated} == {"M2"}
        assert {m.reason for m in terminated} == {"employee_terminated"}
        last = of_type(seen, PROPOSED)[-1].message.match
        assert (last.mentee_employee_ids[0], last.mentor_employee_id) == ("E2", "M1"), "E1 may never have M1"
        listed = stub.ListMatches(
            matching_pb2.ListMatchesRequest(program_id="p1", status=common_pb2.MATCH_STATUS_ENDED)
        )
        assert listed.page.total_size == 3


async def test_manual_matches_and_nominated_mentor_requests_name_the_rule_that_refused_them(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    people = [
        participant("p1", "M1", MENTOR, 12, skills=("python",)),
        participant("p1", "E1", MENTEE, 4, chain=("M1", "boss")),
        participant("p1", "E2", MENTEE, 1, skills=("cooking",)),
        participant("p1", "E3", MENTEE, 4, nominations=("MX",)),
    ]
    outsider = participant("other", "MX", MENTOR, 9, department="sales", chain=("vp",))
    with (
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as service,
        matching_stub(service, tokens) as stub,
    ):
        await publish(
            kafka_bootstrap,
            namespace,
            [
                *enrolments("p1", people),
                events_pb2.ProgramCreated(program=program("other")),
                events_pb2.ParticipantEnrolled(participant=outsider),
                events_pb2.ParticipantEnrolled(
                    participant=participant("other", "Z1", MENTEE, 3, department="sales")
                ),
            ],
        )
        await wait_for_pool(stub, "other", 1)  # MX is known to matching, from another program only
        await wait_for_pool(stub, "p1", 1)

        def manual(mentee: str, override: str = "") -> common_pb2.Match:
            return stub.CreateManualMatch(
                matching_pb2.CreateManualMatchRequest(
                    program_id="p1",
                    mentor_enrollment_id="p1:M1",
                    mentee_enrollment_ids=[f"p1:{mentee}"],
                    override_reason=override,
                    hr_actor_id="hr-7",
                ),
                metadata=bearer(hr(tokens, "acme", "hr-7")),
            )

        assert rpc_error(lambda: manual("E1", "the director insists")) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "management_chain",
        ), "a hard rule is never overridden"
        assert rpc_error(lambda: manual("E2")) == (grpc.StatusCode.FAILED_PRECONDITION, "low_score")
        created = manual("E2", "career change agreed with HR")
        assert created.status == common_pb2.MATCH_STATUS_PROPOSED and created.origin == "manual"
        assert created.override_reason == "career change agreed with HR"

        ask = matching_pb2.RequestNominatedMentorRequest(
            program_id="p1", mentee_enrollment_id="p1:E3", mentor_employee_id="MX"
        )
        as_e3 = as_person(tokens, "E3")
        assert rpc_error(lambda: stub.RequestNominatedMentor(ask, metadata=as_e3)) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "no_connection",
        )
        assert rpc_error(
            lambda: stub.IntroduceColleague(
                matching_pb2.IntroduceColleagueRequest(
                    introducer_employee_id="E3", mentee_employee_id="E3", mentor_employee_id="MX"
                ),
                metadata=as_e3,
            )
        ) == (grpc.StatusCode.FAILED_PRECONDITION, "self_introduction")
        # Z1 knows both: E3's team (the same manager) and MX's program.
        stub.IntroduceColleague(
            matching_pb2.IntroduceColleagueRequest(
                introducer_employee_id="Z1", mentee_employee_id="E3", mentor_employee_id="MX", program_id="p1"
            ),
            metadata=as_person(tokens, "Z1"),
        )
        requested = stub.RequestNominatedMentor(ask, metadata=as_e3)
        assert (requested.origin, requested.mentor_employee_id, requested.mentee_accepted) == (
            "nomination",
            "MX",
            True,
        )

        with pytest.raises(grpc.RpcError) as missing:
            stub.GetMatch(matching_pb2.GetMatchRequest(match_id="no-such-match"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND

        seen = await matching_events(kafka_bootstrap, namespace, expected=2)
        origins = sorted(item.message.match.origin for item in of_type(seen, PROPOSED))
        assert origins == ["manual", "nomination"]
        manual_event = next(i for i in of_type(seen, PROPOSED) if i.message.match.origin == "manual")
        assert manual_event.message.match.override_reason == "career change agreed with HR"
        assert (
            metric_value(
                service.metrics_port, "mentoring_matching_manual_matches_total", outcome="refused_hard"
            )
            == 1
        )
        assert (
            metric_value(
                service.metrics_port, "mentoring_matching_manual_matches_total", outcome="overridden"
            )
            == 1
        )


async def test_a_crash_loses_nothing_and_a_restart_picks_up_where_it_stopped(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    mentors = [participant("p1", f"M{k}", MENTOR, 8) for k in range(1, 5)]
    mentees = [participant("p1", f"E{k}", MENTEE, 4) for k in range(1, 4)]
    # The broker hands the crashed member's partitions over once its session times out.
    fast_failover = {"MENTORING_MATCHING_CONSUMER_SESSION_TIMEOUT_SECONDS": "8"}
    service = ServiceProcess("matching", data_dir, namespace, kafka_bootstrap, fast_failover).start()
    try:
        with matching_stub(service, tokens) as stub:
            await publish(kafka_bootstrap, namespace, enrolments("p1", [*mentors, *mentees]))
            await wait_for_pool(stub, "p1", 3)
            run = stub.RunMatching(
                matching_pb2.RunMatchingRequest(program_id="p1", request_id="before-crash")
            )
            accepted = stub.AcceptMatch(
                matching_pb2.RespondToMatchRequest(
                    match_id=run.matches[0].match_id, employee_id=run.matches[0].mentor_employee_id
                ),
                metadata=as_person(tokens, run.matches[0].mentor_employee_id),
            )
        service.kill()  # SIGKILL: nothing flushed, the relay may be mid-publication
    finally:
        service.kill()
    assert len(run.matches) == 3 and accepted.mentor_accepted

    # While it is down, a fourth mentee enrols: the consumer must apply it after the restart.
    late = participant("p1", "E4", MENTEE, 4)
    await publish(kafka_bootstrap, namespace, [events_pb2.ParticipantEnrolled(participant=late)])

    with (
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap, fast_failover) as again,
        matching_stub(again, tokens) as stub,
    ):
        assert (
            stub.RunMatching(matching_pb2.RunMatchingRequest(program_id="p1", request_id="before-crash"))
            == run
        )
        for match in run.matches:
            stored = stub.GetMatch(matching_pb2.GetMatchRequest(match_id=match.match_id))
            assert stored.status == common_pb2.MATCH_STATUS_PROPOSED
        assert stub.GetMatch(matching_pb2.GetMatchRequest(match_id=run.matches[0].match_id)).mentor_accepted

        seen = await wait_for_events(
            kafka_bootstrap,
            namespace,
            lambda s: len(of_type(s, PROPOSED)) == 4 and len(of_type(s, ACCEPTED)) == 1,
        )
        ids_per_match: dict[str, set[str]] = defaultdict(set)
        for item in seen:
            if item.ce_type == PROPOSED:
                ids_per_match[item.message.match.match_id].add(item.ce_id)
        assert all(len(ids) == 1 for ids in ids_per_match.values()), "one MatchProposed per match, by ce_id"
        assert set(ids_per_match) >= {m.match_id for m in run.matches}, "every stored proposal was published"
        late_match = of_type(seen, PROPOSED)[-1].message.match
        (free_mentor,) = {m.employee_id for m in mentors} - {m.mentor_employee_id for m in run.matches}
        assert (late_match.mentee_employee_ids[0], late_match.mentor_employee_id) == ("E4", free_mentor)
        assert late_match.origin == "late_enrolment"
        assert again.stop() == 0, again.log_tail()
