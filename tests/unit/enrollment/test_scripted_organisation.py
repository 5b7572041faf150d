"""A generated organisation of a few hundred employees driven through the pure domain.

Part 1 checks convergence: the same HRIS history delivered shuffled and with duplicates ends in the
state an in-order replay gives, and no delivery ever moves a field backwards. Part 2 plays the
handler's part (inbox, directory, enrollments, outbox, DLQ in dictionaries) through a scripted day:
CSV load, managers hired after their reports, leave and return, termination, erasure, a reporting
cycle, malformed records, redeliveries.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta

import pytest

from services.enrollment.domain import (
    CSV_COLUMNS,
    ApplyOutcome,
    Cohort,
    Delivery,
    DomainEvent,
    Employee,
    EmployeeErased,
    EmployeeStatus,
    Enrollment,
    EnrollmentBatch,
    EnrollmentStatus,
    EnrollmentWindow,
    Goal,
    HrisEvent,
    HrisEventType,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
    Profile,
    Program,
    ProgramFormat,
    ProgramSpec,
    RefreshReportsChains,
    ReportsIndex,
    Role,
    apply_effects,
    apply_hris_event,
    create_program,
    enrol,
    hris_event_from_csv_row,
    hris_event_from_scim,
    management_chain,
    refresh_participants,
    withdraw,
)
from services.enrollment.domain.profile import EMPTY_PROFILE
from services.shared.errors import InvalidArgument

TENANT = "acme"
BASE = datetime(2025, 1, 1, tzinfo=UTC)
LOCATIONS = {
    "London": "Europe/London",
    "Paris": "Europe/Paris",
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "Singapore": "Asia/Singapore",
}
DEPARTMENTS = ("Engineering", "Sales", "Finance", "People", "Legal", "Support")
DIVISIONS = ("Product", "Go-to-market", "Operations")
SKILLS = ("python", "sql", "negotiation", "leadership", "design", "public speaking", "kotlin", "accounting")
LANGUAGES = ("en", "fr", "de", "es", "ja")
SCIM_KEYS = {
    "display_name": "name",
    "email": "email",
    "title": "title",
    "grade": "grade",
    "department": "department",
    "division": "division",
    "organization": "organization",
    "cost_center": "costCenter",
    "location": "location",
    "timezone": "timezone",
    "languages": "languages",
    "skills": "skills",
    "hire_date": "hireDate",
    "termination_date": "terminationDate",
    "manager_id": "manager",
}
IMPLIED_STATUS = {
    HrisEventType.HIRED: EmployeeStatus.ACTIVE,
    HrisEventType.REHIRED: EmployeeStatus.ACTIVE,
    HrisEventType.LEAVE_STARTED: EmployeeStatus.ON_LEAVE,
    HrisEventType.LEAVE_ENDED: EmployeeStatus.ACTIVE,
    HrisEventType.TERMINATED: EmployeeStatus.TERMINATED,
}
ATTRIBUTES = tuple(
    f.name for f in fields(Employee) if f.name not in {"tenant", "employee_id", "version", "field_versions"}
)


@dataclass(frozen=True)
class Step:
    """One HRIS change as the source system knows it (domain attribute names)."""

    event_id: str
    employee_id: str
    kind: HrisEventType
    when: datetime
    sequence: int
    attributes: dict[str, object]


def employee_id(index: int) -> str:
    return f"E{index:04d}"


def hire_attributes(rng: random.Random, index: int, when: datetime) -> dict[str, object]:
    location = rng.choice(sorted(LOCATIONS))
    return {
        "display_name": f"Name-{index}",
        "email": f"user{index}@example.com",
        "title": rng.choice(("Analyst", "Engineer", "Manager", "Director")),
        "grade": rng.randint(1, 12),
        "department": rng.choice(DEPARTMENTS),
        "division": rng.choice(DIVISIONS),
        "organization": "Acme",
        "cost_center": f"CC{rng.randint(1, 9)}",
        "location": location,
        "timezone": LOCATIONS[location],
        "languages": tuple(sorted(rng.sample(LANGUAGES, rng.randint(1, 2)))),
        "skills": tuple(sorted(rng.sample(SKILLS, rng.randint(0, 3)))),
        "hire_date": when.date(),
        "manager_id": None if index == 0 else employee_id(rng.randrange(index)),
    }


def generate_history(rng: random.Random, size: int) -> list[Step]:
    """Managers always have a lower index, so no delivery order can form a cycle; hire times are
    random, so many managers are hired after their reports.
    """
    steps: list[Step] = []
    for index in range(size):
        who = employee_id(index)
        counter = itertools.count()
        when = BASE + timedelta(days=rng.uniform(0, 365))

        def add(kind: HrisEventType, at: datetime, sequence: int = 0, **attributes: object) -> None:
            steps.append(Step(f"{who}-{next(counter)}", who, kind, at, sequence, attributes))  # noqa: B023

        add(HrisEventType.HIRED, when, **hire_attributes(rng, index, when))
        for _ in range(rng.randint(0, 3)):
            when += timedelta(days=rng.uniform(1, 60))
            update: dict[str, object] = {}
            if rng.random() < 0.5:
                update["title"] = rng.choice(("Senior Analyst", "Lead", None))
            if rng.random() < 0.5:
                update["grade"] = rng.randint(1, 12)
            if rng.random() < 0.3:
                location = rng.choice(sorted(LOCATIONS))
                update |= {"location": location, "timezone": LOCATIONS[location]}
            if rng.random() < 0.3:
                update["skills"] = tuple(sorted(rng.sample(SKILLS, rng.randint(0, 3))))
            if rng.random() < 0.2:
                update["email"] = f"user{index}.new@example.com"
            add(HrisEventType.UPDATED, when, **update)
        if rng.random() < 0.05:  # two changes stamped with the same instant: the sequence decides
            when += timedelta(days=1)
            add(HrisEventType.UPDATED, when, 1, grade=3)
            add(HrisEventType.UPDATED, when, 2, grade=4)
        if index > 0 and rng.random() < 0.3:
            when += timedelta(days=rng.uniform(1, 60))
            transfer: dict[str, object] = {"department": rng.choice(DEPARTMENTS)}
            if rng.random() < 0.7:
                transfer["manager_id"] = employee_id(rng.randrange(index))
            add(HrisEventType.TRANSFERRED, when, **transfer)
        if rng.random() < 0.12:
            when += timedelta(days=rng.uniform(1, 60))
            add(HrisEventType.LEAVE_STARTED, when)
            if rng.random() < 0.8:
                when += timedelta(days=rng.uniform(10, 90))
                add(HrisEventType.LEAVE_ENDED, when)
        if rng.random() < 0.1:
            when += timedelta(days=rng.uniform(1, 60))
            add(HrisEventType.TERMINATED, when, termination_date=when.date())
            if rng.random() < 0.3:
                when += timedelta(days=rng.uniform(30, 90))
                add(HrisEventType.REHIRED, when, hire_date=when.date())
        if rng.random() < 0.03:
            add(HrisEventType.ERASED, when + timedelta(days=400))
    return steps


def to_scim(step: Step, rng: random.Random) -> dict[str, object]:
    """The step as an HRIS adapter would send it: SCIM names, ISO strings, sometimes the extension."""
    data: dict[str, object] = {
        "employeeNumber": step.employee_id,
        "type": step.kind.name if rng.random() < 0.5 else step.kind.name.lower(),
        "effectiveTime": step.when.isoformat(),
        "sequence": step.sequence,
    }
    extension: dict[str, object] = {}
    for attribute, value in step.attributes.items():
        key = SCIM_KEYS[attribute]
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif attribute == "manager_id" and value is not None and rng.random() < 0.5:
            value = {"value": value}
        if key in {"manager", "department", "division", "organization", "costCenter"} and rng.random() < 0.5:
            extension[key] = value
        else:
            data[key] = value
    if extension:
        data["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = extension
    return data


def replay_in_order(steps: Iterable[Step]) -> tuple[dict[str, dict[str, object]], set[str]]:
    """Reference model: every change applied once, in (effective time, sequence) order."""
    records: dict[str, dict[str, object]] = {}
    erased: set[str] = set()
    for step in sorted(steps, key=lambda s: (s.when, s.sequence)):
        if step.kind is HrisEventType.ERASED:
            erased.add(step.employee_id)
            continue
        record = records.setdefault(step.employee_id, {"status": EmployeeStatus.ACTIVE})
        record.update(step.attributes)
        if step.kind in IMPLIED_STATUS:
            record["status"] = IMPLIED_STATUS[step.kind]
        if step.kind is HrisEventType.REHIRED and "termination_date" not in step.attributes:
            record["termination_date"] = None
    return records, erased


@pytest.mark.parametrize("seed", [11, 23, 47])
def test_shuffled_and_duplicated_history_converges_to_the_in_order_state(seed: int) -> None:
    rng = random.Random(seed)
    steps = generate_history(rng, 300)
    hired_at = {s.employee_id: s.when for s in steps if s.kind is HrisEventType.HIRED}
    late_managers = {
        s.attributes["manager_id"]
        for s in steps
        if s.kind is HrisEventType.HIRED
        and s.attributes["manager_id"] is not None
        and hired_at[str(s.attributes["manager_id"])] > s.when
    }
    assert len(late_managers) > 10  # the scenario has managers hired after their reports

    deliveries = [*steps, *rng.sample(steps, len(steps) // 7)]  # at-least-once: some come twice
    rng.shuffle(deliveries)

    directory: dict[str, Employee] = {}
    managers: dict[str, str | None] = {}
    outcomes: Counter[ApplyOutcome] = Counter()
    seen: set[str] = set()
    for step in deliveries:
        event = hris_event_from_scim(to_scim(step, rng), event_id=step.event_id, tenant=TENANT)
        before = directory.get(step.employee_id)
        result = apply_hris_event(before, event, managers=managers)
        outcomes[result.outcome] += 1
        if step.event_id in seen:
            assert result.outcome in (ApplyOutcome.STALE, ApplyOutcome.ERASED_IGNORED)
        seen.add(step.event_id)
        after = result.employee
        if not result.changed:
            assert after is before
            continue
        directory[step.employee_id] = after
        managers[step.employee_id] = after.manager_id
        if before is not None and after.status is not EmployeeStatus.ERASED:
            assert after.version >= before.version
            for name, version in before.field_versions.items():
                assert after.field_versions[name] >= version, name  # nothing ever moves backwards

    expected, erased = replay_in_order(steps)
    assert set(directory) == set(expected) | erased
    for who, employee in directory.items():
        if who in erased:
            assert employee.status is EmployeeStatus.ERASED
            assert all(getattr(employee, name) in (None, ()) for name in ATTRIBUTES if name != "status")
            continue
        for name in ATTRIBUTES:
            default = () if name in ("languages", "skills") else None
            assert getattr(employee, name) == expected[who].get(name, default), (who, name)
    for who in directory:
        management_chain(managers, who)  # no cycle anywhere
    # Delivery really was out of order: old events were both dropped and merged.
    assert outcomes[ApplyOutcome.STALE] > len(deliveries) - len(steps)
    assert outcomes[ApplyOutcome.MERGED] > 0


# --- part 2: the handler's part, scripted ---------------------------------------------------------------


class Harness:
    """What the lead's handlers do, with dictionaries for the store, inbox, outbox and DLQ."""

    def __init__(self) -> None:
        self.directory: dict[str, Employee] = {}
        self.managers: dict[str, str | None] = {}
        self.enrollments: dict[str, Enrollment] = {}
        self.programs: dict[str, Program] = {}
        self.inbox: set[str] = set()
        self.outbox: list[DomainEvent] = []
        self.dlq: list[tuple[str, str]] = []
        self.redeliveries = 0
        self.ids = itertools.count()

    def chain(self, who: str) -> tuple[str, ...]:
        return management_chain(self.managers, who)

    def of(self, who: str) -> list[Enrollment]:
        return [e for e in self.enrollments.values() if e.employee_id == who]

    def save(self, batch: EnrollmentBatch) -> None:
        self.enrollments.update({e.enrollment_id: e for e in batch.enrollments})
        self.outbox.extend(batch.events)

    def consume(self, event_id: str, build: Callable[[], HrisEvent]) -> ApplyOutcome | None:
        if event_id in self.inbox:
            self.redeliveries += 1
            return None
        try:
            event = build()
            who = event.employee_id
            result = apply_hris_event(self.directory.get(who), event, managers=self.managers)
        except InvalidArgument as error:
            self.dlq.append((event_id, error.field))
            return None
        self.inbox.add(event_id)
        if result.changed:
            self.directory[who] = result.employee
            self.managers[who] = result.employee.manager_id
        self.outbox.extend(result.events)
        now = event.effective_time
        self.save(
            apply_effects(
                result.effects,
                employee=result.employee,
                management_chain=self.chain(who),
                enrollments=self.of(who),
                programs=self.programs,
                now=now,
            )
        )
        moved = [effect.employee_id for effect in result.effects if isinstance(effect, RefreshReportsChains)]
        for report in ReportsIndex.from_managers(self.managers).all_below_any(moved):
            theirs = self.of(report)
            if theirs:
                self.save(
                    refresh_participants(
                        employee=self.directory[report],
                        management_chain=self.chain(report),
                        enrollments=theirs,
                        programs=self.programs,
                        now=now,
                    )
                )
        return result.outcome

    def scim(self, event_id: str, data: dict[str, object]) -> ApplyOutcome | None:
        return self.consume(event_id, lambda: hris_event_from_scim(data, event_id=event_id, tenant=TENANT))

    def enrol(self, who: str, program_id: str, role: Role, profile: Profile, now: datetime) -> Enrollment:
        program = self.programs[program_id]
        change = enrol(
            enrollment_id=f"N{next(self.ids)}",
            program=program,
            employee_id=who,
            employee=self.directory.get(who),
            role=role,
            profile=profile,
            existing=[e for e in self.of(who) if e.program_id == program_id],
            management_chain=self.chain(who),
            now=now,
        )
        self.enrollments[change.state.enrollment_id] = change.state
        self.outbox.extend(change.events)
        return change.state

    def events_since(self, mark: int) -> list[DomainEvent]:
        return self.outbox[mark:]


