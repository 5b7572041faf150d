"""The demo organisation, played through the running platform's real interfaces.

An HRIS stream hires a 60-person company (five departments, four locations and time zones, a real
management tree); HR opens a remote, formal one-on-one program; employees enrol as mentors and mentees
with skills and measurable goals; matching runs and shows every match with its score breakdown, the
unmatched with their reasons and the quality report; a pair accepts, a session is scheduled and the
mentee's in-app inbox shows what happened. Only opaque ids and the demo's own fictitious data are used.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import (
    common_pb2,
    enrollment_pb2,
    enrollment_pb2_grpc,
    events_pb2,
    matching_pb2,
    matching_pb2_grpc,
    notification_pb2,
    notification_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
)
from mentoring.v1.events_pb2 import Session
from rich.console import Console
from rich.table import Table

from services.enrollment.config import EnrollmentSettings
from services.enrollment.domain import management_chain
from services.matching.config import MatchingSettings
from services.notification.config import NotificationSettings
from services.session.config import SessionSettings
from services.shared.auth_client import password_token
from services.shared.envelope import encode_binary, published_event
from services.shared.outbox import kafka_producer
from services.shared.timestamps import timestamp
from services.shared.topics import HRIS_WORKER_EVENTS

TENANT = "demo"
# The embedded realm's people (deploy/keycloak/generate_realm.py): username "demo-e0001", this password,
# the public client of the console; E0054 is the tenant's HR admin, E0055 a program manager.
DEMO_PASSWORD = "mentoring-demo"
DEMO_CLIENT = "mentoring-console"
HR_ADMIN = "E0054"
PROGRAM_MANAGER = "E0055"
console = Console()
T = TypeVar("T")

DEPARTMENTS = {
    "Engineering": ["python", "distributed systems", "kafka", "architecture", "testing"],
    "Data": ["machine learning", "statistics", "python", "sql", "visualisation"],
    "Product": ["product discovery", "roadmapping", "user research", "negotiation"],
    "Sales": ["negotiation", "public speaking", "account planning", "forecasting"],
    "People": ["coaching", "public speaking", "employment law", "change management"],
}
LOCATIONS = [
    ("Berlin", "Europe/Berlin"),
    ("London", "Europe/London"),
    ("New York", "America/New_York"),
    ("Lisbon", "Europe/Lisbon"),
]


@dataclass(frozen=True)
class Person:
    employee_id: str
    manager_id: str | None
    department: str
    grade: int
    location: str
    timezone: str
    skills: tuple[str, ...]


def organisation(seed: int = 7) -> list[Person]:
    """A CEO, five department heads, two managers each, five reports per manager: 66 people."""
    rng = random.Random(seed)
    people = [Person("E0001", None, "Executive", 12, "Berlin", "Europe/Berlin", ("leadership",))]
    number = 2
    for department, skills in DEPARTMENTS.items():
        location, timezone = rng.choice(LOCATIONS)
        head = Person(
            f"E{number:04d}", "E0001", department, 10, location, timezone, tuple(rng.sample(skills, 3))
        )
        people.append(head)
        number += 1
        for _ in range(2):
            location, timezone = rng.choice(LOCATIONS)
            manager = Person(
                f"E{number:04d}",
                head.employee_id,
                department,
                8,
                location,
                timezone,
                tuple(rng.sample(skills, 3)),
            )
            people.append(manager)
            number += 1
            for _ in range(5):
                location, timezone = rng.choice(LOCATIONS)
                people.append(
                    Person(
                        f"E{number:04d}",
                        manager.employee_id,
                        department,
                        rng.randint(3, 6),
                        location,
                        timezone,
                        tuple(rng.sample(skills, 2)),
                    )
                )
                number += 1
    return people


class Logins:
    """Each person of the demo logs in through the identity provider, once: their token, as metadata."""

    def __init__(self, issuer: str) -> None:
        self._issuer = issuer
        self._tokens: dict[str, str] = {}

    def of(self, employee_id: str) -> tuple[tuple[str, str]]:
        if employee_id not in self._tokens:
            username = f"{TENANT}-{employee_id.lower()}"
            self._tokens[employee_id] = password_token(self._issuer, DEMO_CLIENT, username, DEMO_PASSWORD)
        return (("authorization", f"Bearer {self._tokens[employee_id]}"),)


@dataclass(frozen=True)
class Platform:
    """Where the running platform listens (defaults: the services' own settings)."""

    enrollment: str
    matching: str
    session: str
    notification: str
    kafka_bootstrap: str
    issuer: str
    topic_namespace: str = ""

    @classmethod
    def from_settings(cls) -> Platform:
        def target(
            settings: EnrollmentSettings | MatchingSettings | SessionSettings | NotificationSettings,
        ) -> str:
            return f"{settings.grpc_host}:{settings.grpc_port}"

        enrollment = EnrollmentSettings()
        return cls(
            target(enrollment),
            target(MatchingSettings()),
            target(SessionSettings()),
            target(NotificationSettings()),
            enrollment.kafka_bootstrap,
            enrollment.auth_issuer,
            enrollment.topic_namespace,
        )


async def stream_hires(bootstrap: str, topic: str, people: list[Person]) -> None:
    """The HRIS adapter's job: one binary CloudEvent per hire, keyed tenant:worker. Reports are hired
    before their managers on purpose: the directory must cope."""
    producer = kafka_producer(bootstrap)
    await producer.start()
    try:
        now = Timestamp()
        now.FromDatetime(datetime.now(UTC))
        for sequence, person in enumerate(reversed(people), start=1):
            record = events_pb2.WorkerRecord(
                employee_number=person.employee_id,
                department=person.department,
                division="Acme Demo",
                organization="Acme Demo",
                name=f"Demo Person {person.employee_id[1:]}",
                email=f"{person.employee_id.lower()}@demo.invalid",
                title="Employee",
                grade=person.grade,
                location=person.location,
                timezone=person.timezone,
                languages=["en"],
                languages_present=True,
                skills=list(person.skills),
                skills_present=True,
                status="active",
            )
            if person.manager_id:
                record.manager = person.manager_id
            record.hire_date.FromDatetime(datetime(2020, 1, 6, tzinfo=UTC))
            message = events_pb2.WorkerHired(
                change=events_pb2.WorkerChange(worker=record, effective_time=now, sequence=sequence)
            )
            event = published_event("demo", message, subject=person.employee_id, tenant=TENANT)
            headers, value = encode_binary(event)
            await producer.send(topic, value, key=f"{TENANT}:{person.employee_id}".encode(), headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


def eventually(attempt: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Events travel asynchronously: retry a read until the platform has caught up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except (grpc.RpcError, LookupError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not ready after {timeout:.0f} s ({error})") from error
            time.sleep(0.5)


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo saw, for the end-to-end test to check."""

    people: int
    mentees: int
    run: matching_pb2.MatchingRun
    activated: common_pb2.Match | None
    session: Session | None
    inbox: list[notification_pb2.InboxItem]


def enrol(
    enrollment: enrollment_pb2_grpc.EnrollmentServiceStub,
    request: enrollment_pb2.EnrollRequest,
    metadata: tuple[tuple[str, str]],
) -> None:
    """A person enrols themselves, once the HRIS stream has brought them into the directory (the
    request id makes a retry harmless)."""
    eventually(lambda: enrollment.Enroll(request, metadata=metadata), "directory")


def play(platform: Platform | None = None) -> DemoOutcome:
    platform = platform or Platform.from_settings()
    people = organisation()
    console.rule("1. HRIS: hiring the demo organisation")
    asyncio.run(stream_hires(platform.kafka_bootstrap, platform.topic_namespace + HRIS_WORKER_EVENTS, people))
    console.print(f"{len(people)} hires streamed to {HRIS_WORKER_EVENTS} (reports before their managers).")

    logins = Logins(platform.issuer)
    hr, manager = logins.of(HR_ADMIN), logins.of(PROGRAM_MANAGER)
    console.print(
        f"HR ({HR_ADMIN}) and the program manager ({PROGRAM_MANAGER}) logged in at {platform.issuer}."
    )
    enrollment = enrollment_pb2_grpc.EnrollmentServiceStub(grpc.insecure_channel(platform.enrollment))
    matching = matching_pb2_grpc.MatchingServiceStub(grpc.insecure_channel(platform.matching))
    sessions = session_pb2_grpc.SessionServiceStub(grpc.insecure_channel(platform.session))
    notifications = notification_pb2_grpc.NotificationServiceStub(
        grpc.insecure_channel(platform.notification)
    )

    console.rule("2. HR opens a remote, formal one-on-one program")
    now = datetime.now(UTC)
    program = enrollment.CreateProgram(
        enrollment_pb2.CreateProgramRequest(
            tenant=TENANT,
            request_id=f"demo-{uuid.uuid4().hex}",
            program=common_pb2.Program(
                name="Cross-company mentoring 2027",
                description="Demo program",
                format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
                delivery=common_pb2.DELIVERY_REMOTE,
                formal=True,
                enrollment_window=common_pb2.DateRange(
                    start=timestamp(now - timedelta(days=1)), end=timestamp(now + timedelta(days=30))
                ),
                cohort=common_pb2.DateRange(
                    start=timestamp(now + timedelta(days=1)), end=timestamp(now + timedelta(days=200))
                ),
                mentor_capacity_default=2,
                mentor_cap_across_programs=3,
                matching_mode=common_pb2.MATCHING_MODE_OPTIMISE,
                objective=common_pb2.MATCHING_OBJECTIVE_MOST_MATCHED_THEN_SCORE,
                weights=common_pb2.ScoringWeights(
                    skills=35,
                    goals=25,
                    nomination=20,
                    diversity=10,
                    seniority_gap=10,
                    repeat_pairing_penalty=30,
                ),
                min_overlap_hours=2.0,
                response_window_hours=72,
                manager_ids=[PROGRAM_MANAGER],
            ),
        ),
        metadata=hr,
    )
    console.print(f"Program {program.program_id}: {program.name}")

    console.rule("3. Employees enrol")
    mentors = [person for person in people if 8 <= person.grade <= 10]
    mentees = [person for person in people if person.grade <= 6][:24]
    for person in mentors:
        enrol(
            enrollment,
            enrollment_pb2.EnrollRequest(
                program_id=program.program_id,
                employee_id=person.employee_id,
                role=common_pb2.ROLE_MENTOR,
                request_id=f"demo-{uuid.uuid4().hex}",
                profile=common_pb2.Profile(skills_offered=list(person.skills), languages=["en"], capacity=2),
            ),
            logins.of(person.employee_id),
        )
    rng = random.Random(11)
    reporting_lines = {person.employee_id: person.manager_id for person in people}
    for person in mentees:
        wanted = rng.sample(DEPARTMENTS[rng.choice(list(DEPARTMENTS))], 2)
        goal = common_pb2.Goal(
            what=f"Get confident in {wanted[0]}",
            metric="projects delivered",
            target="2",
            due=timestamp(now + timedelta(days=150)),
            skill_tags=[wanted[0]],
        )
        # Admired people outside one's own management chain (enrolment refuses a boss).
        chain = set(management_chain(reporting_lines, person.employee_id))
        admired = [mentor for mentor in mentors if mentor.employee_id not in chain]
        nominated = [mentor.employee_id for mentor in rng.sample(admired, 2)]
        enrol(
            enrollment,
            enrollment_pb2.EnrollRequest(
                program_id=program.program_id,
                employee_id=person.employee_id,
                role=common_pb2.ROLE_MENTEE,
                request_id=f"demo-{uuid.uuid4().hex}",
                profile=common_pb2.Profile(
                    skills_wanted=wanted, goals=[goal], nominated_mentor_ids=nominated, languages=["en"]
                ),
            ),
            logins.of(person.employee_id),
        )
    console.print(f"{len(mentors)} mentors and {len(mentees)} mentees enrolled.")

    console.rule("4. Matching")

    def preview_complete() -> matching_pb2.MatchingRun:
        preview = matching.PreviewMatching(
            matching_pb2.RunMatchingRequest(program_id=program.program_id), metadata=manager
        )
        seen = sum(len(match.mentee_enrollment_ids) for match in preview.matches) + len(preview.unmatched)
        if seen < len(mentees):
            raise LookupError(f"matching has {seen} of {len(mentees)} mentees")
        return preview

    eventually(preview_complete, "matching pool")
    run = matching.RunMatching(
        matching_pb2.RunMatchingRequest(program_id=program.program_id, request_id=f"demo-{uuid.uuid4().hex}"),
        metadata=hr,
    )
    table = Table(title=f"Matches of run {run.run_id}")
    for column in ("mentor", "mentee", "score", "breakdown"):
        table.add_column(column)
    for match in run.matches:
        breakdown = ", ".join(f"{part.name} {part.points:+.1f}" for part in match.breakdown if part.points)
        table.add_row(
            match.mentor_employee_id, ", ".join(match.mentee_employee_ids), f"{match.score:.1f}", breakdown
        )
    console.print(table)
    for unmatched in run.unmatched:
        console.print(f"unmatched {unmatched.enrollment_id}: {unmatched.reason_code} — {unmatched.reason}")
    quality = run.quality
    console.print(
        f"quality: total score {quality.total_score:.1f}, "
        f"{quality.share_of_optimum:.2%} of the exact optimum, "
        f"{quality.matched} matched of at most {quality.max_matchable} the hard rules allow, "
        f"{quality.blocking_pairs} blocking pairs, solved in {quality.solve_seconds * 1000:.1f} ms"
    )
    if not run.matches:
        return DemoOutcome(len(people), len(mentees), run, None, None, [])

    console.rule("5. A pair accepts and meets")
    first = run.matches[0]
    mentee_id = first.mentee_employee_ids[0]
    matching.AcceptMatch(
        matching_pb2.RespondToMatchRequest(match_id=first.match_id, employee_id=first.mentor_employee_id),
        metadata=logins.of(first.mentor_employee_id),
    )
    active = matching.AcceptMatch(
        matching_pb2.RespondToMatchRequest(match_id=first.match_id, employee_id=mentee_id),
        metadata=logins.of(mentee_id),
    )
    console.print(f"match {active.match_id}: {common_pb2.MatchStatus.Name(active.status)}")
    session = eventually(
        lambda: sessions.ScheduleSession(
            session_pb2.ScheduleSessionRequest(
                match_id=first.match_id,
                starts_at=timestamp(now + timedelta(days=3)),
                duration_minutes=45,
                agenda="Goals and first steps",
                request_id=f"demo-{first.match_id}",
            ),
            metadata=logins.of(mentee_id),
        ),
        "session relationship",
    )
    console.print(
        f"session {session.session_id} scheduled for {session.starts_at.ToDatetime():%Y-%m-%d %H:%M} UTC"
    )

    def inbox_with_activation() -> list[notification_pb2.InboxItem]:
        request = notification_pb2.ListInboxRequest(recipient_id=mentee_id)
        items = list(notifications.ListInbox(request, metadata=logins.of(mentee_id)).items)
        if not any(item.template == "match_activated" for item in items):
            raise LookupError("the activation has not reached the inbox yet")
        return items

    inbox = eventually(inbox_with_activation, "inbox")
    console.rule(f"6. The mentee's inbox ({mentee_id})")
    for item in inbox:
        console.print(f"• {item.title}: {item.body}")
    return DemoOutcome(len(people), len(mentees), run, active, session, list(inbox))
