"""Access to the matching service as a real process on the real broker, with real Keycloak tokens: two
tenants (acme, beta) whose people share employee ids, fed by enrollment events over Kafka. For each RPC
a caller without the right is PERMISSION_DENIED with the rule's reason, another tenant's match or program
is NOT_FOUND like a missing one, and the right caller is answered."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from mentoring.v1 import common_pb2, events_pb2, matching_pb2, matching_pb2_grpc

from services.shared.envelope import encode_binary, new_event
from services.shared.topics import ce_type_of
from tests.integration.test_matching_service import participant, program, wait_until
from tests.support.identity import KeycloakTokens, Metadata, bearer, hr
from tests.support.kafka import produce_raw
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

MENTOR, MENTEE = common_pb2.ROLE_MENTOR, common_pb2.ROLE_MENTEE
DENIED, NOT_FOUND = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND
Stub = matching_pb2_grpc.MatchingServiceStub


async def publish(bootstrap: str, namespace: str, tenant: str, messages: list[Message]) -> None:
    """Enrollment events of one tenant, as the enrollment relay sends them (binary, keyed by program)."""
    records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
    for message in messages:
        event = new_event(ce_type_of(type(message)), "enrollment", message, tenant=tenant)
        headers, value = encode_binary(event)
        records.append((_program_of(message).encode(), value, headers))
    await produce_raw(bootstrap, namespace + "enrollment.events.v1", records)


def _program_of(message: Message) -> str:
    if isinstance(message, events_pb2.ProgramCreated):
        return str(message.program.program_id)
    assert isinstance(message, events_pb2.ParticipantEnrolled)
    return str(message.participant.program_id)


def acme_events() -> list[Message]:
    return [
        events_pb2.ProgramCreated(program=program("pa1", manager_ids=["PM1"])),
        *[
            events_pb2.ParticipantEnrolled(participant=p)
            for p in (
                participant("pa1", "M1", MENTOR, 8, skills=("python",)),
                participant("pa1", "M2", MENTOR, 8, skills=("sql",)),
                participant("pa1", "E1", MENTEE, 4, skills=("python",)),
                participant("pa1", "E2", MENTEE, 4, skills=("sql",), nominations=("MX",)),
            )
        ],
        # MX: a mentor known from another program only (another team); Z1 knows E2 (the same manager,
        # "boss") and MX (the same program).
        events_pb2.ProgramCreated(program=program("po")),
        events_pb2.ParticipantEnrolled(
            participant=participant("po", "MX", MENTOR, 9, department="sales", chain=("vp",))
        ),
        events_pb2.ParticipantEnrolled(participant=participant("po", "Z1", MENTEE, 3, department="sales")),
    ]


def beta_events() -> list[Message]:
    return [
        events_pb2.ProgramCreated(program=program("pb1", tenant="beta")),
        events_pb2.ParticipantEnrolled(participant=participant("pb1", "M1", MENTOR, 8, skills=("python",))),
        events_pb2.ParticipantEnrolled(participant=participant("pb1", "E1", MENTEE, 4, skills=("python",))),
    ]


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """The status code of a refused call and the reason its ErrorInfo names ("" without one)."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = raised.value
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    reason = ""
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
    return error.code(), reason  # type: ignore[attr-defined]


def not_found_text(call: Callable[[], object], named: str) -> str:
    """The NOT_FOUND message of a call, with the id it names left out (to compare message shapes)."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    assert raised.value.code() == NOT_FOUND  # type: ignore[attr-defined]
    return str(raised.value.details()).replace(named, "<id>")  # type: ignore[attr-defined]


@contextmanager
def matching_stub(process: ServiceProcess) -> Iterator[Stub]:
    """A stub without a default token: every call names its caller."""
    with process.channel() as channel:
        yield Stub(channel)


class People:
    """The call metadata of the test's people (real tokens, created in the realm on demand)."""

    def __init__(self, tokens: KeycloakTokens) -> None:
        self.tokens = tokens

    def __call__(self, employee_id: str, *roles: str, tenant: str = "acme") -> Metadata:
        return bearer(self.tokens.person(tenant, employee_id, *roles))

    def hr(self, tenant: str = "acme", employee_id: str = "HR-ADMIN") -> Metadata:
        return bearer(hr(self.tokens, tenant, employee_id))


async def pools_ready(stub: Stub, people: People) -> None:
    def previews(program_id: str, tenant: str, expected: int) -> bool:
        try:
            preview = stub.PreviewMatching(
                matching_pb2.RunMatchingRequest(program_id=program_id), metadata=people.hr(tenant), timeout=10
            )
        except grpc.RpcError as error:
            if error.code() == NOT_FOUND:  # type: ignore[attr-defined]
                return False
            raise
        return len(preview.matches) == expected

    await wait_until(
        lambda: previews("pa1", "acme", 2) and previews("po", "acme", 1) and previews("pb1", "beta", 1),
        what="both tenants' pools",
    )


