"""A scripted organisation streamed through the enrollment service as a real process, on the real broker
and a real SQLite file.

An HR export is loaded with the CSV import command (structured JSON CloudEvents); programs and
enrollments are made over gRPC; then HRIS changes arrive in binary protobuf and structured JSON mode:
managers hired after their reports, reordered and duplicated updates, a burst of updates during which
the service is killed with SIGKILL and started again on the same data, a leave and return, a
termination, an erasure, a reporting cycle and malformed records. The directory (gRPC and the SQLite
file), the events published on enrollment.events.v1 and the DLQ are then checked.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc, events_pb2

from services.shared.dlq import open_letter
from services.shared.envelope import decode, encode_binary, new_event
from services.shared.timestamps import timestamp
from tests.support.identity import KeycloakTokens, bearer, hr
from tests.support.kafka import REPO_ROOT, read_topic
from tests.support.processes import ServiceProcess, metric_samples, metric_value
from tests.support.waiting import rows, scalar, wait_for

pytestmark = pytest.mark.integration

# The service's own events (its outbox also carries the audit trail's records, on audit.events.v1).
ENROLLMENT_EVENTS_IN_OUTBOX = "SELECT event_id FROM outbox WHERE topic = 'enrollment.events.v1'"

TENANT = "acme"
SIZE = 300
BURST = 1500
EXPORT_AT = datetime(2025, 1, 1, 6, tzinfo=UTC)
LOCATIONS = {
    "London": "Europe/London",
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "Singapore": "Asia/Singapore",
}
DEPARTMENTS = ("Engineering", "Sales", "Finance", "People")
SKILLS = ("python", "sql", "negotiation", "leadership", "design", "kotlin")
NOW = datetime.now(UTC)
# A SIGKILLed consumer stays in its group until the session times out (Faust's default: 60 s), and the
# restarted instance waits for that; Faust reads these from the environment.
FAST_FAILOVER = {"MENTORING_ENROLLMENT_CONSUMER_SESSION_TIMEOUT_SECONDS": "6"}

Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


def employee_id(index: int) -> str:
    return f"E{index:04d}"


@dataclass
class Person:
    employee_id: str
    manager: str | None
    name: str
    email: str
    grade: int
    department: str
    location: str
    languages: list[str]
    skills: list[str]
    hire_date: date


@dataclass
class Organisation:
    people: dict[str, Person]
    late: list[str] = field(default_factory=list)  # managers hired after their reports

    def chain(self, who: str) -> list[str]:
        chain, current = [], self.people[who].manager
        while current is not None:
            chain.append(current)
            current = self.people[current].manager
        return chain


def generate(rng: random.Random) -> Organisation:
    people: dict[str, Person] = {}
    for index in range(SIZE):
        location = rng.choice(sorted(LOCATIONS))
        people[employee_id(index)] = Person(
            employee_id=employee_id(index),
            manager=None if index == 0 else employee_id(rng.randrange(max(1, index // 4))),
            name=f"Name{index} Person",
            email=f"user{index}@example.com",
            grade=rng.randint(2, 12),
            department=rng.choice(DEPARTMENTS),
            location=location,
            languages=sorted(rng.sample(["en", "de", "fr"], rng.randint(1, 2))),
            skills=sorted(rng.sample(SKILLS, rng.randint(0, 3))),
            hire_date=date(2015, 1, 1) + timedelta(days=index),
        )
    organisation = Organisation(people)
    reports = Counter(person.manager for person in people.values() if person.manager)
    even_reports = {
        manager
        for manager in reports
        if any(p.manager == manager and int(p.employee_id[1:]) % 2 == 0 for p in people.values())
    }
    for manager, count in reports.most_common():
        nested = any(
            other in organisation.chain(manager) or manager in organisation.chain(other)
            for other in organisation.late
        )
        if manager != "E0000" and count >= 2 and manager in even_reports and not nested:
            organisation.late.append(manager)
        if len(organisation.late) == 3:
            break
    return organisation


def write_export(organisation: Organisation, path: Path) -> None:
    columns = [
        "employeeNumber",
        "name",
        "email",
        "grade",
        "department",
        "manager",
        "location",
        "timezone",
        "languages",
        "skills",
        "hireDate",
        "status",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for person in organisation.people.values():
            if person.employee_id in organisation.late:
                continue
            writer.writerow(
                {
                    "employeeNumber": person.employee_id,
                    "name": person.name,
                    "email": person.email,
                    "grade": person.grade,
                    "department": person.department,
                    "manager": person.manager or "",
                    "location": person.location,
                    "timezone": LOCATIONS[person.location],
                    "languages": ";".join(person.languages),
                    "skills": ";".join(person.skills),
                    "hireDate": person.hire_date.isoformat(),
                    "status": "active",
                }
            )


def binary(kind: str, who: str, when: datetime, sequence: int = 0, **fields: object) -> Record:
    """A binary-mode HRIS record (protobuf WorkerChange)."""
    message_type = {
        "hired": events_pb2.WorkerHired,
        "updated": events_pb2.WorkerUpdated,
        "transferred": events_pb2.WorkerTransferred,
        "terminated": events_pb2.WorkerTerminated,
    }[kind]
    change = events_pb2.WorkerChange(
        worker=events_pb2.WorkerRecord(employee_number=who, **fields),  # type: ignore[arg-type]
        effective_time=timestamp(when),
        sequence=sequence,
    )
    event = new_event(
        f"mentoring.hris.worker.{kind}.v1", "workday", message_type(change=change), tenant=TENANT
    )
    headers, value = encode_binary(event)
    return f"{TENANT}:{who}".encode(), value, headers


def structured(kind: str, who: str, when: datetime, **data: object) -> Record:
    """A structured-mode HRIS record (CloudEvents JSON, SCIM names in data)."""
    document = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "bamboohr",
        "type": f"mentoring.hris.worker.{kind}.v1",
        "time": when.isoformat(),
        "tenant": TENANT,
        "datacontenttype": "application/json",
        "data": {"employeeNumber": who, **data},
    }
    return (
        f"{TENANT}:{who}".encode(),
        json.dumps(document).encode(),
        [("content-type", b"application/cloudevents+json")],
    )


def event_id_of(record: Record) -> str:
    headers = dict(record[2])
    if "ce_id" in headers:
        return headers["ce_id"].decode()
    assert record[1] is not None
    return str(json.loads(record[1])["id"])


async def produce(bootstrap: str, topic: str, records: list[Record]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        deliveries = [
            await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records
        ]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


def create_programs(stub: enrollment_pb2_grpc.EnrollmentServiceStub) -> dict[str, str]:
    window = common_pb2.DateRange(
        start=timestamp(NOW - timedelta(days=1)), end=timestamp(NOW + timedelta(days=30))
    )
    cohort = common_pb2.DateRange(
        start=timestamp(NOW + timedelta(days=35)), end=timestamp(NOW + timedelta(days=200))
    )
    specs = {
        "formal": common_pb2.Program(
            name="Mentoring 2027",
            format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
            delivery=common_pb2.DELIVERY_REMOTE,
            formal=True,
        ),
        "peer": common_pb2.Program(
            name="Peer circles", format=common_pb2.PROGRAM_FORMAT_PEER, delivery=common_pb2.DELIVERY_HYBRID
        ),
        "engineering": common_pb2.Program(
            name="Engineering",
            format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
            delivery=common_pb2.DELIVERY_IN_PERSON,
            eligibility=common_pb2.Eligibility(departments=["Engineering"]),
        ),
    }
    programs = {}
    for label, spec in specs.items():
        spec.enrollment_window.CopyFrom(window)
        spec.cohort.CopyFrom(cohort)
        created = stub.CreateProgram(
            enrollment_pb2.CreateProgramRequest(tenant=TENANT, program=spec, request_id=f"create-{label}")
        )
        programs[label] = created.program_id
    return programs


def enrol_everyone(
    stub: enrollment_pb2_grpc.EnrollmentServiceStub, organisation: Organisation, programs: dict[str, str]
) -> dict[str, list[str]]:
    """Employee -> program ids they enrolled in."""
    goal = common_pb2.Goal(
        what="Lead a review", metric="reviews", target="2", due=timestamp(NOW + timedelta(days=100))
    )
    enrolled: dict[str, list[str]] = {}
    for person in organisation.people.values():
        index = int(person.employee_id[1:])
        if person.employee_id in organisation.late:
            continue
        wanted = []
        if index % 2 == 0:
            mentor = person.grade >= 8
            wanted.append(
                (
                    programs["formal"],
                    common_pb2.ROLE_MENTOR if mentor else common_pb2.ROLE_MENTEE,
                    common_pb2.Profile(skills_offered=person.skills)
                    if mentor
                    else common_pb2.Profile(goals=[goal], skills_wanted=["leadership"]),
                )
            )
        if index % 5 == 0:
            wanted.append((programs["peer"], common_pb2.ROLE_PEER, common_pb2.Profile(languages=["en"])))
        if index % 3 == 0 and person.department == "Engineering":
            wanted.append((programs["engineering"], common_pb2.ROLE_MENTEE, common_pb2.Profile()))
        for program_id, role, profile in wanted:
            stub.Enroll(
                enrollment_pb2.EnrollRequest(
                    program_id=program_id,
                    employee_id=person.employee_id,
                    role=role,
                    profile=profile,
                    request_id=f"{program_id}:{person.employee_id}",
                )
            )
            enrolled.setdefault(person.employee_id, []).append(program_id)
    return enrolled


async def test_scripted_organisation_streams_through_a_service_killed_mid_stream(
    kafka_bootstrap: str, namespace: str, data_dir: Path, tmp_path: Path, tokens: KeycloakTokens
) -> None:
    rng = random.Random(2027)
    organisation = generate(rng)
    people = organisation.people
    late = organisation.late
    assert len(late) == 3
    hris_topic = namespace + "hris.worker.events.v1"
    database = data_dir / "enrollment.db"

    def applied() -> int:
        return scalar(database, "SELECT count(*) FROM inbox") if database.exists() else 0

    service = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap, FAST_FAILOVER).start()
    try:
        # 1. Initial load through the CSV import command.
        export = tmp_path / "export.csv"
        write_export(organisation, export)
        loaded = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.enrollment.entrypoints.csv_import",
                str(export),
                "--tenant",
                TENANT,
                "--bootstrap",
                kafka_bootstrap,
                "--namespace",
                namespace,
                "--as-of",
                EXPORT_AT.isoformat(),
                "--initial-load",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert loaded.returncode == 0, loaded.stderr
        assert f"{SIZE - len(late)} events sent" in loaded.stdout
        await wait_for(lambda: applied() == SIZE - len(late), timeout=90, what="initial load")

        # 2. Programs and enrollments over gRPC, by HR.
        with service.channel(lambda: hr(tokens, TENANT)) as channel:
            stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)
            programs = create_programs(stub)
            enrolled = enrol_everyone(stub, organisation, programs)
            # A report of a manager not hired yet: their chain stops at that manager's id.
            below_late = {
                who: late_manager
                for who in enrolled
                for late_manager in late
                if late_manager in organisation.chain(who)
            }
            assert below_late
            sample = next(iter(below_late))
            page = stub.ListParticipants(
                enrollment_pb2.ListParticipantsRequest(
                    program_id=enrolled[sample][0], page=common_pb2.PageRequest(page_size=500)
                )
            )
            view = next(p for p in page.participants if p.employee_id == sample)
            assert view.management_chain_ids[-1] == below_late[sample]

        # 3. Who plays which part in the script (never two parts).
        taken: set[str] = {"E0000", *late}

        def pick(predicate: Callable[[str], bool]) -> str:
            who = next(w for w in sorted(people) if w not in taken and predicate(w))
            taken.add(who)
            return who

        on_leave = pick(lambda w: len(enrolled.get(w, [])) == 2)
        leaver = pick(lambda w: len(enrolled.get(w, [])) >= 1)
        erased = pick(lambda w: len(enrolled.get(w, [])) >= 1 and w not in below_late)
        grand_report = pick(
            lambda w: len(organisation.chain(w)) >= 3 and not set(organisation.chain(w)) & (taken - {"E0000"})
        )
        boss = organisation.chain(grand_report)[1]
        taken.add(boss)
        reordered = [pick(lambda w: True) for _ in range(10)]
        duplicated = [pick(lambda w: True) for _ in range(10)]
        burst_people = sorted(set(people) - taken)

        clock = iter(EXPORT_AT + timedelta(days=30, seconds=second) for second in range(1_000_000))
        part_one: list[Record] = [binary("hired", m, next(clock), manager="E0000", name=people[m].name,
                                         email=people[m].email, grade=people[m].grade,
                                         department=people[m].department) for m in late]  # fmt: skip
        newer_at = {who: next(clock) for who in reordered}
        older_at = {who: newer_at[who] - timedelta(hours=1) for who in reordered}
        part_one += [binary("updated", who, newer_at[who], title="Director") for who in reordered]
        part_one += [binary("updated", who, older_at[who], title="Intern") for who in reordered]
        twice = [
            binary("updated", who, next(clock), location="Paris", timezone="Europe/Paris")
            for who in duplicated
        ]
        part_one += [*twice, *twice]  # redelivered: the same ce_id twice
        final_grade: dict[str, int] = {}
        final_title: dict[str, str] = {}
        burst: list[Record] = []
        for index in range(BURST):
            who = burst_people[index % len(burst_people)]
            if index % 2 == 0:
                final_grade[who] = 1 + index % 12
                burst.append(binary("updated", who, next(clock), grade=final_grade[who]))
            else:
                final_title[who] = f"Title {index}"
                burst.append(binary("updated", who, next(clock), title=final_title[who]))

        # 4. Part one, then the burst; SIGKILL lands while the burst is being applied.
        before = applied()
        await produce(kafka_bootstrap, hris_topic, part_one + burst)
        distinct_so_far = before + len(part_one) - len(twice) + BURST
        await wait_for(
            lambda: applied() > before + len(part_one), timeout=60, what="burst started", every=0.01
        )
        service.kill()
        at_kill = applied()
        assert at_kill < distinct_so_far, "the kill must land mid-stream"

        # 5. While the service is down: the lifecycle, a cycle and malformed records, then more updates.
        leave_start, leave_end = next(clock), next(clock) + timedelta(days=20)
        good_after_bad = [
            binary("updated", who, next(clock), title="After the storm") for who in burst_people[:5]
        ]
        garbage_headers = [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"garbage-1"),
            ("ce_source", b"workday"),
            ("ce_type", b"mentoring.hris.worker.updated.v1"),
            ("ce_tenant", TENANT.encode()),
        ]
        bad_records: dict[str, Record] = {
            "invalid_argument:manager": binary("transferred", boss, next(clock), manager=grand_report),
            "malformed": (f"{TENANT}:{reordered[0]}".encode(), b"\xff\xfe not protobuf", garbage_headers),
            "invalid_argument:grade": structured("updated", reordered[1], next(clock), grade="principal"),
            "unknown_type": structured("promoted", reordered[2], next(clock)),
        }
        part_two: list[Record] = [
            structured("leave_started", on_leave, leave_start),
            binary("terminated", leaver, next(clock), termination_date=timestamp(NOW)),
            structured("erased", erased, next(clock)),
            *bad_records.values(),
            structured("leave_ended", on_leave, leave_end),
            *good_after_bad,
        ]
        await produce(kafka_bootstrap, hris_topic, part_two)
        expected_applied = distinct_so_far + len(part_two) - len(bad_records)

        # 6. Restart on the same data: nothing lost, nothing applied twice.
        service = ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap, FAST_FAILOVER).start()
        await wait_for(lambda: applied() == expected_applied, timeout=120, what="every event applied")
        dead = await read_topic(kafka_bootstrap, hris_topic + ".dlq", expected=len(bad_records))
        await wait_for(
            lambda: scalar(database, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
            timeout=90,
            what="outbox drained",
        )
        assert applied() == expected_applied

        # 7. The directory, over gRPC: contacts for the notification service, participants for HR.
        with service.channel(lambda: hr(tokens, TENANT)) as channel:
            stub = enrollment_pb2_grpc.EnrollmentServiceStub(channel)
            notification = (*bearer(tokens.service("notification-service")), ("tenant", TENANT))
            contact = stub.GetEmployeeContact(
                enrollment_pb2.GetEmployeeContactRequest(employee_id=reordered[3]), metadata=notification
            )
            assert (contact.display_name, contact.email) == (
                people[reordered[3]].name,
                people[reordered[3]].email,
            )
            tombstone = stub.GetEmployeeContact(
                enrollment_pb2.GetEmployeeContactRequest(employee_id=erased), metadata=notification
            )
            assert tombstone.status == common_pb2.EMPLOYEE_STATUS_ERASED
            assert (tombstone.display_name, tombstone.email) == ("", "")
            participants = {
                (p.program_id, p.employee_id): p
                for program_id in programs.values()
                for p in stub.ListParticipants(
                    enrollment_pb2.ListParticipantsRequest(
                        program_id=program_id, page=common_pb2.PageRequest(page_size=500)
                    )
                ).participants
            }
            assert len(participants) == sum(len(found) for found in enrolled.values())
            for who, late_manager in below_late.items():
                for program_id in enrolled[who]:
                    chain = list(participants[(program_id, who)].management_chain_ids)
                    assert chain[-2:] == [late_manager, "E0000"], (who, chain)
            for program_id in enrolled[leaver]:
                assert participants[(program_id, leaver)].status == common_pb2.ENROLLMENT_STATUS_WITHDRAWN
            for program_id in enrolled[erased]:
                assert participants[(program_id, erased)].status == common_pb2.ENROLLMENT_STATUS_WITHDRAWN
                assert participants[(program_id, erased)].department == ""
            for program_id in enrolled[on_leave]:
                assert participants[(program_id, on_leave)].status == common_pb2.ENROLLMENT_STATUS_ACTIVE
            for who, grade in final_grade.items():
                for program_id in enrolled.get(who, []):
                    assert participants[(program_id, who)].grade == grade
        assert metric_value(service.metrics_port, "mentoring_dlq_messages_total") == len(bad_records)
        lag = partial(metric_samples, service.metrics_port, "mentoring_consumer_lag", topic=hris_topic)
        await wait_for(
            lambda: bool(lag()) and set(lag()) == {0.0}, timeout=15, what="the HRIS consumer caught up"
        )
        dead_lettered = metric_value(
            service.metrics_port, "mentoring_consumer_messages_total", topic=hris_topic, outcome="dlq"
        )
        assert dead_lettered == len(bad_records), "counted by the restarted instance, which saw them"
        await wait_for(
            lambda: (
                metric_value(
                    service.metrics_port, "mentoring_enrollment_directory_employees", status="erased"
                )
                == 1
            ),
            timeout=15,
            what="directory gauge",
        )
        assert service.stop() == 0, service.log_tail()
    finally:
        service.kill()

    # 8. The directory, in the service's own SQLite file.
    columns = "employee_id, status, display_name, email, title, grade, location, manager_id"
    directory = {row[0]: row[1:] for row in rows(database, f"SELECT {columns} FROM employees")}
    assert len(directory) == SIZE
    assert directory[erased][:3] == ("ERASED", None, None)
    assert directory[leaver][0] == "TERMINATED" and directory[on_leave][0] == "ACTIVE"
    assert directory[boss][6] == people[boss].manager, "the cycle was not applied"
    assert all(directory[who][3] == "Director" for who in reordered), "the older update never wins"
    assert all(directory[who][5] == "Paris" for who in duplicated)
    for who in burst_people[:5]:
        assert directory[who][3] == "After the storm"
    for who, grade in final_grade.items():
        assert directory[who][4] == grade
    for who, title in final_title.items():
        if who not in burst_people[:5]:
            assert directory[who][3] == title
    assert all(directory[m][6] == "E0000" for m in late)

    # 9. The DLQ: each bad record once, with its reason and its original bytes; nothing else. The
    # bytes are sealed under the key of the person the record is about (crypto-shredding): opened here
    # with that key, from the service's own file.
    reasons = {dict(record.headers)["dlq_reason"].decode(): record for record in dead}
    assert set(reasons) == set(bad_records) and len(dead) == len(bad_records)
    for reason, record in reasons.items():
        tenant, _, worker = dict(record.headers)["dlq_sealed_for"].decode().partition(":")
        assert f"{tenant}:{worker}".encode() == bad_records[reason][0]
        ((key,),) = rows(
            database, "SELECT key FROM personal_keys WHERE tenant = ? AND subject = ?", tenant, worker
        )
        opened, _ = open_letter(record.value, tuple(record.headers), key)
        assert record.value != opened
        assert opened == bad_records[reason][1]
        assert dict(record.headers)["dlq_service"] == b"enrollment"

    # 10. The published events: every outbox row on the topic, none applied twice, no personal data.
    # The erasure deleted the published rows about the erased person's enrollments (they carried the
    # profile); what it published itself stays.
    outbox_ids = {row[0] for row in rows(database, ENROLLMENT_EVENTS_IN_OUTBOX)}
    records = await read_topic(kafka_bootstrap, namespace + "enrollment.events.v1", expected=len(outbox_ids))
    events = [(record, decode(record.headers, record.value)) for record in records]
    assert outbox_ids <= {event.id for _, event in events}
    deleted = [event for _, event in events if event.id not in outbox_ids]
    assert {event.message().participant.employee_id for event in deleted} == {erased}  # type: ignore[attr-defined]
    # Their enrolments were published long before the stream: those rows, at least, are gone.
    enrolments_of_erased = [
        event.id
        for _, event in events
        if event.type.endswith(".participant.enrolled.v1")
        and event.message().participant.employee_id == erased  # type: ignore[attr-defined]
    ]
    assert len(enrolments_of_erased) == len(enrolled[erased])
    assert not set(enrolments_of_erased) & outbox_ids
    effects: Counter[tuple[str, str, str, bytes]] = Counter()
    for record, event in {event.id: (record, event) for record, event in events}.values():
        cause = event.extensions.get("causationid", "")
        if cause:
            effects[(event.type, event.subject, cause, record.key or b"")] += 1
        assert b"@example.com" not in record.value and b"Person" not in record.value
    assert effects and max(effects.values()) == 1, "an HRIS event was applied twice"

    by_cause: dict[str, list[tuple[str, bytes, object]]] = {}
    for record, event in {event.id: (record, event) for record, event in events}.values():
        by_cause.setdefault(event.extensions.get("causationid", ""), []).append(
            (event.type.split(".")[-2], record.key or b"", event.message())
        )
    leave_ids = [event_id_of(part_two[0]), event_id_of(part_two[-len(good_after_bad) - 1])]
    paused = {(kind, key) for kind, key, _ in by_cause[leave_ids[0]]}
    resumed = {(kind, key) for kind, key, _ in by_cause[leave_ids[1]]}
    assert paused == {("paused", program_id.encode()) for program_id in enrolled[on_leave]}
    assert resumed == {("resumed", program_id.encode()) for program_id in enrolled[on_leave]}
    fired = by_cause[event_id_of(part_two[1])]
    assert {(kind, key) for kind, key, _ in fired} == {("withdrawn", p.encode()) for p in enrolled[leaver]}
    assert all(message.reason == "terminated" for _, _, message in fired)  # type: ignore[attr-defined]
    forgotten = by_cause[event_id_of(part_two[2])]
    kinds = Counter(kind for kind, _, _ in forgotten)
    assert kinds["withdrawn"] == len(enrolled[erased])
    assert {key for kind, key, _ in forgotten if kind == "erased"} == {p.encode() for p in enrolled[erased]}
    for late_manager, record in zip(late, part_one[: len(late)], strict=True):
        refreshed = by_cause.get(event_id_of(record), [])
        expected = {who for who, m in below_late.items() if m == late_manager}
        assert {message.participant.employee_id for _, _, message in refreshed} == expected  # type: ignore[attr-defined]
