"""The one registry of topics and event types: name, key, value types, producers, consumers,
partitions, retention, DLQ, and an example message per type that a test decodes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2 as common
from mentoring.v1 import events_pb2 as ev

HRIS_WORKER_EVENTS = "hris.worker.events.v1"
ENROLLMENT_EVENTS = "enrollment.events.v1"
MATCHING_EVENTS = "matching.events.v1"
SESSION_EVENTS = "session.events.v1"
NOTIFICATION_EVENTS = "notification.events.v1"
AUDIT_EVENTS = "audit.events.v1"

DAY_MS = 24 * 3600 * 1000
WEEK_MS = 7 * DAY_MS
# The audit trail is kept longer than the events that drive the services: a year and a bit, so that a
# yearly review still finds last year's records. The default of the setting MENTORING_AUDIT_RETENTION_DAYS
# (each service's audit_log table); the topic is created with it.
AUDIT_RETENTION_DAYS = 400
SERVICES = ("enrollment", "matching", "session", "notification")

# The largest record we produce (the producers' max_request_size). Topics accept a little more
# (TOPIC_MAX_MESSAGE_BYTES: the batch's own overhead), so whatever a producer of ours sends, the broker
# takes; a record consumed near the limit is dead-lettered cut down when its copy would not fit.
MAX_RECORD_BYTES = 1024 * 1024
TOPIC_MAX_MESSAGE_BYTES = MAX_RECORD_BYTES + 64 * 1024


def dlq_name(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    key: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    partitions: int = 6
    retention_ms: int = 4 * WEEK_MS
    compacted: bool = False

    @property
    def dlq(self) -> str:
        return dlq_name(self.name)


@dataclass(frozen=True, slots=True)
class EventType:
    ce_type: str
    topic: str
    message: type[Message]
    example: Callable[[], Message]
    # Structured-JSON records of this type keep their data as JSON for the consumer to map (HRIS sends
    # SCIM field names, not the protobuf JSON mapping).
    structured_data_as_json: bool = False


TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (
        Topic(HRIS_WORKER_EVENTS, "tenant:worker", ("hris-adapter", "csv-import", "demo"), ("enrollment",)),
        Topic(ENROLLMENT_EVENTS, "program_id", ("enrollment",), ("matching", "session", "notification")),
        Topic(MATCHING_EVENTS, "match_id", ("matching",), ("session", "notification")),
        Topic(SESSION_EVENTS, "match_id", ("session",), ("notification",)),
        Topic(NOTIFICATION_EVENTS, "recipient_id", ("notification",), ()),
        # Read by the organisation's own audit tooling, none of the services.
        Topic(AUDIT_EVENTS, "tenant", SERVICES, (), retention_ms=AUDIT_RETENTION_DAYS * DAY_MS),
    )
}


def _ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def _worker_change() -> ev.WorkerChange:
    return ev.WorkerChange(
        worker=ev.WorkerRecord(
            employee_number="E-1001",
            manager="E-0007",
            department="Engineering",
            division="Platform",
            organization="Acme",
            cost_center="CC-42",
            title="Senior Engineer",
            grade=7,
            location="Berlin",
            timezone="Europe/Berlin",
            languages=["en", "de"],
            languages_present=True,
            skills=["python", "kafka"],
            skills_present=True,
            hire_date=_ts(1_600_000_000),
            status="active",
        ),
        effective_time=_ts(1_700_000_000),
        sequence=1,
    )


def _program() -> common.Program:
    return common.Program(
        program_id="prog-1",
        tenant="acme",
        name="Engineering mentoring 2027",
        format=common.PROGRAM_FORMAT_ONE_ON_ONE,
        delivery=common.DELIVERY_REMOTE,
        formal=True,
        mentor_capacity_default=2,
        mentor_cap_across_programs=4,
        matching_mode=common.MATCHING_MODE_OPTIMISE,
        objective=common.MATCHING_OBJECTIVE_MOST_MATCHED_THEN_SCORE,
        weights=common.ScoringWeights(
            skills=1.0, goals=1.0, nomination=1.0, diversity=0.5, seniority_gap=0.5
        ),
        min_overlap_hours=3.0,
        status=common.PROGRAM_STATUS_OPEN,
    )


def _participant() -> common.Participant:
    return common.Participant(
        enrollment_id="enr-1",
        program_id="prog-1",
        employee_id="E-1001",
        role=common.ROLE_MENTEE,
        grade=5,
        department="Engineering",
        location="Berlin",
        timezone="Europe/Berlin",
        profile=common.Profile(
            skills_wanted=["architecture"],
            goals=[common.Goal(goal_id="g1", what="Lead a design review", metric="reviews", target="3")],
            nominated_mentor_ids=["E-0042"],
            languages=["en"],
        ),
        management_chain_ids=["E-0007", "E-0001"],
        status=common.ENROLLMENT_STATUS_ACTIVE,
    )


def _match() -> common.Match:
    return common.Match(
        match_id="m-1",
        program_id="prog-1",
        mentor_enrollment_id="enr-2",
        mentee_enrollment_ids=["enr-1"],
        mentor_employee_id="E-0042",
        mentee_employee_ids=["E-1001"],
        score=71.5,
        breakdown=[common.ScoreComponent(name="skills", points=40.0)],
        status=common.MATCH_STATUS_PROPOSED,
        origin="solver",
    )


def _session() -> ev.Session:
    return ev.Session(
        session_id="s-1",
        match_id="m-1",
        starts_at=_ts(1_800_000_000),
        duration_minutes=45,
        status="scheduled",
    )


def _audit_recorded() -> ev.AuditRecorded:
    return ev.AuditRecorded(
        audit_id="a-1",
        recorded_at=_ts(1_800_000_000),
        service="matching",
        grpc_service="mentoring.v1.MatchingService",
        grpc_method="CreateManualMatch",
        outcome="OK",
        tenant="acme",
        actor=ev.AuditActor(employee_id="HR-1", subject="7f0c7a52-8d1e-4f0b-9d7e-1b2c3d4e5f60"),
        ids=[
            ev.AuditIds(field="program_id", values=["prog-1"]),
            ev.AuditIds(field="mentee_enrollment_ids", values=["enr-1"]),
        ],
        audited=True,
    )


def _hris(ce_type: str, message: type[Message]) -> EventType:
    return EventType(
        f"mentoring.hris.worker.{ce_type}.v1",
        HRIS_WORKER_EVENTS,
        message,
        lambda: message(change=_worker_change()),
        structured_data_as_json=True,
    )


_TYPES: tuple[EventType, ...] = (
    _hris("hired", ev.WorkerHired),
    _hris("updated", ev.WorkerUpdated),
    _hris("transferred", ev.WorkerTransferred),
    _hris("leave_started", ev.WorkerLeaveStarted),
    _hris("leave_ended", ev.WorkerLeaveEnded),
    _hris("terminated", ev.WorkerTerminated),
    _hris("rehired", ev.WorkerRehired),
    _hris("erased", ev.WorkerErased),
    EventType(
        "mentoring.enrollment.program.created.v1",
        ENROLLMENT_EVENTS,
        ev.ProgramCreated,
        lambda: ev.ProgramCreated(program=_program()),
    ),
    EventType(
        "mentoring.enrollment.program.updated.v1",
        ENROLLMENT_EVENTS,
        ev.ProgramUpdated,
        lambda: ev.ProgramUpdated(program=_program()),
    ),
    EventType(
        "mentoring.enrollment.program.closed.v1",
        ENROLLMENT_EVENTS,
        ev.ProgramClosed,
        lambda: ev.ProgramClosed(program_id="prog-1"),
    ),
    EventType(
        "mentoring.enrollment.participant.enrolled.v1",
        ENROLLMENT_EVENTS,
        ev.ParticipantEnrolled,
        lambda: ev.ParticipantEnrolled(participant=_participant()),
    ),
    EventType(
        "mentoring.enrollment.participant.updated.v1",
        ENROLLMENT_EVENTS,
        ev.ParticipantUpdated,
        lambda: ev.ParticipantUpdated(participant=_participant()),
    ),
    EventType(
        "mentoring.enrollment.participant.paused.v1",
        ENROLLMENT_EVENTS,
        ev.ParticipantPaused,
        lambda: ev.ParticipantPaused(participant=_participant(), reason="leave"),
    ),
    EventType(
        "mentoring.enrollment.participant.resumed.v1",
        ENROLLMENT_EVENTS,
        ev.ParticipantResumed,
        lambda: ev.ParticipantResumed(participant=_participant()),
    ),
    EventType(
        "mentoring.enrollment.participant.withdrawn.v1",
        ENROLLMENT_EVENTS,
        ev.ParticipantWithdrawn,
        lambda: ev.ParticipantWithdrawn(participant=_participant(), reason="terminated"),
    ),
    EventType(
        "mentoring.enrollment.employee.erased.v1",
        ENROLLMENT_EVENTS,
        ev.EmployeeErased,
        lambda: ev.EmployeeErased(employee_id="E-1001"),
    ),
    EventType(
        "mentoring.matching.match.proposed.v1",
        MATCHING_EVENTS,
        ev.MatchProposed,
        lambda: ev.MatchProposed(match=_match()),
    ),
    EventType(
        "mentoring.matching.match.accepted.v1",
        MATCHING_EVENTS,
        ev.MatchAccepted,
        lambda: ev.MatchAccepted(match=_match(), by=common.ROLE_MENTOR),
    ),
    EventType(
        "mentoring.matching.match.declined.v1",
        MATCHING_EVENTS,
        ev.MatchDeclined,
        lambda: ev.MatchDeclined(match=_match(), by=common.ROLE_MENTEE, reason="timing"),
    ),
    EventType(
        "mentoring.matching.match.activated.v1",
        MATCHING_EVENTS,
        ev.MatchActivated,
        lambda: ev.MatchActivated(match=_match()),
    ),
    EventType(
        "mentoring.matching.match.ended.v1",
        MATCHING_EVENTS,
        ev.MatchEnded,
        lambda: ev.MatchEnded(match=_match(), by=common.ROLE_MENTEE, rematch_offered=True),
    ),
    EventType(
        "mentoring.session.session.scheduled.v1",
        SESSION_EVENTS,
        ev.SessionScheduled,
        lambda: ev.SessionScheduled(session=_session()),
    ),
    EventType(
        "mentoring.session.session.completed.v1",
        SESSION_EVENTS,
        ev.SessionCompleted,
        lambda: ev.SessionCompleted(session=_session()),
    ),
    EventType(
        "mentoring.session.session.cancelled.v1",
        SESSION_EVENTS,
        ev.SessionCancelled,
        lambda: ev.SessionCancelled(session=_session(), reason="illness"),
    ),
    EventType(
        "mentoring.session.goal.progress_recorded.v1",
        SESSION_EVENTS,
        ev.GoalProgressRecorded,
        lambda: ev.GoalProgressRecorded(match_id="m-1", goal_id="g1", progress=0.5),
    ),
    EventType(
        "mentoring.session.feedback.submitted.v1",
        SESSION_EVENTS,
        ev.FeedbackSubmitted,
        lambda: ev.FeedbackSubmitted(match_id="m-1", session_id="s-1", by=common.ROLE_MENTEE, rating=5),
    ),
    EventType(
        "mentoring.session.relationship.health_changed.v1",
        SESSION_EVENTS,
        ev.RelationshipHealthChanged,
        lambda: ev.RelationshipHealthChanged(
            match_id="m-1",
            program_id="prog-1",
            at_risk=True,
            reasons=[ev.RELATIONSHIP_RISK_MISSED_CADENCE],
            since=_ts(1_700_000_000),
        ),
    ),
    EventType(
        "mentoring.notification.notification.delivered.v1",
        NOTIFICATION_EVENTS,
        ev.NotificationDelivered,
        lambda: ev.NotificationDelivered(notification_id="n-1", recipient_id="E-1001", channel="in_app"),
    ),
    EventType(
        "mentoring.notification.notification.failed.v1",
        NOTIFICATION_EVENTS,
        ev.NotificationFailed,
        lambda: ev.NotificationFailed(
            notification_id="n-1", recipient_id="E-1001", channel="email", reason="smtp_unreachable"
        ),
    ),
    EventType("mentoring.audit.rpc.recorded.v1", AUDIT_EVENTS, ev.AuditRecorded, _audit_recorded),
)

EVENT_TYPES: dict[str, EventType] = {event_type.ce_type: event_type for event_type in _TYPES}


def types_of_topic(topic: str) -> list[EventType]:
    return [event_type for event_type in _TYPES if event_type.topic == topic]


_TYPE_OF_MESSAGE: dict[type[Message], EventType] = {event_type.message: event_type for event_type in _TYPES}


def event_type_of(message: type[Message]) -> EventType:
    """The event type that carries this message class (each class has exactly one)."""
    try:
        return _TYPE_OF_MESSAGE[message]
    except KeyError:
        raise KeyError(f"no event type carries {message.__name__}") from None


def ce_type_of(message: type[Message]) -> str:
    """The CloudEvents type that carries this message class."""
    return event_type_of(message).ce_type


def source_of(producer: str) -> str:
    """The ``ce_source`` of everything ``producer`` publishes (one of a topic's producers)."""
    return f"/mentoring/{producer}"


class RegistryMismatch(Exception):
    """A service publishes or consumes what the registry does not list it for."""


def check_producer(producer: str, message: type[Message]) -> EventType:
    """The event type of ``message``, once the registry confirms that ``producer`` publishes it."""
    event_type = event_type_of(message)
    topic = TOPICS[event_type.topic]
    if producer not in topic.producers:
        raise RegistryMismatch(f"{producer} is not a producer of {topic.name} ({event_type.ce_type})")
    return event_type


def check_consumer(consumer: str, topic: str, ce_types: Iterable[str]) -> None:
    """Refuse a subscription the registry does not list: a topic ``consumer`` does not consume, or a type
    that does not travel on ``topic``."""
    if consumer not in TOPICS[topic].consumers:
        raise RegistryMismatch(f"{consumer} is not a consumer of {topic}")
    for ce_type in ce_types:
        event_type = EVENT_TYPES.get(ce_type)
        if event_type is None or event_type.topic != topic:
            raise RegistryMismatch(f"{ce_type} does not travel on {topic}")