async def test_each_matching_rpc_admits_only_its_callers_and_hides_other_tenants(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    people = People(tokens)
    with (
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as service,
        matching_stub(service) as stub,
    ):
        await publish(kafka_bootstrap, namespace, "acme", acme_events())
        await publish(kafka_bootstrap, namespace, "beta", beta_events())
        await pools_ready(stub, people)

        # ---- runs: by the program's manager, by HR of the other tenant --------------------------------
        def run(caller: Metadata, program_id: str = "pa1") -> matching_pb2.MatchingRun:
            return stub.RunMatching(
                matching_pb2.RunMatchingRequest(program_id=program_id, request_id="run-1"), metadata=caller
            )

        preview = stub.PreviewMatching(
            matching_pb2.RunMatchingRequest(program_id="pa1"), metadata=people("PM1", "program_manager")
        )
        assert len(preview.matches) == 2
        acme_run = run(people("PM1", "program_manager"))
        (e1_match,) = [m for m in acme_run.matches if m.mentee_employee_ids == ["E1"]]
        (beta_match,) = run(people.hr("beta"), "pb1").matches

        # ---- an employee lists only their own matches (both tenants have an E1) ----------------------
        def listed(caller: Metadata, **filters: str) -> list[common_pb2.Match]:
            return list(stub.ListMatches(matching_pb2.ListMatchesRequest(**filters), metadata=caller).matches)

        mine = listed(people("E1"))
        assert [m.match_id for m in mine] == [e1_match.match_id], "ListMatches {}: only my own matches"

        # ---- runs refused: before a replay of the same request id could answer -----------------------
        assert refusal(lambda: run(people("E1"))) == (DENIED, "ROLE_NOT_ALLOWED")
        assert refusal(lambda: run(people("PM2", "program_manager"))) == (DENIED, "NOT_MANAGED")
        assert refusal(lambda: run(people.hr("beta"))) == (NOT_FOUND, "")
        assert not_found_text(lambda: run(people.hr("beta")), "pa1") == not_found_text(
            lambda: run(people.hr("beta"), "nope1"), "nope1"
        ), "another tenant's program is not found exactly like a missing one"
        assert refusal(
            lambda: stub.PreviewMatching(
                matching_pb2.RunMatchingRequest(program_id="pa1"), metadata=people("E1")
            )
        ) == (DENIED, "ROLE_NOT_ALLOWED")

        # ---- listing and reading --------------------------------------------------------------------
        assert [m.match_id for m in listed(people("E1", tenant="beta"))] == [beta_match.match_id]
        assert refusal(lambda: listed(people("E1"), employee_id="E2")) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: listed(people("E1"), program_id="pb1")) == (NOT_FOUND, "")
        acme_all = {m.match_id for m in listed(people.hr())}
        assert acme_all == {m.match_id for m in acme_run.matches}, "HR: the tenant's matches, no other's"
        assert {m.match_id for m in listed(people("PM1", "program_manager"), program_id="pa1")} == acme_all
        assert listed(people("PM2", "program_manager"), program_id="pa1") == [], "not their program"

        def get(caller: Metadata, match_id: str = e1_match.match_id) -> common_pb2.Match:
            return stub.GetMatch(matching_pb2.GetMatchRequest(match_id=match_id), metadata=caller)

        for caller in (
            people("E1"),
            people(e1_match.mentor_employee_id),
            people.hr(),
            people("PM1", "program_manager"),
        ):
            assert get(caller).match_id == e1_match.match_id
        assert refusal(lambda: get(people("E2"))) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: get(people("E1", tenant="beta"))) == (NOT_FOUND, "")
        assert not_found_text(lambda: get(people.hr("beta")), e1_match.match_id) == not_found_text(
            lambda: get(people.hr("beta"), "no-such-match"), "no-such-match"
        )

        # ---- answering and ending -------------------------------------------------------------------
        def answer(
            rpc: str, caller: Metadata, employee_id: str = "", match_id: str = e1_match.match_id
        ) -> common_pb2.Match:
            request = matching_pb2.RespondToMatchRequest(match_id=match_id, employee_id=employee_id)
            return getattr(stub, rpc)(request, metadata=caller)  # type: ignore[no-any-return]

        assert refusal(lambda: answer("AcceptMatch", people("E2"), "E1")) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: answer("AcceptMatch", people.hr(), "E1")) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: answer("AcceptMatch", people("E1", tenant="beta"))) == (NOT_FOUND, "")
        assert answer("AcceptMatch", people("E1")).mentee_accepted, "an empty employee id is the caller"
        active = answer("AcceptMatch", people(e1_match.mentor_employee_id))
        assert active.status == common_pb2.MATCH_STATUS_ACTIVE

        assert refusal(
            lambda: answer("DeclineMatch", people("M1", tenant="beta"), "E1", beta_match.match_id)
        ) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: answer("DeclineMatch", people("E1"), match_id=beta_match.match_id)) == (
            NOT_FOUND,
            "",
        )
        declined = answer("DeclineMatch", people("E1", tenant="beta"), match_id=beta_match.match_id)
        assert declined.status == common_pb2.MATCH_STATUS_DECLINED

        def end(caller: Metadata, employee_id: str) -> common_pb2.Match:
            request = matching_pb2.EndMatchRequest(match_id=e1_match.match_id, employee_id=employee_id)
            return stub.EndMatch(request, metadata=caller)

        assert refusal(lambda: end(people("E2"), "E1")) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: end(people.hr("beta"), "E1")) == (NOT_FOUND, "")
        assert end(people.hr(), "E1").status == common_pb2.MATCH_STATUS_ENDED, "HR ends it for a member"

        # ---- a manual match -------------------------------------------------------------------------
        mentor = e1_match.mentor_employee_id  # free again; a repeat pairing, hence a reason

        def manual(caller: Metadata, actor: str = "", program_id: str = "pa1") -> common_pb2.Match:
            return stub.CreateManualMatch(
                matching_pb2.CreateManualMatchRequest(
                    program_id=program_id,
                    mentor_enrollment_id=f"{program_id}:{mentor}",
                    mentee_enrollment_ids=[f"{program_id}:E1"],
                    override_reason="agreed with both",
                    hr_actor_id=actor,
                ),
                metadata=caller,
            )

        assert refusal(lambda: manual(people("E1"))) == (DENIED, "ROLE_NOT_ALLOWED")
        assert refusal(lambda: manual(people("PM2", "program_manager"))) == (DENIED, "NOT_MANAGED")
        assert refusal(lambda: manual(people.hr(employee_id="hr-7"), actor="hr-8")) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: manual(people.hr("beta"))) == (NOT_FOUND, "")
        made = manual(people.hr(employee_id="hr-7"))
        assert (made.origin, made.status) == ("manual", common_pb2.MATCH_STATUS_PROPOSED)

        # Service accounts have nothing to do here.
        as_service = bearer(tokens.service("notification-service"))
        assert refusal(lambda: listed(as_service)) == (DENIED, "SERVICE_NOT_ALLOWED")
        assert service.stop() == 0, service.log_tail()


