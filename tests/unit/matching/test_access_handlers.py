"""The matching handlers check the caller each RPC command carries against the program or match they load,
on a real SQLite file: another tenant's program or match is not found, like a missing one; a person of
the tenant without a right is refused with the rule's reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.matching.adapters import introduction_store
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.lifecycle import MatchRecord, Status
from services.matching.domain.runs import StoredRun
from services.matching.service_layer import answers, requests, runs
from services.matching.service_layer.commands import (
    AcceptMatch,
    CreateManualMatch,
    DeclineMatch,
    EndMatch,
    GetMatch,
    IntroduceColleague,
    ListMatches,
    PreviewMatching,
    RequestNominatedMentor,
    RunMatching,
)
from services.shared.access import DenialReason, PermissionDenied
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import NotFound
from tests.unit.matching.principals import hr, manager, person
from tests.unit.matching.test_service_handlers import MENTEE, MENTOR, POLICY, enrolled, program, setup


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


async def two_tenants(db: Database) -> None:
    """acme's p1 (managed by PM1) and beta's b1, each with two pairs; the same employee ids in both."""
    await setup(
        db,
        program("p1", manager_ids=["PM1"]),
        enrolled("M1", MENTOR, 8),
        enrolled("M2", MENTOR, 8),
        enrolled("E1", MENTEE, 4),
        enrolled("E2", MENTEE, 4),
    )
    await setup(
        db,
        program("b1", tenant="beta"),
        enrolled("M1", MENTOR, 8, program_id="b1"),
        enrolled("M2", MENTOR, 8, program_id="b1"),
        enrolled("E1", MENTEE, 4, program_id="b1"),
        enrolled("E2", MENTEE, 4, program_id="b1"),
    )
    await runs.run_matching(db, RunMatching("p1", "r", caller=hr()), policy=POLICY)
    await runs.run_matching(db, RunMatching("b1", "r", caller=hr(tenant="beta")), policy=POLICY)


async def listed(db: Database, caller: Principal, **filters: str) -> list[MatchRecord]:
    async with db.transaction() as session:
        return (await answers.list_matches(session, ListMatches(caller=caller, **filters))).items  # type: ignore[arg-type]


async def match_of(db: Database, program_id: str, mentee: str) -> MatchRecord:
    tenant = "acme" if program_id == "p1" else "beta"
    found = [
        r
        for r in await listed(db, hr(tenant=tenant), program_id=program_id)
        if r.mentees[0].employee_id == mentee
    ]
    assert len(found) == 1
    return found[0]


async def get(db: Database, caller: Principal, match_id: str) -> MatchRecord:
    async with db.transaction() as session:
        return await answers.get_match(session, GetMatch(match_id, caller=caller))


def reason(refused: pytest.ExceptionInfo[PermissionDenied]) -> DenialReason:
    return refused.value.reason


# ---- runs --------------------------------------------------------------------------------------------


async def test_a_run_is_for_hr_and_the_programs_managers_of_the_tenant(db: Database) -> None:
    await two_tenants(db)
    for caller, expected in [
        (person("E1"), DenialReason.ROLE_NOT_ALLOWED),
        (manager("PM2"), DenialReason.NOT_MANAGED),
    ]:
        with pytest.raises(PermissionDenied) as refused:
            await runs.preview_matching(db, PreviewMatching("p1", caller=caller), policy=POLICY)
        assert reason(refused) is expected
    with pytest.raises(NotFound) as elsewhere:
        await runs.run_matching(db, RunMatching("b1", "r", caller=hr()), policy=POLICY)
    with pytest.raises(NotFound) as missing:
        await runs.run_matching(db, RunMatching("nope", "r", caller=hr()), policy=POLICY)
    assert str(elsewhere.value).replace("b1", "?") == str(missing.value).replace("nope", "?"), "same shape"
    replay = await runs.run_matching(db, RunMatching("p1", "r", caller=manager("PM1")), policy=POLICY)
    assert isinstance(replay, StoredRun), "the program's manager may run (here: replay) it"
    with pytest.raises(NotFound):
        await runs.run_matching(
            db, RunMatching("p1", "r", caller=manager("PM1", tenant="beta")), policy=POLICY
        )


# ---- reading matches ---------------------------------------------------------------------------------


async def test_an_employee_lists_only_their_own_matches_of_their_tenant(db: Database) -> None:
    await two_tenants(db)
    mine = await listed(db, person("E1"))
    assert [(r.tenant, r.mentees[0].employee_id) for r in mine] == [("acme", "E1")]
    mentor = await listed(db, person("M1"))
    assert {r.tenant for r in mentor} == {"acme"} and all(r.mentor_employee_id == "M1" for r in mentor)
    assert await listed(db, person("E1"), employee_id="E1") == mine
    assert await listed(db, person("E1"), program_id="p1") == mine
    with pytest.raises(PermissionDenied) as refused:
        await listed(db, person("E1"), employee_id="E2")
    assert reason(refused) is DenialReason.NOT_YOURS
    with pytest.raises(NotFound):
        await listed(db, person("E1"), program_id="b1")


async def test_hr_and_a_programs_manager_list_its_matches_others_do_not(db: Database) -> None:
    await two_tenants(db)
    everything = await listed(db, hr())
    assert len(everything) == 2 and {r.tenant for r in everything} == {"acme"}
    assert len(await listed(db, hr(), employee_id="E2")) == 1
    assert len(await listed(db, manager("PM1"), program_id="p1")) == 2
    assert len(await listed(db, manager("PM1"))) == 2, "the programs they run"
    assert await listed(db, manager("PM2"), program_id="p1") == [], "not their program: their own only"
    assert await listed(db, hr(tenant="gamma")) == []
    with pytest.raises(NotFound):
        await listed(db, hr(tenant="beta"), program_id="p1")


async def test_a_match_is_seen_by_its_members_hr_and_its_programs_managers(db: Database) -> None:
    await two_tenants(db)
    record = await match_of(db, "p1", "E1")
    for caller in (person("E1"), person(record.mentor_employee_id), hr(), manager("PM1")):
        assert (await get(db, caller, record.match_id)).match_id == record.match_id
    for caller in (person("E2"), manager("PM2")):
        with pytest.raises(PermissionDenied) as refused:
            await get(db, caller, record.match_id)
        assert reason(refused) is DenialReason.NOT_YOURS
    for caller in (person("E1", tenant="beta"), hr(tenant="beta")):
        with pytest.raises(NotFound):
            await get(db, caller, record.match_id)


# ---- answering ---------------------------------------------------------------------------------------


async def test_a_member_answers_for_themselves_only(db: Database) -> None:
    await two_tenants(db)
    record = await match_of(db, "p1", "E1")
    async with db.transaction() as session:
        for command in (
            AcceptMatch(record.match_id, "E1", caller=person("E2")),
            DeclineMatch(record.match_id, "E1", caller=hr()),
        ):
            with pytest.raises(PermissionDenied) as refused:
                if isinstance(command, AcceptMatch):
                    await answers.accept_match(session, command)
                else:
                    await answers.decline_match(session, command, policy=POLICY)
            assert reason(refused) is DenialReason.NOT_YOURS
        with pytest.raises(NotFound):
            await answers.accept_match(
                session, AcceptMatch(record.match_id, "", caller=person("E1", tenant="beta"))
            )
        half = await answers.accept_match(session, AcceptMatch(record.match_id, "", caller=person("E1")))
    assert half.mentees[0].accepted and not half.mentor_accepted, "an empty employee id is the caller"


async def test_hr_ends_a_match_for_a_member_an_employee_only_their_own(db: Database) -> None:
    await two_tenants(db)
    record = await match_of(db, "p1", "E1")
    async with db.transaction() as session:
        for employee in ("E1", record.mentor_employee_id):
            await answers.accept_match(session, AcceptMatch(record.match_id, "", caller=person(employee)))
        with pytest.raises(PermissionDenied) as refused:
            await answers.end_match(
                session, EndMatch(record.match_id, "E1", caller=person("E2")), policy=POLICY
            )
        assert reason(refused) is DenialReason.NOT_YOURS
        with pytest.raises(NotFound):
            await answers.end_match(
                session, EndMatch(record.match_id, "E1", caller=hr(tenant="beta")), policy=POLICY
            )
        ended = await answers.end_match(session, EndMatch(record.match_id, "E1", caller=hr()), policy=POLICY)
    assert ended.status is Status.ENDED


# ---- matches made by people --------------------------------------------------------------------------


async def test_a_manual_match_is_made_by_hr_or_the_programs_manager_who_is_its_actor(db: Database) -> None:
    await setup(db, program("p1", manager_ids=["PM1"]), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4))
    await setup(db, program("b1", tenant="beta"), enrolled("M1", MENTOR, 8, program_id="b1"))

    def manual(caller: Principal, actor: str = "", program_id: str = "p1") -> CreateManualMatch:
        return CreateManualMatch(
            program_id, f"{program_id}:M1", (f"{program_id}:E1",), "agreed", actor, caller=caller
        )

    async with db.transaction() as session:
        for command, expected in [
            (manual(hr("hr-7"), "hr-8"), DenialReason.NOT_YOURS),
            (manual(person("E1")), DenialReason.ROLE_NOT_ALLOWED),
            (manual(manager("PM2")), DenialReason.NOT_MANAGED),
        ]:
            with pytest.raises(PermissionDenied) as refused:
                await requests.create_manual_match(session, command, policy=POLICY)
            assert reason(refused) is expected
        with pytest.raises(NotFound):
            await requests.create_manual_match(session, manual(hr(), program_id="b1"), policy=POLICY)
        made = await requests.create_manual_match(session, manual(manager("PM1")), policy=POLICY)
    assert made.override_by == "PM1", "the actor is the caller"


async def test_a_mentee_asks_a_nominated_mentor_for_themselves_only(db: Database) -> None:
    await setup(
        db,
        program(),
        enrolled("M1", MENTOR, 8),
        enrolled("E1", MENTEE, 4, nominations=("M1",)),
        enrolled("E2", MENTEE, 4),
    )
    ask = RequestNominatedMentor("p1", "p1:E1", "M1", caller=person("E2"))
    async with db.transaction() as session:
        with pytest.raises(PermissionDenied) as refused:
            await requests.request_nominated_mentor(session, ask, policy=POLICY)
        assert reason(refused) is DenialReason.NOT_YOURS
        with pytest.raises(NotFound):
            await requests.request_nominated_mentor(
                session,
                RequestNominatedMentor("p1", "p1:E1", "M1", caller=person("E1", tenant="beta")),
                policy=POLICY,
            )
        record = await requests.request_nominated_mentor(
            session, RequestNominatedMentor("p1", "p1:E1", "M1", caller=person("E1")), policy=POLICY
        )
    assert record.mentor_employee_id == "M1" and record.mentees[0].employee_id == "E1"


async def test_only_a_colleague_who_knows_both_introduces_them_and_only_within_the_tenant(
    db: Database,
) -> None:
    await setup(
        db,
        program("other"),
        enrolled("M9", MENTOR, 9, program_id="other", department="sales", chain=("vp",)),
        enrolled("C7", MENTEE, 4, program_id="other", chain=("boss",)),  # E1's team, M9's program
        enrolled("S1", MENTEE, 4, program_id="other", chain=("nobody",)),  # M9's program only
    )
    await setup(db, program(), enrolled("E1", MENTEE, 4, nominations=("M9",)))
    await setup(db, program("b1", tenant="beta"), enrolled("X1", MENTEE, 4, program_id="b1"))

    def intro(caller: Principal, mentee: str = "E1", introducer: str = "") -> IntroduceColleague:
        return IntroduceColleague(introducer, mentee, "M9", "p1", caller=caller)

    async with db.transaction() as session:
        for command, expected in [
            (intro(person("S1")), DenialReason.NOT_CONNECTED),
            (intro(person("STRANGER")), DenialReason.NOT_CONNECTED),
            (intro(person("S1"), introducer="C7"), DenialReason.NOT_YOURS),
        ]:
            with pytest.raises(PermissionDenied) as refused:
                await requests.introduce(session, command)
            assert reason(refused) is expected, command
        with pytest.raises(NotFound):
            await requests.introduce(session, intro(person("C7"), mentee="X1"))
        with pytest.raises(NotFound):
            await requests.introduce(session, intro(person("C7", tenant="beta")))
        with pytest.raises(NotFound):
            await requests.introduce(session, IntroduceColleague("", "E1", "M9", "b1", caller=person("C7")))
    # A refused introduction opens no way to the nominated mentor.
    async with db.transaction() as session:
        assert not await introduction_store.introduced(session, "acme", "E1", "M9", "p1")
        made = await requests.introduce(session, intro(person("C7")))
        assert made.introducer_employee_id == "C7"
        assert await introduction_store.introduced(session, "acme", "E1", "M9", "p1")
        assert not await introduction_store.introduced(session, "beta", "E1", "M9", "p1")
    async with db.transaction() as session:
        record = await requests.request_nominated_mentor(
            session, RequestNominatedMentor("p1", "p1:E1", "M9", caller=person("E1")), policy=POLICY
        )
    assert record.mentor_employee_id == "M9"


async def test_employee_ids_of_another_tenant_do_not_weigh_on_a_run(db: Database) -> None:
    """beta's M1 and E1 ended a match; acme's M1 and E1 are other people: no repeat pairing for them."""
    await setup(
        db,
        program("b1", tenant="beta"),
        enrolled("M1", MENTOR, 8, program_id="b1"),
        enrolled("E1", MENTEE, 4, program_id="b1"),
    )
    await runs.run_matching(db, RunMatching("b1", "r", caller=hr(tenant="beta")), policy=POLICY)
    beta = await match_of(db, "b1", "E1")
    async with db.transaction() as session:
        for employee in ("M1", "E1"):
            await answers.accept_match(
                session, AcceptMatch(beta.match_id, "", caller=person(employee, tenant="beta"))
            )
        await answers.end_match(
            session, EndMatch(beta.match_id, "", caller=person("E1", tenant="beta")), policy=POLICY
        )
    await setup(db, program("p1"), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4))
    preview = await runs.preview_matching(db, PreviewMatching("p1", caller=hr()), policy=POLICY)
    (match,) = preview.matches
    assert match.breakdown.get("repeat_pairing", 0.0) == 0.0
    # The same pair of acme, once ended, does count as a repeat.
    await runs.run_matching(db, RunMatching("p1", "r", caller=hr()), policy=POLICY)
    acme = await match_of(db, "p1", "E1")
    async with db.transaction() as session:
        for employee in ("M1", "E1"):
            await answers.accept_match(session, AcceptMatch(acme.match_id, "", caller=person(employee)))
        await answers.end_match(session, EndMatch(acme.match_id, "", caller=person("E1")), policy=POLICY)
    again = await runs.preview_matching(db, PreviewMatching("p1", caller=hr()), policy=POLICY)
    assert again.matches[0].breakdown["repeat_pairing"] < 0
