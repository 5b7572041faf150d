"""Matching service handlers on a real temporary SQLite database (no mocks, no broker): runs, answers,
expiry, ending with a rematch, manual matches, nominated-mentor requests and the reactions to
enrollment events. Events are read back from the outbox the relay would publish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mentoring.v1 import common_pb2, events_pb2
from sqlalchemy import select

from services.matching.adapters import match_store, pool_store, run_store
from services.matching.adapters.translate import (
    outcome_to_wire,
    participant_from_wire,
    program_from_wire,
    run_to_wire,
    withdrawal_cause,
)
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.lifecycle import MatchRecord, Status
from services.matching.service_layer import answers, pools, requests, runs
from services.matching.service_layer.commands import (
    AcceptMatch,
    ChangeProgram,
    CloseProgram,
    CreateManualMatch,
    DeclineMatch,
    EndMatch,
    EnrollParticipant,
    EraseEmployee,
    IntroduceColleague,
    ListMatches,
    PauseParticipant,
    PreviewMatching,
    RequestNominatedMentor,
    ResumeParticipant,
    RunMatching,
    UpdateParticipant,
    WithdrawParticipant,
)
from services.matching.service_layer.policy import Policy
from services.shared.db import Database
from services.shared.errors import FailedPrecondition, InvalidArgument, NotFound
from services.shared.outbox import outbox_table
from services.shared.topics import EVENT_TYPES, ce_type_of
from tests.unit.matching.principals import hr, person

POLICY = Policy()
MENTOR, MENTEE, PEER = common_pb2.ROLE_MENTOR, common_pb2.ROLE_MENTEE, common_pb2.ROLE_PEER
PROPOSED = ce_type_of(events_pb2.MatchProposed)
ACCEPTED = ce_type_of(events_pb2.MatchAccepted)
DECLINED = ce_type_of(events_pb2.MatchDeclined)
ACTIVATED = ce_type_of(events_pb2.MatchActivated)
ENDED = ce_type_of(events_pb2.MatchEnded)


def program(program_id: str = "p1", **fields: Any) -> common_pb2.Program:
    values: dict[str, Any] = {
        "program_id": program_id,
        "tenant": "acme",
        "format": common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
        "delivery": common_pb2.DELIVERY_REMOTE,
        "mentor_capacity_default": 1,
        "status": common_pb2.PROGRAM_STATUS_OPEN,
        "response_window_hours": 48,
    }
    values.update(fields)
    return common_pb2.Program(**values)


def enrolled(
    employee_id: str,
    role: int,
    grade: int,
    *,
    program_id: str = "p1",
    department: str = "eng",
    chain: tuple[str, ...] = ("boss",),
    offers: tuple[str, ...] = (),
    wants: tuple[str, ...] = (),
    nominations: tuple[str, ...] = (),
    capacity: int = 0,
    cap_across: int = 0,
    languages: tuple[str, ...] = ("en",),
    timezone: str = "Europe/Berlin",
) -> common_pb2.Participant:
    return common_pb2.Participant(
        enrollment_id=f"{program_id}:{employee_id}",
        program_id=program_id,
        employee_id=employee_id,
        role=role,  # type: ignore[arg-type]
        grade=grade,
        department=department,
        timezone=timezone,
        management_chain_ids=list(chain),
        mentor_cap_across_programs=cap_across,
        status=common_pb2.ENROLLMENT_STATUS_ACTIVE,
        profile=common_pb2.Profile(
            languages=list(languages),
            skills_offered=list(offers),
            skills_wanted=list(wants),
            nominated_mentor_ids=list(nominations),
            capacity=capacity,
        ),
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


def now() -> datetime:
    return datetime.now(UTC)


async def setup(db: Database, prog: common_pb2.Program, *people: common_pb2.Participant) -> None:
    async with db.transaction() as session:
        await pools.program_changed(session, ChangeProgram(program_from_wire(prog)))
        for person in people:
            await pools.participant_enrolled(
                session, EnrollParticipant(participant_from_wire(person), now(), now()), policy=POLICY
            )


async def enrol(db: Database, person: common_pb2.Participant) -> None:
    async with db.transaction() as session:
        await pools.participant_enrolled(
            session, EnrollParticipant(participant_from_wire(person), now(), now()), policy=POLICY
        )


async def events(db: Database, ce_type: str | None = None) -> list[tuple[str, Any]]:
    async with db.sessions() as session:
        rows = (await session.execute(select(outbox_table).order_by(outbox_table.c.id))).all()
    found = []
    for row in rows:
        if ce_type is None or row.ce_type == ce_type:
            found.append((row.ce_type, EVENT_TYPES[row.ce_type].message.FromString(row.payload)))
    return found


async def all_matches(db: Database, program_id: str = "p1") -> list[MatchRecord]:
    async with db.transaction() as session:
        return (await answers.list_matches(session, ListMatches(program_id=program_id, caller=hr()))).items


async def run(db: Database, request_id: str = "r1", program_id: str = "p1") -> Any:
    return outcome_to_wire(
        await runs.run_matching(db, RunMatching(program_id, request_id, caller=hr()), policy=POLICY)
    )


def pairs(records: list[MatchRecord]) -> set[tuple[str, str]]:
    return {(r.mentor_employee_id, r.mentees[0].employee_id) for r in records if r.mentees}


# ---- runs ------------------------------------------------------------------------------------------


async def test_a_run_proposes_publishes_and_replays_by_request_id(db: Database) -> None:
    await setup(
        db,
        program(),
        enrolled("M1", MENTOR, 8, offers=("python",)),
        enrolled("M2", MENTOR, 8, offers=("sql",)),
        enrolled("E1", MENTEE, 4, wants=("python",)),
        enrolled("E2", MENTEE, 4, wants=("sql",)),
    )
    first = await run(db)
    assert {(m.mentor_employee_id, m.mentee_employee_ids[0]) for m in first.matches} == {
        ("M1", "E1"),
        ("M2", "E2"),
    }
    assert all(m.status == common_pb2.MATCH_STATUS_PROPOSED for m in first.matches)
    assert all(
        m.respond_by.ToDatetime() - m.proposed_at.ToDatetime() == timedelta(hours=48) for m in first.matches
    )
    assert first.quality.matched == 2 and first.quality.share_of_optimum == pytest.approx(1.0)
    assert {c.name for c in first.matches[0].breakdown} >= {"skills", "goals", "seniority_gap"}
    proposed = await events(db, PROPOSED)
    assert sorted(e.match.match_id for _, e in proposed) == sorted(m.match_id for m in first.matches)

    again = await run(db)
    assert again == first, "the same request id returns the stored run"
    assert len(await events(db, PROPOSED)) == 2, "and proposes nothing again"
    another = await run(db, "r2")
    assert another.run_id != first.run_id and not another.matches, "people in live matches are not re-matched"


async def test_preview_stores_and_publishes_nothing(db: Database) -> None:
    await setup(db, program(), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4))
    preview = run_to_wire(
        await runs.preview_matching(db, PreviewMatching("p1", "", caller=hr()), policy=POLICY)
    )
    assert preview.dry_run and len(preview.matches) == 1
    assert (
        preview.matches[0].match_id == "" and preview.matches[0].status == common_pb2.MATCH_STATUS_UNSPECIFIED
    )
    assert await all_matches(db) == [] and await events(db) == []


async def test_unmatched_come_with_reasons_and_unknown_or_closed_programs_are_refused(db: Database) -> None:
    await setup(
        db,
        program(),
        enrolled("M1", MENTOR, 8),
        enrolled("E1", MENTEE, 4, chain=("M1",)),  # reports to the only mentor
    )
    result = await run(db)
    assert not result.matches
    (unmatched,) = [u for u in result.unmatched if u.enrollment_id == "p1:E1"]
    assert unmatched.reason_code == "no_eligible_mentor" and "management_chain" in unmatched.reason
    with pytest.raises(NotFound):
        await run(db, program_id="nope")
    async with db.transaction() as session:
        await pools.program_closed(session, CloseProgram("p1"))
    with pytest.raises(FailedPrecondition) as refused:
        await run(db, "r9")
    assert refused.value.rule == "program_closed"


async def test_capacity_counts_live_matches_in_other_programs(db: Database) -> None:
    await setup(db, program("pA"), enrolled("M1", MENTOR, 8, program_id="pA", cap_across=1))
    await setup(db, program("pB"), enrolled("M1", MENTOR, 8, program_id="pB", cap_across=1))
    await enrol(db, enrolled("E1", MENTEE, 4, program_id="pA"))
    await enrol(db, enrolled("E2", MENTEE, 4, program_id="pB"))
    assert len((await run(db, program_id="pA")).matches) == 1
    result = await run(db, program_id="pB")
    assert not result.matches, "the mentor's cap across programs is used up in pA"
    reasons = {u.enrollment_id: u.reason_code for u in result.unmatched}
    assert reasons["pB:M1"] == "no_remaining_capacity"


# ---- answers ---------------------------------------------------------------------------------------


async def one_proposal(db: Database) -> MatchRecord:
    await setup(
        db, program(), enrolled("M1", MENTOR, 8), enrolled("M2", MENTOR, 7), enrolled("E1", MENTEE, 4)
    )
    await run(db)
    (record,) = [r for r in await all_matches(db) if r.status is Status.PROPOSED]
    return record


async def test_both_sides_accept_then_the_match_is_active(db: Database) -> None:
    record = await one_proposal(db)
    mentee = record.mentees[0].employee_id
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as stranger:
            await answers.accept_match(
                session, AcceptMatch(record.match_id, "someone-else", now(), caller=person("someone-else"))
            )
    assert stranger.value.rule == "not_a_participant"
    async with db.transaction() as session:
        half = await answers.accept_match(
            session,
            AcceptMatch(
                record.match_id, record.mentor_employee_id, now(), caller=person(record.mentor_employee_id)
            ),
        )
    assert half.status is Status.PROPOSED and half.mentor_accepted
    async with db.transaction() as session:
        full = await answers.accept_match(
            session, AcceptMatch(record.match_id, mentee, now(), caller=person(mentee))
        )
    assert full.status is Status.ACTIVE
    kinds = [t for t, _ in await events(db) if t != PROPOSED]
    assert kinds == [ACCEPTED, ACCEPTED, ACTIVATED]
    ((_, activated),) = await events(db, ACTIVATED)
    assert activated.match.mentor_accepted and activated.match.mentee_accepted
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as late:
            await answers.decline_match(
                session,
                DeclineMatch(record.match_id, mentee, "", now(), caller=person(mentee)),
                policy=POLICY,
            )
    assert late.value.rule == "not_pending"


async def test_a_mentor_who_declines_frees_the_seat_and_the_mentee_gets_another_mentor(db: Database) -> None:
    record = await one_proposal(db)
    async with db.transaction() as session:
        declined = await answers.decline_match(
            session,
            DeclineMatch(
                record.match_id,
                record.mentor_employee_id,
                "no time",
                now(),
                caller=person(record.mentor_employee_id),
            ),
            policy=POLICY,
        )
    assert declined.status is Status.DECLINED
    ((_, event),) = await events(db, DECLINED)
    assert event.by == common_pb2.ROLE_MENTOR and event.reason == "no time"
    assert event.cause == common_pb2.DECLINE_CAUSE_DECLINED
    live = [r for r in await all_matches(db) if r.live]
    assert len(live) == 1 and live[0].origin == "rematch"
    assert live[0].mentor_employee_id != record.mentor_employee_id, "never the mentor who declined"


async def test_proposals_expire_after_the_window_and_cannot_be_answered(db: Database) -> None:
    record = await one_proposal(db)
    later = record.respond_by + timedelta(seconds=1)
    async with db.transaction() as session:
        assert await answers.expire_batch(session, record.respond_by - timedelta(seconds=1)) == 0
    async with db.transaction() as session:
        assert await answers.expire_batch(session, later) == 1
    async with db.transaction() as session:
        expired = await answers.find_match(session, record.match_id)
        assert expired.status is Status.EXPIRED
        with pytest.raises(FailedPrecondition) as refused:
            await answers.accept_match(
                session,
                AcceptMatch(
                    record.match_id,
                    record.mentor_employee_id,
                    later,
                    caller=person(record.mentor_employee_id),
                ),
            )
    assert refused.value.rule == "not_pending"
    ((_, event),) = await events(db, DECLINED)
    assert event.reason == "expired" and event.match.status == common_pb2.MATCH_STATUS_EXPIRED
    assert event.cause == common_pb2.DECLINE_CAUSE_EXPIRED


async def activate(db: Database, record: MatchRecord) -> None:
    async with db.transaction() as session:
        await answers.accept_match(
            session,
            AcceptMatch(
                record.match_id, record.mentor_employee_id, now(), caller=person(record.mentor_employee_id)
            ),
        )
        await answers.accept_match(
            session,
            AcceptMatch(
                record.match_id,
                record.mentees[0].employee_id,
                now(),
                caller=person(record.mentees[0].employee_id),
            ),
        )


async def test_ending_at_will_with_a_rematch_proposes_another_mentor(db: Database) -> None:
    record = await one_proposal(db)
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as early:
            await answers.end_match(
                session,
                EndMatch(
                    record.match_id,
                    record.mentor_employee_id,
                    "",
                    True,
                    now(),
                    caller=person(record.mentor_employee_id),
                ),
                policy=POLICY,
            )
    assert early.value.rule == "not_active"
    await activate(db, record)
    mentee = record.mentees[0].employee_id
    async with db.transaction() as session:
        ended = await answers.end_match(
            session,
            EndMatch(record.match_id, mentee, "moving on", True, now(), caller=person(mentee)),
            policy=POLICY,
        )
    assert ended.status is Status.ENDED and ended.end_reason == "moving on"
    ((_, event),) = await events(db, ENDED)
    assert event.rematch_offered and event.by == common_pb2.ROLE_MENTEE and event.reason == "moving on"
    assert (
        event.cause == common_pb2.END_CAUSE_AT_WILL and event.match.end_cause == common_pb2.END_CAUSE_AT_WILL
    )
    rematched = [r for r in await all_matches(db) if r.live]
    assert [(r.origin, r.mentees[0].employee_id) for r in rematched] == [("rematch", mentee)]
    assert rematched[0].mentor_employee_id != record.mentor_employee_id


async def test_listing_pages_and_filters(db: Database) -> None:
    await setup(
        db,
        program(mentor_capacity_default=5),
        enrolled("M1", MENTOR, 8),
        *[enrolled(f"E{k}", MENTEE, 4) for k in range(5)],
    )
    await run(db)
    seen: list[str] = []
    token = ""
    while True:
        async with db.transaction() as session:
            page = await answers.list_matches(
                session, ListMatches(program_id="p1", page_size=2, page_token=token, caller=hr())
            )
        assert page.total_size == 5
        seen.extend(r.match_id for r in page.items)
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5
    async with db.transaction() as session:
        mine = await answers.list_matches(session, ListMatches(employee_id="E3", caller=hr()))
        active = await answers.list_matches(session, ListMatches(status=Status.ACTIVE, caller=hr()))
        with pytest.raises(InvalidArgument):
            await answers.list_matches(session, ListMatches(page_token="garbage!", caller=hr()))
    assert [r.mentees[0].employee_id for r in mine.items] == ["E3"] and active.total_size == 0


# ---- manual matches, nominations, introductions ---------------------------------------------------


async def test_manual_match_hard_rules_are_never_overridden(db: Database) -> None:
    await setup(db, program(), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4, chain=("M1", "boss")))
    command = CreateManualMatch("p1", "p1:M1", ("p1:E1",), "HR knows best", "hr-1", caller=hr("hr-1"))
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as refused:
            await requests.create_manual_match(session, command, policy=POLICY)
    assert refused.value.rule == "management_chain"
    assert await all_matches(db) == []


async def test_manual_match_soft_issue_needs_an_override_reason_which_is_recorded(db: Database) -> None:
    # No shared skill, a seniority gap far from the preferred one: a low score, yet no hard rule broken.
    await setup(
        db,
        program(),
        enrolled("M1", MENTOR, 12, offers=("sql",)),
        enrolled("E1", MENTEE, 1, wants=("python",)),
    )
    without = CreateManualMatch("p1", "p1:M1", ("p1:E1",), "", "hr-1", caller=hr("hr-1"))
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as refused:
            await requests.create_manual_match(session, without, policy=POLICY)
    assert refused.value.rule == requests.LOW_SCORE
    with_reason = CreateManualMatch(
        "p1", "p1:M1", ("p1:E1",), "  cross-training agreed ", "hr-1", caller=hr("hr-1")
    )
    async with db.transaction() as session:
        record = await requests.create_manual_match(session, with_reason, policy=POLICY)
    assert record.origin == "manual" and record.override_reason == "cross-training agreed"
    assert record.override_by == "hr-1"
    ((_, event),) = await events(db, PROPOSED)
    assert event.match.override_reason == "cross-training agreed" and event.match.origin == "manual"


async def test_manual_match_past_the_default_capacity_is_soft_but_a_declared_capacity_is_hard(
    db: Database,
) -> None:
    await setup(
        db,
        program(mentor_capacity_default=1, mentor_cap_across_programs=3),
        enrolled("M1", MENTOR, 8, offers=("python",)),
        enrolled("M2", MENTOR, 8, capacity=1, offers=("python",)),
        *[enrolled(f"E{k}", MENTEE, 5, wants=("python",)) for k in range(4)],
    )
    async with db.transaction() as session:
        for mentor, mentee in (("M1", "E0"), ("M2", "E1")):
            await requests.create_manual_match(
                session,
                CreateManualMatch("p1", f"p1:{mentor}", (f"p1:{mentee}",), "", "hr", caller=hr("hr")),
                policy=POLICY,
            )
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as soft:
            await requests.create_manual_match(
                session,
                CreateManualMatch("p1", "p1:M1", ("p1:E2",), "", "hr", caller=hr("hr")),
                policy=POLICY,
            )
    assert soft.value.rule == requests.CAPACITY_DEFAULT_EXCEEDED
    async with db.transaction() as session:
        stretched = await requests.create_manual_match(
            session,
            CreateManualMatch("p1", "p1:M1", ("p1:E2",), "mentor agreed to two", "hr", caller=hr("hr")),
            policy=POLICY,
        )
    assert stretched.override_reason == "mentor agreed to two"
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as hard:
            await requests.create_manual_match(
                session,
                CreateManualMatch("p1", "p1:M2", ("p1:E3",), "please", "hr", caller=hr("hr")),
                policy=POLICY,
            )
    assert hard.value.rule == "capacity"


async def test_a_nominated_mentor_needs_a_connection_and_an_introduction_is_one(db: Database) -> None:
    # The mentor is known from another program only; different department and manager.
    await setup(
        db,
        program("other"),
        enrolled("M9", MENTOR, 9, program_id="other", department="sales", chain=("vp",)),
        enrolled("C7", MENTEE, 4, program_id="other"),  # the introducer: E1's team, M9's program
    )
    await setup(db, program(), enrolled("E1", MENTEE, 4, nominations=("M9",)), enrolled("E2", MENTEE, 4))
    ask = RequestNominatedMentor("p1", "p1:E1", "M9", message="would love your advice", caller=person("E1"))
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as refused:
            await requests.request_nominated_mentor(session, ask, policy=POLICY)
    assert refused.value.rule == "no_connection"
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as not_nominated:
            await requests.request_nominated_mentor(
                session, RequestNominatedMentor("p1", "p1:E2", "M9", caller=person("E2")), policy=POLICY
            )
        with pytest.raises(FailedPrecondition) as self_intro:
            await requests.introduce(session, IntroduceColleague("E1", "E1", "M9", "p1", caller=person("E1")))
    assert not_nominated.value.rule == "not_nominated" and self_intro.value.rule == "self_introduction"
    async with db.transaction() as session:
        intro = await requests.introduce(
            session, IntroduceColleague("C7", "E1", "M9", "p1", "met at offsite", caller=person("C7"))
        )
        again = await requests.introduce(
            session, IntroduceColleague("C7", "E1", "M9", "p1", caller=person("C7"))
        )
    assert again.introduction_id == intro.introduction_id
    async with db.transaction() as session:
        record = await requests.request_nominated_mentor(session, ask, policy=POLICY)
    assert record.origin == "nomination" and record.mentor_employee_id == "M9"
    assert record.mentor_enrollment_id == "" and record.mentees[0].accepted and not record.mentor_accepted
    async with db.transaction() as session:
        active = await answers.accept_match(
            session, AcceptMatch(record.match_id, "M9", now(), caller=person("M9"))
        )
    assert active.status is Status.ACTIVE


async def test_a_nominated_mentor_in_the_same_department_is_asked_but_hard_rules_hold(db: Database) -> None:
    await setup(
        db,
        program("other"),
        enrolled("M9", MENTOR, 3, program_id="other"),  # same department "eng", but junior to the mentee
    )
    await setup(db, program(), enrolled("E1", MENTEE, 4, nominations=("M9",)))
    async with db.transaction() as session:
        with pytest.raises(FailedPrecondition) as refused:
            await requests.request_nominated_mentor(
                session, RequestNominatedMentor("p1", "p1:E1", "M9", caller=person("E1")), policy=POLICY
            )
    assert refused.value.rule == "seniority"


# ---- reactions to enrollment events ---------------------------------------------------------------


async def test_a_late_mentee_gets_a_proposal_only_once_the_program_ran(db: Database) -> None:
    await setup(db, program(mentor_capacity_default=3), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4))
    await enrol(db, enrolled("E0", MENTEE, 4))
    assert await all_matches(db) == [], "before the first run, enrolments only fill the pool"
    await run(db)
    await enrol(db, enrolled("E2", MENTEE, 4))
    late = [r for r in await all_matches(db) if r.origin == "late_enrolment"]
    assert [(r.mentor_employee_id, r.mentees[0].employee_id) for r in late] == [("M1", "E2")]


async def test_a_manager_change_ends_the_match_and_the_mentee_is_rematched(db: Database) -> None:
    await setup(
        db, program(), enrolled("M1", MENTOR, 8), enrolled("M2", MENTOR, 7), enrolled("E1", MENTEE, 4)
    )
    await run(db)
    (record,) = await all_matches(db)
    await activate(db, record)
    boss = record.mentor_employee_id
    async with db.transaction() as session:
        await pools.participant_updated(
            session,
            UpdateParticipant(
                participant_from_wire(enrolled("E1", MENTEE, 4, chain=(boss, "boss"))), now(), now()
            ),
            policy=POLICY,
        )
    ((_, event),) = await events(db, ENDED)
    assert event.reason == "management_chain" and event.match.match_id == record.match_id
    assert event.cause == common_pb2.END_CAUSE_MANAGEMENT_CHAIN
    after = await all_matches(db)
    assert next(r for r in after if r.match_id == record.match_id).status is Status.ENDED
    (rematched,) = [r for r in after if r.live]
    assert rematched.mentor_employee_id != boss and rematched.origin == "rematch"


async def test_a_manager_change_elsewhere_in_the_chain_leaves_the_match_alone(db: Database) -> None:
    await setup(db, program(), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4))
    await run(db)
    async with db.transaction() as session:
        await pools.participant_updated(
            session,
            UpdateParticipant(
                participant_from_wire(enrolled("E1", MENTEE, 4, chain=("new-boss",))), now(), now()
            ),
            policy=POLICY,
        )
    assert await events(db, ENDED) == []


async def test_a_termination_ends_matches_and_frees_capacity(db: Database) -> None:
    await setup(
        db, program(), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4), enrolled("E2", MENTEE, 4)
    )
    await run(db)
    (record,) = [r for r in await all_matches(db) if r.live]
    leaver = record.mentees[0].employee_id
    withdrawn = enrolled(leaver, MENTEE, 4)
    withdrawn.status = common_pb2.ENROLLMENT_STATUS_WITHDRAWN
    async with db.transaction() as session:
        await pools.participant_withdrawn(
            session,
            WithdrawParticipant(
                participant_from_wire(withdrawn),
                withdrawal_cause(common_pb2.WITHDRAWAL_CAUSE_TERMINATED),
                now(),
                now(),
            ),
            policy=POLICY,
        )
    ((_, event),) = await events(db, ENDED)
    assert event.reason == "employee_terminated" and event.by == common_pb2.ROLE_UNSPECIFIED
    assert event.cause == common_pb2.END_CAUSE_EMPLOYEE_TERMINATED
    assert event.match.end_cause == common_pb2.END_CAUSE_EMPLOYEE_TERMINATED
    other = "E2" if leaver == "E1" else "E1"
    result = await run(db, "r2")
    assert [(m.mentor_employee_id, m.mentee_employee_ids[0]) for m in result.matches] == [("M1", other)]


async def test_an_erasure_ends_matches_without_publishing_the_erased_id(db: Database) -> None:
    await setup(db, program(), enrolled("M1", MENTOR, 8), enrolled("E1", MENTEE, 4))
    await run(db)
    async with db.transaction() as session:
        await pools.employee_erased(session, EraseEmployee("E1", now()), policy=POLICY)
    ((_, event),) = await events(db, ENDED)
    assert event.reason == "employee_erased" and list(event.match.mentee_employee_ids) == [""]
    async with db.transaction() as session:
        assert await pool_store.participants_of_employee(session, "E1") == []
        assert await match_store.live_matches_of(session, "E1") == []


async def test_a_program_the_engine_refuses_still_keeps_its_enrolments(db: Database) -> None:
    reverse = program(format=common_pb2.PROGRAM_FORMAT_REVERSE)  # a reverse program must name its skill
    await setup(db, reverse, enrolled("M1", MENTOR, 3), enrolled("E1", MENTEE, 9))
    with pytest.raises(InvalidArgument) as refused:
        await run(db)
    assert refused.value.field == "program.reverse_skill"
    async with db.transaction() as session:
        await run_store.save_encoded_run(session, "earlier", "p1", "", b"", now())  # as if it had run before
    await enrol(db, enrolled("E2", MENTEE, 9))  # the late proposal fails, the enrolment does not
    async with db.transaction() as session:
        assert await pool_store.load_participant(session, "p1:E2") is not None
    assert await all_matches(db) == []


async def test_a_paused_mentor_frees_the_mentee_who_is_rematched_and_a_resumed_mentee_is_proposed(
    db: Database,
) -> None:
    await setup(
        db, program(), enrolled("M1", MENTOR, 8), enrolled("M2", MENTOR, 7), enrolled("E1", MENTEE, 4)
    )
    await run(db)
    (record,) = await all_matches(db)
    mentor = record.mentor_employee_id
    paused = enrolled(mentor, MENTOR, 8 if mentor == "M1" else 7)
    paused.status = common_pb2.ENROLLMENT_STATUS_PAUSED
    async with db.transaction() as session:
        await pools.participant_paused(
            session, PauseParticipant(participant_from_wire(paused), now(), now()), policy=POLICY
        )
    ((_, ended),) = await events(db, ENDED)
    assert ended.reason == "participant_paused" and ended.match.match_id == record.match_id
    (rematched,) = [r for r in await all_matches(db) if r.live]
    assert rematched.mentor_employee_id != mentor and rematched.mentees[0].employee_id == "E1"

    await enrol(db, enrolled("E2", MENTEE, 4))  # no mentor with room: no proposal yet
    e2_paused = enrolled("E2", MENTEE, 4)
    e2_paused.status = common_pb2.ENROLLMENT_STATUS_PAUSED
    resumed_mentor = enrolled(mentor, MENTOR, 8 if mentor == "M1" else 7)
    async with db.transaction() as session:
        await pools.participant_paused(
            session, PauseParticipant(participant_from_wire(e2_paused), now(), now()), policy=POLICY
        )
        await pools.participant_resumed(
            session, ResumeParticipant(participant_from_wire(resumed_mentor), now(), now()), policy=POLICY
        )
        await pools.participant_resumed(
            session,
            ResumeParticipant(participant_from_wire(enrolled("E2", MENTEE, 4)), now(), now()),
            policy=POLICY,
        )
    resumed = [r for r in await all_matches(db) if r.live and r.mentees[0].employee_id == "E2"]
    assert [(r.mentor_employee_id, r.origin) for r in resumed] == [(mentor, "rematch")]