async def test_only_a_colleague_who_knows_both_introduces_them_and_only_that_opens_the_way(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tokens: KeycloakTokens
) -> None:
    people = People(tokens)
    with (
        ServiceProcess("matching", data_dir, namespace, kafka_bootstrap) as service,
        matching_stub(service) as stub,
    ):
        await publish(kafka_bootstrap, namespace, "acme", acme_events())
        await publish(kafka_bootstrap, namespace, "beta", beta_events())
        await pools_ready(stub, people)

        # ---- introductions and a nominated mentor ---------------------------------------------------
        def introduce(caller: Metadata, introducer: str = "", program_id: str = "pa1") -> object:
            return stub.IntroduceColleague(
                matching_pb2.IntroduceColleagueRequest(
                    introducer_employee_id=introducer,
                    mentee_employee_id="E2",
                    mentor_employee_id="MX",
                    program_id=program_id,
                ),
                metadata=caller,
            )

        def ask(caller: Metadata, mentee: str = "E2") -> common_pb2.Match:
            return stub.RequestNominatedMentor(
                matching_pb2.RequestNominatedMentorRequest(
                    program_id="pa1", mentee_enrollment_id=f"pa1:{mentee}", mentor_employee_id="MX"
                ),
                metadata=caller,
            )

        assert refusal(lambda: introduce(people("STRANGER"), introducer="STRANGER")) == (
            DENIED,
            "NOT_CONNECTED",
        )
        assert refusal(lambda: introduce(people("STRANGER"))) == (DENIED, "NOT_CONNECTED")
        assert refusal(lambda: introduce(people("E1"), introducer="Z1")) == (DENIED, "NOT_YOURS")
        assert refusal(lambda: introduce(people("Z1", tenant="beta"))) == (NOT_FOUND, "")
        assert refusal(lambda: introduce(people("Z1", tenant="beta"), program_id="")) == (NOT_FOUND, "")
        assert refusal(lambda: ask(people("E1"))) == (DENIED, "NOT_YOURS"), "E2's enrolment"
        with pytest.raises(grpc.RpcError) as closed:
            ask(people("E2"))
        assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION, (
            "no refused introduction opens the way"
        )
        introduction = introduce(people("Z1"))
        assert (
            isinstance(introduction, matching_pb2.Introduction)
            and introduction.introducer_employee_id == "Z1"
        )
        nominated = ask(people("E2"))
        assert (nominated.mentor_employee_id, nominated.origin) == ("MX", "nomination")

        assert service.stop() == 0, service.log_tail()
