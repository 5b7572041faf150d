"""Enrollment handlers on a real SQLite file (no broker): what they store and stage in the outbox in one
transaction, the rules that need the store (idempotency, double enrolment, chains, paging), and the
HRIS lifecycle end to end through the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.protobuf import field_mask_pb2
from mentoring.v1 import common_pb2, events_pb2
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from services.enrollment.adapters import store
from services.enrollment.adapters.translate import program_edit, program_to_wire
from services.enrollment.domain import (
    ApplyOutcome,
    Cohort,
    Delivery,
    Eligibility,
    EmployeeStatus,
    EnrollmentStatus,
    EnrollmentWindow,
    Goal,
    Profile,
    ProgramFormat,
    ProgramSpec,
    ProgramStatus,
    ReportingCycle,
    Role,
    hris_event_from_scim,
)
from services.enrollment.service_layer import commands, handlers, hris
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.shared.outbox import outbox_table
from services.shared.topics import EVENT_TYPES

TENANT = "acme"
NOW = datetime(2030, 1, 10, 9, tzinfo=UTC)
WINDOW = EnrollmentWindow(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
COHORT = Cohort(date(2030, 2, 15), date(2030, 8, 31))
GOAL = Goal("Lead a design review", "reviews led", "2", date(2030, 6, 1))
PROGRAM_CREATED = "mentoring.enrollment.program.created.v1"
ENROLLED = "mentoring.enrollment.participant.enrolled.v1"
UPDATED = "mentoring.enrollment.participant.updated.v1"
PAUSED = "mentoring.enrollment.participant.paused.v1"
RESUMED = "mentoring.enrollment.participant.resumed.v1"
WITHDRAWN = "mentoring.enrollment.participant.withdrawn.v1"
ERASED = "mentoring.enrollment.employee.erased.v1"


def hr_of(tenant: str) -> Principal:
    return Principal(f"hr-{tenant}", tenant, "HR-ADMIN", None, frozenset({"employee", "hr_admin"}))


HR = hr_of(TENANT)
NOTIFICATION = Principal("svc-notification", None, None, "notification", frozenset({"contact_lookup"}))


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2029, 6, 1, tzinfo=UTC)

    def tick(self) -> str:
        self.moment += timedelta(minutes=1)
        return self.moment.isoformat()


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def feed(db: Database, event_id: str, data: dict[str, Any], clock: Clock | None = None) -> ApplyOutcome:
    record = dict(data)
    if clock is not None and "effectiveTime" not in record:
        record["effectiveTime"] = clock.tick()
    event = hris_event_from_scim(record, event_id=event_id, tenant=TENANT)
    async with db.transaction() as session:
        result = await hris.apply(session, event, causation_id=event_id, now=NOW)
    return result.outcome


async def hire(db: Database, clock: Clock, who: str, manager: str | None = None, **extra: Any) -> None:
    data = {
        "employeeNumber": who,
        "type": "HIRED",
        "name": f"Person {who}",
        "email": f"{who.lower()}@example.com",
        "grade": 6,
        "department": "Engineering",
        "location": "Berlin",
        "timezone": "Europe/Berlin",
        "languages": ["en"],
        "hireDate": "2020-01-01",
        "manager": manager,
        **extra,
    }
    assert await feed(db, f"hire-{who}", data, clock) is ApplyOutcome.APPLIED


def spec(**overrides: Any) -> ProgramSpec:
    values: dict[str, Any] = {
        "name": "Engineering mentoring",
        "format": ProgramFormat.ONE_ON_ONE,
        "delivery": Delivery.REMOTE,
        "formal": False,
        "enrollment_window": WINDOW,
        "cohort": COHORT,
    }
    return ProgramSpec(**(values | overrides))


async def create_program(db: Database, request_id: str = "", **overrides: Any) -> str:
    async with db.transaction() as session:
        program = await handlers.create_program(
            session,
            commands.CreateProgram(
                TENANT, spec(**overrides), request_id=request_id, fingerprint="f", caller=HR
            ),
            now=NOW,
        )
    return program.program_id


async def enrol(db: Database, program_id: str, who: str, role: Role, profile: Profile | None = None) -> str:
    async with db.transaction() as session:
        enrollment = await handlers.enrol(
            session, commands.Enrol(program_id, who, role, profile or Profile(), caller=HR), now=NOW
        )
    return enrollment.enrollment_id


async def outbox(db: Database) -> list[tuple[str, str, Any]]:
    """(ce_type, key, decoded message) of every staged event, in order."""
    async with db.transaction() as session:
        rows = await session.execute(
            select(outbox_table.c.ce_type, outbox_table.c.key, outbox_table.c.payload).order_by(
                outbox_table.c.id
            )
        )
    return [
        (ce_type, key.decode(), EVENT_TYPES[ce_type].message.FromString(payload))
        for ce_type, key, payload in rows.tuples()
    ]


async def outbox_mark(db: Database) -> int:
    return len(await outbox(db))


async def test_program_create_is_idempotent_by_request_id_and_stages_one_event(database: Database) -> None:
    first = await create_program(database, request_id="r-1")
    assert await create_program(database, request_id="r-1") == first
    staged = await outbox(database)
    assert [(ce_type, key) for ce_type, key, _ in staged] == [
        ("mentoring.enrollment.program.created.v1", first)
    ]
    assert staged[0][2].program.name == "Engineering mentoring"
    with pytest.raises(InvalidArgument) as raised:
        async with database.transaction() as session:
            await handlers.create_program(
                session,
                commands.CreateProgram(TENANT, spec(), request_id="r-1", fingerprint="other", caller=HR),
                now=NOW,
            )
    assert raised.value.field == "request_id"


async def test_invalid_program_names_the_request_field(database: Database) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await create_program(database, cap_per_mentor=1, mentor_capacity_default=2)
    assert raised.value.field == "program.mentor_cap_across_programs"
    assert await outbox(database) == []


async def test_update_with_a_nested_mask_changes_only_that_part_and_opens_a_draft(database: Database) -> None:
    async with database.transaction() as session:
        draft = await handlers.create_program(
            session,
            commands.CreateProgram(
                TENANT,
                spec(eligibility=Eligibility(departments=frozenset({"Sales"}))),
                draft=True,
                caller=HR,
            ),
            now=NOW,
        )
    assert draft.status is ProgramStatus.DRAFT
    wire = common_pb2.Program(
        name="ignored: not in the mask",
        eligibility=common_pb2.Eligibility(min_grade=4),
        status=common_pb2.PROGRAM_STATUS_OPEN,
    )
    async with database.transaction() as session:
        updated = await handlers.update_program(
            session,
            commands.UpdateProgram(
                draft.program_id, program_edit(wire, ["eligibility.min_grade", "status"]), caller=HR
            ),
            now=NOW,
        )
    assert updated.status is ProgramStatus.OPEN
    assert updated.spec.name == "Engineering mentoring"
    assert updated.spec.eligibility.grade_min == 4
    assert updated.spec.eligibility.departments == frozenset({"Sales"})
    types = [ce_type for ce_type, _, _ in await outbox(database)]
    assert types == [
        "mentoring.enrollment.program.created.v1",
        "mentoring.enrollment.program.updated.v1",
        "mentoring.enrollment.program.updated.v1",
    ]
    reread = program_to_wire(updated)
    assert reread.eligibility.min_grade == 4 and reread.status == common_pb2.PROGRAM_STATUS_OPEN
    assert field_mask_pb2.FieldMask(paths=["eligibility.min_grade"]).IsValidForDescriptor(
        common_pb2.Program.DESCRIPTOR
    )


async def test_enrolment_rules_that_need_the_store(database: Database, clock: Clock) -> None:
    await hire(database, clock, "M1")
    await hire(database, clock, "E1", manager="M1")
    program_id = await create_program(database, formal=True)
    with pytest.raises(NotFound):
        await enrol(database, program_id, "NOBODY", Role.MENTEE, Profile(goals=(GOAL,)))
    with pytest.raises(NotFound):
        await enrol(database, "no-such-program", "E1", Role.MENTEE, Profile(goals=(GOAL,)))
    with pytest.raises(FailedPrecondition) as raised:
        await enrol(database, program_id, "E1", Role.MENTEE, Profile(goals=(Goal("Grow"),)))
    assert raised.value.rule == "formal_goals_required"
    with pytest.raises(InvalidArgument) as invalid:
        await enrol(database, program_id, "E1", Role.MENTEE, Profile(goals=(GOAL,), nominations=("E1",)))
    assert invalid.value.field == "profile.nominated_mentor_ids[0]"
    refusals = {
        ("GHOST",): "profile.nominated_mentor_ids[0]",
        ("M2", "M1"): "management_chain",  # the mentee's own manager
        ("GONE",): "nominee_not_employed",
    }
    await hire(database, clock, "M2")
    await hire(database, clock, "GONE")
    assert await feed(database, "gone", {"employeeNumber": "GONE", "type": "TERMINATED"}, clock) is (
        ApplyOutcome.APPLIED
    )
    for nominations, refusal in refusals.items():
        with pytest.raises((InvalidArgument, FailedPrecondition)) as refused:
            await enrol(
                database, program_id, "E1", Role.MENTEE, Profile(goals=(GOAL,), nominations=nominations)
            )
        error = refused.value
        assert (error.field if isinstance(error, InvalidArgument) else error.rule) == refusal, nominations
    enrollment_id = await enrol(database, program_id, "E1", Role.MENTEE, Profile(goals=(GOAL,)))
    with pytest.raises(AlreadyExists):
        await enrol(database, program_id, "E1", Role.MENTOR)
    staged = [entry for entry in await outbox(database) if entry[0] == ENROLLED]
    assert len(staged) == 1
    participant = staged[0][2].participant
    assert participant.enrollment_id == enrollment_id
    assert list(participant.management_chain_ids) == ["M1"]
    assert participant.profile.goals[0].goal_id == "g1"
    assert "@" not in str(staged[0][2]) and "Person" not in str(staged[0][2])


async def test_enrolment_retried_with_its_request_id_returns_the_first(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "E1")
    program_id = await create_program(database)
    command = commands.Enrol(
        program_id, "E1", Role.MENTOR, Profile(), request_id="q-1", fingerprint="x", caller=HR
    )
    async with database.transaction() as session:
        first = await handlers.enrol(session, command, now=NOW)
    async with database.transaction() as session:
        again = await handlers.enrol(session, command, now=NOW)
    assert again.enrollment_id == first.enrollment_id
    assert [entry[0] for entry in await outbox(database)].count(ENROLLED) == 1


async def test_closed_program_refuses_enrolment(database: Database, clock: Clock) -> None:
    await hire(database, clock, "E1")
    program_id = await create_program(database)
    async with database.transaction() as session:
        closed = await handlers.close_program(
            session, commands.CloseProgram(program_id, "cohort full", caller=HR), now=NOW
        )
        assert await store.closed_reason(session, program_id) == "cohort full"
    assert closed.status is ProgramStatus.CLOSED
    with pytest.raises(FailedPrecondition) as raised:
        await enrol(database, program_id, "E1", Role.MENTOR)
    assert raised.value.rule == "program_closed"


async def test_manager_hired_after_reports_extends_their_published_chains(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "E1", manager="M1")
    await hire(database, clock, "E2", manager="E1")
    program_id = await create_program(database)
    await enrol(database, program_id, "E2", Role.MENTEE)
    mark = await outbox_mark(database)
    await hire(database, clock, "M1", manager="CEO")
    updates = (await outbox(database))[mark:]
    assert [(ce_type, key) for ce_type, key, _ in updates] == [(UPDATED, program_id)]
    assert list(updates[0][2].participant.management_chain_ids) == ["E1", "M1", "CEO"]


async def test_reporting_cycle_is_refused_and_nothing_changes(database: Database, clock: Clock) -> None:
    await hire(database, clock, "A")
    await hire(database, clock, "B", manager="A")
    await hire(database, clock, "C", manager="B")
    with pytest.raises(ReportingCycle) as raised:
        await feed(database, "cycle", {"employeeNumber": "A", "type": "TRANSFERRED", "manager": "C"}, clock)
    assert raised.value.field == "manager"
    async with database.transaction() as session:
        a = await store.get_employee(session, TENANT, "A")
    assert a is not None and a.manager_id is None


async def test_reordered_update_never_regresses_and_field_versions_survive_the_store(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "E1")
    older, newer = clock.tick(), clock.tick()
    update = {"employeeNumber": "E1", "type": "UPDATED"}
    assert (
        await feed(database, "t2", {**update, "effectiveTime": newer, "title": "Lead"})
        is ApplyOutcome.APPLIED
    )
    stale = {**update, "effectiveTime": older, "title": "Intern"}
    assert await feed(database, "t1", stale) is ApplyOutcome.STALE
    merged = {**update, "effectiveTime": older, "division": "Platform"}
    assert await feed(database, "d1", merged) is ApplyOutcome.MERGED
    async with database.transaction() as session:
        employee = await store.get_employee(session, TENANT, "E1")
    assert employee is not None
    assert (employee.title, employee.division) == ("Lead", "Platform")
    assert employee.field_versions["title"].effective_time == datetime.fromisoformat(newer)


async def test_leave_return_termination_and_erasure_through_the_store(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "M1")
    await hire(database, clock, "E1", manager="M1")
    await hire(database, clock, "E2", manager="E1")
    first = await create_program(database)
    second = await create_program(database, format=ProgramFormat.PEER, name="Peers")
    mentoring = await enrol(database, first, "E1", Role.MENTOR)
    await enrol(database, second, "E1", Role.PEER)
    await enrol(database, first, "E2", Role.MENTEE)

    mark = await outbox_mark(database)
    await feed(database, "leave", {"employeeNumber": "E1", "type": "LEAVE_STARTED"}, clock)
    paused = (await outbox(database))[mark:]
    assert [ce_type for ce_type, _, _ in paused] == [PAUSED, PAUSED]
    for _, key, message in paused:
        assert message.participant.status == common_pb2.ENROLLMENT_STATUS_PAUSED
        assert message.participant.grade == 6 and message.participant.program_id == key
        assert message.cause == common_pb2.PAUSE_CAUSE_LEAVE

    mark = await outbox_mark(database)
    await feed(database, "return", {"employeeNumber": "E1", "type": "LEAVE_ENDED"}, clock)
    assert [ce_type for ce_type, _, _ in (await outbox(database))[mark:]] == [RESUMED, RESUMED]

    mark = await outbox_mark(database)
    async with database.transaction() as session:
        await handlers.withdraw_enrollment(
            session, commands.WithdrawEnrollment(mentoring, caller=HR), now=NOW
        )
    (requested,) = (await outbox(database))[mark:]
    assert requested[2].cause == common_pb2.WITHDRAWAL_CAUSE_REQUESTED

    mark = await outbox_mark(database)
    await feed(database, "erase", {"employeeNumber": "E1", "type": "ERASED"}, clock)
    erased = (await outbox(database))[mark:]
    # The live peer enrollment is withdrawn; the tombstone goes to both programs, after the withdrawal;
    # the report below E1 gets a chain that now stops at the tombstone.
    order = [(ce_type, key) for ce_type, key, _ in erased]
    assert order[0] == (WITHDRAWN, second)
    assert set(order[1:3]) == {(ERASED, first), (ERASED, second)}
    assert order[3:] == [(UPDATED, first)]
    assert erased[0][2].reason == "erased"
    assert erased[0][2].cause == common_pb2.WITHDRAWAL_CAUSE_ERASED
    assert list(erased[3][2].participant.management_chain_ids) == ["E1"]
    async with database.transaction() as session:
        tombstone = await store.get_employee(session, TENANT, "E1")
        left = await store.enrollments_of_employee(session, TENANT, "E1")
    assert tombstone is not None and tombstone.status is EmployeeStatus.ERASED
    assert (tombstone.display_name, tombstone.email, tombstone.department) == (None, None, None)
    assert all(e.status is EnrollmentStatus.WITHDRAWN and e.profile.goals == () for e in left)
    rehire = {"employeeNumber": "E1", "type": "REHIRED", "name": "Back again"}
    assert await feed(database, "rehire", rehire, clock) is ApplyOutcome.ERASED_IGNORED

    mark = await outbox_mark(database)
    await feed(database, "fire", {"employeeNumber": "E2", "type": "TERMINATED"}, clock)
    fired = (await outbox(database))[mark:]
    assert [(ce_type, message.reason) for ce_type, _, message in fired] == [(WITHDRAWN, "terminated")]
    assert [message.cause for _, _, message in fired] == [common_pb2.WITHDRAWAL_CAUSE_TERMINATED]


async def test_erasure_of_someone_never_enrolled_is_keyed_by_employee(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "E9")
    await feed(database, "erase-9", {"employeeNumber": "E9", "type": "ERASED"}, clock)
    staged = await outbox(database)
    assert [(ce_type, key) for ce_type, key, _ in staged] == [(ERASED, f"{TENANT}:E9")]
    assert isinstance(staged[0][2], events_pb2.EmployeeErased) and staged[0][2].employee_id == "E9"


async def mark_all_published(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(update(outbox_table).values(published_at=NOW))


async def test_erasure_deletes_the_published_events_about_the_person(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "E1")
    await hire(database, clock, "E2")
    program_id = await create_program(database)
    erased_enrollment = await enrol(database, program_id, "E1", Role.MENTEE, Profile(goals=(GOAL,)))
    kept_enrollment = await enrol(database, program_id, "E2", Role.MENTOR)
    await mark_all_published(database)
    await feed(database, "promote", {"employeeNumber": "E1", "type": "UPDATED", "grade": 7}, clock)
    before = REGISTRY.get_sample_value("mentoring_enrollment_erased_outbox_rows_total") or 0.0

    await feed(database, "erase", {"employeeNumber": "E1", "type": "ERASED"}, clock)

    async with database.transaction() as session:
        rows = await session.execute(
            select(
                outbox_table.c.ce_type,
                outbox_table.c.ce_subject,
                outbox_table.c.published_at,
                outbox_table.c.forget_after_publish,
            ).order_by(outbox_table.c.id)
        )
        left = [(ce_type, subject, sent is not None, bool(forget)) for ce_type, subject, sent, forget in rows]
    # E1's published ParticipantEnrolled (profile and goals) is gone; the update still waiting for the
    # relay goes out first and is deleted once sent; the program's and E2's events stay; so do the
    # erasure's own withdrawal and tombstone.
    assert left == [
        (PROGRAM_CREATED, program_id, True, False),
        (ENROLLED, kept_enrollment, True, False),
        (UPDATED, erased_enrollment, False, True),
        (WITHDRAWN, erased_enrollment, False, False),
        (ERASED, "E1", False, False),
    ]
    assert (REGISTRY.get_sample_value("mentoring_enrollment_erased_outbox_rows_total") or 0.0) - before == 1


async def test_participants_are_paged_with_opaque_tokens(database: Database, clock: Clock) -> None:
    program_id = await create_program(database, format=ProgramFormat.PEER)
    for index in range(7):
        await hire(database, clock, f"P{index}")
        await enrol(database, program_id, f"P{index}", Role.PEER)
    seen: list[str] = []
    token = ""
    while True:
        async with database.transaction() as session:
            page = await handlers.list_participants(
                session, commands.ListParticipants(program_id, page_size=3, page_token=token, caller=HR)
            )
        assert page.total_size == 7
        seen.extend(participant.employee_id for participant in page.items)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == [f"P{index}" for index in range(7)]
    other = await create_program(database)
    with pytest.raises(InvalidArgument) as raised:
        async with database.transaction() as session:
            first = await handlers.list_participants(
                session, commands.ListParticipants(program_id, page_size=3, caller=HR)
            )
            await handlers.list_participants(
                session, commands.ListParticipants(other, page_token=first.next_page_token, caller=HR)
            )
    assert raised.value.field == "page.page_token"


async def test_programs_are_listed_per_tenant_and_filtered(database: Database) -> None:
    ids = [await create_program(database, name=f"P{index}") for index in range(5)]
    await create_program(database, format=ProgramFormat.PEER, name="Peer")
    async with database.transaction() as session:
        first = await handlers.list_programs(
            session,
            commands.ListPrograms(TENANT, program_format=ProgramFormat.ONE_ON_ONE, page_size=3, caller=HR),
        )
        second = await handlers.list_programs(
            session,
            commands.ListPrograms(
                TENANT,
                program_format=ProgramFormat.ONE_ON_ONE,
                page_size=3,
                page_token=first.next_page_token,
                caller=HR,
            ),
        )
        other_tenant = await handlers.list_programs(
            session, commands.ListPrograms("globex", caller=hr_of("globex"))
        )
    assert [p.program_id for p in first.items + second.items] == sorted(ids)  # same instant: by id
    assert first.total_size == 5 and second.next_page_token == ""
    assert other_tenant.items == [] and other_tenant.total_size == 0


async def test_contact_look_up(database: Database, clock: Clock) -> None:
    await hire(database, clock, "E1")
    async with database.transaction() as session:
        contact = await handlers.look_up_contact(
            session, commands.LookUpContact("E1", tenant=TENANT, caller=NOTIFICATION)
        )
        assert (contact.display_name, contact.email) == ("Person E1", "e1@example.com")
        with pytest.raises(NotFound):
            await handlers.look_up_contact(
                session, commands.LookUpContact("E1", tenant="globex", caller=NOTIFICATION)
            )
        with pytest.raises(InvalidArgument):
            await handlers.look_up_contact(
                session, commands.LookUpContact(" ", tenant=TENANT, caller=NOTIFICATION)
            )


async def test_a_nominee_who_left_since_does_not_block_an_unrelated_profile_update(
    database: Database, clock: Clock
) -> None:
    await hire(database, clock, "E1")
    await hire(database, clock, "M2")
    await hire(database, clock, "GONE")
    program_id = await create_program(database, formal=True)
    profile = Profile(goals=(GOAL,), nominations=("M2",))
    enrollment_id = await enrol(database, program_id, "E1", Role.MENTEE, profile)
    assert await feed(database, "left", {"employeeNumber": "M2", "type": "TERMINATED"}, clock) is (
        ApplyOutcome.APPLIED
    )
    async with database.transaction() as session:
        kept = replace(profile, skills_wanted=("kafka",))
        updated = await handlers.update_enrollment(
            session, commands.UpdateEnrollment(enrollment_id, kept, caller=HR), now=NOW
        )
    assert updated.profile.nominations == ("M2",) and updated.profile.skills_wanted == ("kafka",)
    await feed(database, "gone", {"employeeNumber": "GONE", "type": "TERMINATED"}, clock)
    added = replace(profile, nominations=("M2", "GONE"))
    with pytest.raises(FailedPrecondition) as refused:
        async with database.transaction() as session:
            await handlers.update_enrollment(
                session, commands.UpdateEnrollment(enrollment_id, added, caller=HR), now=NOW
            )
    assert refused.value.rule == "nominee_not_employed"