EXPORT_AT = datetime(2026, 1, 1, 6, tzinfo=UTC)
GOAL = Goal("Run a team retro", "retros run", "4", date(2026, 6, 1))


def export_rows(rng: random.Random, size: int) -> list[dict[str, str]]:
    """An HR export of the whole organisation, written and read back with the csv module."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for index in range(size):
        attributes = hire_attributes(rng, index, BASE - timedelta(days=index))
        row = {SCIM_KEYS[name]: value for name, value in attributes.items()}
        row |= {
            "employeeNumber": employee_id(index),
            "languages": ";".join(attributes["languages"]),  # type: ignore[arg-type]
            "skills": ";".join(attributes["skills"]),  # type: ignore[arg-type]
            "hireDate": str(attributes["hire_date"]),
            "manager": attributes["manager_id"] or "",
            "status": "active",
        }
        writer.writerow(row)
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def load(harness: Harness, rows: list[dict[str, str]], file_id: str) -> Counter[ApplyOutcome | None]:
    """Feed an export row by row, as the CSV import entrypoint would; count the outcomes."""
    outcomes: Counter[ApplyOutcome | None] = Counter()
    for number, row in enumerate(rows):
        current = harness.directory.get(row.get("employeeNumber") or "")
        event_id = f"{file_id}:{number}"

        def build(
            row: dict[str, str] = row, number: int = number, current: Employee | None = current
        ) -> HrisEvent:
            return hris_event_from_csv_row(
                row,
                event_id=f"{file_id}:{number}",
                tenant=TENANT,
                effective_time=EXPORT_AT,
                sequence=number,
                current_status=None if current is None else current.status,
            )

        outcomes[harness.consume(event_id, build)] += 1
    return outcomes


def test_scripted_organisation_day() -> None:
    size = 300
    harness = Harness()

    # Three managers with reports are missing from the first export: hired later.
    rows = export_rows(random.Random(2026), size)
    reports_of = Counter(row["manager"] for row in rows if row["manager"])
    late = [who for who, count in reports_of.most_common() if who != "E0000" and count >= 2][:3]
    late_rows = {row["employeeNumber"]: row for row in rows if row["employeeNumber"] in late}
    rows = [row for row in rows if row["employeeNumber"] not in late]
    bad_rows = [
        dict(rows[5], employeeNumber="X1", grade="senior"),
        dict(rows[6], employeeNumber="X2", hireDate="2026-02-30"),
    ]
    first = load(harness, [*rows[:100], *bad_rows, *rows[100:]], "export-1")
    assert first == Counter({ApplyOutcome.APPLIED: len(rows), None: len(bad_rows)})

    assert len(harness.directory) == size - len(late)
    assert harness.dlq == [("export-1:100", "grade"), ("export-1:101", "hireDate")]
    assert all(e.status is EmployeeStatus.ACTIVE for e in harness.directory.values())
    snapshot = dict(harness.directory)
    again = load(harness, rows, "export-1-again")  # the same snapshot under new ids: nothing changes
    assert again == Counter({ApplyOutcome.STALE: len(rows)})
    assert harness.directory == snapshot

    # Programs and enrollments.
    window = EnrollmentWindow(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    cohort = Cohort(date(2026, 3, 15), date(2026, 9, 30))
    for program_id, program_format, formal in (
        ("P-1on1", ProgramFormat.ONE_ON_ONE, True),
        ("P-peer", ProgramFormat.PEER, False),
    ):
        spec = ProgramSpec(program_id, program_format, Delivery.HYBRID, formal, window, cohort)
        harness.programs[program_id] = create_program(
            program_id=program_id, tenant=TENANT, spec=spec, now=EXPORT_AT
        ).state
    enrol_at = datetime(2026, 1, 5, tzinfo=UTC)
    for who, employee in sorted(harness.directory.items()):
        index = int(who[1:])
        if index % 2 == 0 or who in {"E0000"}:
            role = Role.MENTOR if (employee.grade or 0) >= 7 else Role.MENTEE
            profile = (
                Profile(goals=(GOAL,)) if role is Role.MENTEE else Profile(skills_offered=employee.skills)
            )
            harness.enrol(who, "P-1on1", role, profile, enrol_at)
        if index % 5 == 0:
            harness.enrol(who, "P-peer", Role.PEER, Profile(), enrol_at)
    enrolled = {e.employee_id for e in harness.enrollments.values()}
    assert len(enrolled) > 100

    # Reports of a manager not hired yet: their chain stops at that manager's id.
    below_late = {who: harness.chain(who) for who in enrolled if any(m in harness.chain(who) for m in late)}
    assert below_late
    for chain in below_late.values():
        assert chain[-1] in late

    clock = itertools.count(1)

    def tick() -> str:
        return (datetime(2026, 1, 10, tzinfo=UTC) + timedelta(hours=next(clock))).isoformat()

    mark = len(harness.outbox)
    for who in late:
        row = late_rows[who]
        data: dict[str, object] = {
            key: value for key, value in row.items() if key not in ("languages", "skills")
        }
        data |= {
            "type": "HIRED",
            "effectiveTime": tick(),
            "languages": row["languages"].split(";"),
            "skills": [skill for skill in row["skills"].split(";") if skill],
        }
        assert harness.scim(f"hire-{who}", data) is ApplyOutcome.APPLIED
    updated = {
        event.participant.employee_id: event.participant.management_chain
        for event in harness.events_since(mark)
        if isinstance(event, ParticipantUpdated)
    }
    live_below = {who for who in below_late if any(e.is_live for e in harness.of(who))}
    assert live_below
    assert live_below <= set(updated)
    for who in live_below:
        assert updated[who] == harness.chain(who)
        assert len(updated[who]) > len(below_late[who])

    # Leave and return: only the enrollment the leave paused comes back.
    on_leave = next(
        who
        for who in sorted(enrolled)
        if int(who[1:]) % 10 == 0 and len(harness.of(who)) == 2 and who not in late
    )
    mentoring, peer = sorted(harness.of(on_leave), key=lambda e: e.program_id)
    harness.enrollments[peer.enrollment_id] = withdraw(peer, "too busy", now=enrol_at).state
    mark = len(harness.outbox)
    harness.scim("leave-1", {"employeeNumber": on_leave, "type": "LEAVE_STARTED", "effectiveTime": tick()})
    assert harness.enrollments[mentoring.enrollment_id].status is EnrollmentStatus.PAUSED
    assert harness.enrollments[peer.enrollment_id].status is EnrollmentStatus.WITHDRAWN
    assert [type(e) for e in harness.events_since(mark)] == [ParticipantPaused]
    mark = len(harness.outbox)
    harness.scim("leave-2", {"employeeNumber": on_leave, "type": "LEAVE_ENDED", "effectiveTime": tick()})
    assert harness.enrollments[mentoring.enrollment_id].status is EnrollmentStatus.ACTIVE
    assert harness.enrollments[peer.enrollment_id].status is EnrollmentStatus.WITHDRAWN
    assert [type(e) for e in harness.events_since(mark)] == [ParticipantResumed]

    # Reordered updates: the older one arrives last and is ignored.
    someone = "E0007"
    older, newer = tick(), tick()
    assert (
        harness.scim(
            "t-new",
            {"employeeNumber": someone, "type": "UPDATED", "effectiveTime": newer, "title": "Director"},
        )
        is ApplyOutcome.APPLIED
    )
    assert (
        harness.scim(
            "t-old", {"employeeNumber": someone, "type": "UPDATED", "effectiveTime": older, "title": "Intern"}
        )
        is ApplyOutcome.STALE
    )
    assert harness.directory[someone].title == "Director"

    # Termination withdraws every enrollment.
    leaver = next(
        who
        for who in sorted(enrolled)
        if who not in (on_leave, *late) and len([e for e in harness.of(who) if e.is_live]) == 2
    )
    mark = len(harness.outbox)
    harness.scim(
        "fire-1",
        {
            "employeeNumber": leaver,
            "type": "TERMINATED",
            "effectiveTime": tick(),
            "terminationDate": "2026-01-31",
        },
    )
    assert {(e.status, e.withdrawal_reason) for e in harness.of(leaver)} == {
        (EnrollmentStatus.WITHDRAWN, "terminated")
    }
    assert [type(e) for e in harness.events_since(mark)] == [ParticipantWithdrawn, ParticipantWithdrawn]

    # A reporting cycle is refused (DLQ, field "manager"), and the next event goes on.
    boss, grand_report = next(
        (chain[1], who) for who in sorted(harness.directory) if len(chain := harness.chain(who)) >= 3
    )
    boss_before = harness.directory[boss]
    harness.scim(
        "cycle-1",
        {"employeeNumber": boss, "type": "TRANSFERRED", "effectiveTime": tick(), "manager": grand_report},
    )
    assert harness.dlq[-1] == ("cycle-1", "manager")
    assert harness.directory[boss] is boss_before
    assert (
        harness.scim(
            "after-cycle", {"employeeNumber": boss, "type": "UPDATED", "effectiveTime": tick(), "grade": 11}
        )
        is ApplyOutcome.APPLIED
    )

    # Malformed SCIM records go to the DLQ with the field at fault; the stream goes on.
    for event_id, data, field in (
        ("bad-1", {"type": "UPDATED", "effectiveTime": tick(), "title": "x"}, "employeeNumber"),
        (
            "bad-2",
            {"employeeNumber": someone, "type": "UPDATED", "effectiveTime": tick(), "hireDate": "31/01/2026"},
            "hireDate",
        ),
        (
            "bad-3",
            {"employeeNumber": someone, "type": "UPDATED", "effectiveTime": tick(), "grade": "principal"},
            "grade",
        ),
        ("bad-4", {"employeeNumber": someone, "type": "PROMOTED", "effectiveTime": tick()}, "type"),
    ):
        assert harness.scim(event_id, data) is None
        assert harness.dlq[-1] == (event_id, field)
    assert (
        harness.scim(
            "good-after-bad",
            {"employeeNumber": someone, "type": "UPDATED", "effectiveTime": tick(), "grade": 9},
        )
        is ApplyOutcome.APPLIED
    )
    assert harness.directory[someone].grade == 9

    # Erasure: personal data gone, enrollments withdrawn and scrubbed, tombstone out, later events ignored.
    forgotten = next(
        who
        for who in sorted(enrolled)
        if who not in (on_leave, leaver, boss, *late) and any(e.is_live for e in harness.of(who))
    )
    mark = len(harness.outbox)
    harness.scim("erase-1", {"employeeNumber": forgotten, "type": "ERASED", "effectiveTime": tick()})
    tombstone = harness.directory[forgotten]
    assert tombstone.status is EmployeeStatus.ERASED
    assert (tombstone.display_name, tombstone.email, tombstone.department) == (None, None, None)
    assert all(
        e.status is EnrollmentStatus.WITHDRAWN and e.profile == EMPTY_PROFILE for e in harness.of(forgotten)
    )
    new_events = harness.events_since(mark)
    assert (
        EmployeeErased(tenant=TENANT, employee_id=forgotten, occurred_at=tombstone.version.effective_time)
        in new_events
    )
    assert (
        harness.scim(
            "erase-2",
            {"employeeNumber": forgotten, "type": "REHIRED", "effectiveTime": tick(), "name": "Back"},
        )
        is ApplyOutcome.ERASED_IGNORED
    )
    assert harness.directory[forgotten].display_name is None

    # Redeliveries are skipped by the inbox and change nothing.
    state = (dict(harness.directory), dict(harness.enrollments), len(harness.outbox))
    for event_id in ("leave-1", "fire-1", "t-new", "hire-" + late[0]):
        assert (
            harness.scim(
                event_id,
                {"employeeNumber": "E0001", "type": "UPDATED", "effectiveTime": tick(), "title": "x"},
            )
            is None
        )
    assert harness.redeliveries == 4
    assert (dict(harness.directory), dict(harness.enrollments), len(harness.outbox)) == state

    # Nothing that leaves the service carries a name or an e-mail address.
    assert harness.outbox
    for event in harness.outbox:
        text = repr(event)
        assert "@" not in text and "Name-" not in text, type(event)
    assert any(isinstance(e, ParticipantEnrolled) for e in harness.outbox)
