"""The matching service's access rules that need no database: the access table (who may knock at each
RPC) and the connection rule of introductions (an introducer must know both people)."""

from __future__ import annotations

import pytest
from mentoring.v1 import matching_pb2

from services.matching.domain.enrollments import Program
from services.matching.domain.introductions import Acquaintance, connected, knows
from services.matching.entrypoints.access import ACCESS
from services.matching.entrypoints.grpc_servicer import MatchingServicer
from services.matching.service_layer.callers import actor_of, ending_for, manages
from services.shared.access import DenialReason, PermissionDenied
from tests.unit.matching.principals import hr, manager, person, service

RUNS = ("RunMatching", "PreviewMatching", "CreateManualMatch")


def test_the_servicer_is_guarded_by_a_table_naming_every_rpc() -> None:
    assert getattr(MatchingServicer, "access_table", None) is ACCESS
    methods = {m.name for m in matching_pb2.DESCRIPTOR.services_by_name["MatchingService"].methods}
    assert {name for name, _ in ACCESS.rows()} == methods
    assert {name for name, rule in ACCESS.rows() if rule.audited} == {"RunMatching", "CreateManualMatch"}


@pytest.mark.parametrize("method", RUNS)
def test_runs_and_manual_matches_admit_hr_and_program_managers_only(method: str) -> None:
    ACCESS.check(method, hr())
    ACCESS.check(method, manager("PM1"))
    with pytest.raises(PermissionDenied) as refused:
        ACCESS.check(method, person("E1"))
    assert refused.value.reason is DenialReason.ROLE_NOT_ALLOWED


@pytest.mark.parametrize("method", [m.name for m in ACCESS.service.methods])
def test_no_service_account_may_call_matching(method: str) -> None:
    with pytest.raises(PermissionDenied) as refused:
        ACCESS.check(method, service("notification", "contact_lookup"))
    assert refused.value.reason is DenialReason.SERVICE_NOT_ALLOWED


@pytest.mark.parametrize("method", sorted({m.name for m in ACCESS.service.methods} - set(RUNS)))
def test_every_person_may_ask_about_their_own_matches(method: str) -> None:
    ACCESS.check(method, person("E1"))


def test_a_program_is_managed_by_hr_and_the_managers_it_names() -> None:
    program = Program("p1", tenant="acme", manager_ids=("PM1",))
    assert manages(hr(), program) and manages(manager("PM1"), program)
    assert not manages(manager("PM2"), program), "a manager of other programs"
    assert not manages(person("PM1"), program), "named, but without the program_manager role"


def test_the_actor_of_a_manual_match_is_the_caller() -> None:
    assert actor_of(hr("hr-7"), "") == "hr-7"
    assert actor_of(hr("hr-7"), "hr-7") == "hr-7"
    with pytest.raises(PermissionDenied) as refused:
        actor_of(hr("hr-7"), "hr-8")
    assert refused.value.reason is DenialReason.NOT_YOURS


def test_hr_ends_a_match_for_a_member_an_employee_only_for_themselves() -> None:
    assert ending_for(hr(), "E1") == "E1"
    assert ending_for(person("E1"), "") == "E1"
    with pytest.raises(PermissionDenied) as refused:
        ending_for(person("E1"), "E2")
    assert refused.value.reason is DenialReason.NOT_YOURS


# ---- the connection rule of introductions ------------------------------------------------------------

MENTEE = Acquaintance("E1", chain=("boss", "vp"), programs=frozenset({"p1"}))
MENTOR = Acquaintance("M1", chain=("lead", "vp"), programs=frozenset({"p2"}))


@pytest.mark.parametrize(
    ("colleague", "why"),
    [
        (Acquaintance("C1", chain=("boss", "vp")), "same team: the same direct manager"),
        (Acquaintance("boss"), "in the person's management line (unknown to matching otherwise)"),
        (Acquaintance("vp"), "a skip-level manager is in the line too"),
        (Acquaintance("C2", chain=("E1", "boss")), "a report of the person"),
        (Acquaintance("C3", chain=("x",), programs=frozenset({"p1", "p9"})), "a shared program"),
    ],
)
def test_a_colleague_knows_a_person(colleague: Acquaintance, why: str) -> None:
    assert knows(colleague, MENTEE), why


@pytest.mark.parametrize(
    ("colleague", "why"),
    [
        (Acquaintance("C9"), "unknown to matching, in nobody's line"),
        (Acquaintance("C8", chain=("vp",)), "a peer of the manager is not the same team"),
        (Acquaintance("C7", chain=("other",), programs=frozenset({"p2"})), "another program only"),
        (Acquaintance("C6", chain=(), programs=frozenset()), "no chain at all"),
    ],
)
def test_a_colleague_does_not_know_a_person(colleague: Acquaintance, why: str) -> None:
    assert not knows(colleague, MENTEE), why


def test_an_introducer_must_know_both_people() -> None:
    both = Acquaintance("C1", chain=("boss",), programs=frozenset({"p2"}))  # E1's team, M1's program
    mentee_only = Acquaintance("C2", chain=("boss",))
    mentor_only = Acquaintance("C3", programs=frozenset({"p2"}))
    assert connected(both, MENTEE, MENTOR)
    assert not connected(mentee_only, MENTEE, MENTOR)
    assert not connected(mentor_only, MENTEE, MENTOR)
    assert connected(Acquaintance("vp"), MENTEE, MENTOR), "the manager of both"
