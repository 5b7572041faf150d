"""The CloudEvents codec and the topic registry: every registered type round-trips, bad records fail typed."""

from __future__ import annotations

import json

import pytest
from mentoring.v1 import events_pb2

from services.shared.envelope import (
    MalformedRecord,
    UnknownEventType,
    decode,
    encode_binary,
    new_event,
)
from services.shared.topics import EVENT_TYPES, TOPICS, ce_type_of, types_of_topic


@pytest.mark.parametrize("ce_type", sorted(EVENT_TYPES))
def test_every_registered_example_round_trips_in_binary_mode(ce_type: str) -> None:
    example = EVENT_TYPES[ce_type].example()
    event = new_event(ce_type, "test", example, subject="subject-1", tenant="acme")
    headers, value = encode_binary(event)
    decoded = decode(headers, value)
    assert decoded.type == ce_type
    assert decoded.id == event.id
    assert decoded.tenant == "acme"
    assert decoded.subject == "subject-1"
    assert decoded.data == example
    assert example.ByteSize() > 0, "an example must carry data"


def test_every_type_lives_on_a_registered_topic_and_every_topic_has_types() -> None:
    for event_type in EVENT_TYPES.values():
        assert event_type.topic in TOPICS
        assert event_type.ce_type.startswith("mentoring.") and event_type.ce_type.endswith(".v1")
    for topic in TOPICS:
        assert types_of_topic(topic), f"{topic} carries no type"
        assert TOPICS[topic].dlq == f"{topic}.dlq"


def test_each_message_class_maps_back_to_its_one_type() -> None:
    assert ce_type_of(events_pb2.MatchProposed) == "mentoring.matching.match.proposed.v1"


def test_binary_headers_follow_cloudevents_kafka_binding() -> None:
    event = new_event(
        "mentoring.enrollment.program.closed.v1",
        "enrollment",
        events_pb2.ProgramClosed(program_id="p1"),
        tenant="acme",
    )
    headers = dict(encode_binary(event)[0])
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/protobuf"
    assert headers["ce_tenant"] == b"acme"
    assert {"ce_id", "ce_source", "ce_type", "ce_time"} <= headers.keys()


def test_new_event_refuses_a_payload_of_the_wrong_class() -> None:
    with pytest.raises(TypeError):
        new_event("mentoring.enrollment.program.closed.v1", "x", events_pb2.MatchProposed())


def test_unknown_type_is_a_typed_error() -> None:
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"x"), ("ce_type", b"nope.v1")]
    with pytest.raises(UnknownEventType) as raised:
        decode(headers, b"")
    assert raised.value.reason == "unknown_type"


@pytest.mark.parametrize(
    ("headers", "value", "fragment"),
    [
        ([("ce_id", b"1"), ("ce_source", b"x")], b"", "type"),
        (
            [("ce_id", b"1"), ("ce_source", b"x"), ("ce_type", b"mentoring.enrollment.program.closed.v1")],
            b"\xff\xff\xff",
            "ProgramClosed",
        ),
        (
            [("ce_id", b"1"), ("ce_source", b"x"), ("ce_type", b"mentoring.enrollment.program.closed.v1")],
            None,
            "no value",
        ),
        ([("ce_id", b"\xff"), ("ce_source", b"x")], b"", "UTF-8"),
        ([("content-type", b"application/cloudevents+json")], b"{not json", "not JSON"),
        ([("content-type", b"application/cloudevents+json")], b"[1]", "object"),
    ],
)
def test_malformed_records_are_typed_errors(
    headers: list[tuple[str, bytes]], value: bytes | None, fragment: str
) -> None:
    with pytest.raises(MalformedRecord) as raised:
        decode(headers, value)
    assert fragment in raised.value.message
    assert raised.value.reason == "malformed"


def test_structured_json_hris_record_keeps_scim_data_as_json() -> None:
    document = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "workday",
        "type": "mentoring.hris.worker.hired.v1",
        "time": "2026-01-02T03:04:05Z",
        "tenant": "acme",
        "sequence": "7",
        "data": {"employeeNumber": "E-1", "department": "Sales", "costCenter": "CC1"},
    }
    event = decode([("content-type", b"application/cloudevents+json")], json.dumps(document).encode())
    assert event.data == document["data"]
    assert event.tenant == "acme"
    assert event.extensions == {"sequence": "7"}
    assert event.time.year == 2026 and event.time.tzinfo is not None


def test_structured_json_of_a_protobuf_type_is_parsed_into_the_message() -> None:
    document = {
        "specversion": "1.0",
        "id": "e",
        "source": "s",
        "type": "mentoring.enrollment.program.closed.v1",
        "data": {"programId": "p-9"},
    }
    event = decode([("content-type", b"application/cloudevents+json")], json.dumps(document).encode())
    assert event.data == events_pb2.ProgramClosed(program_id="p-9")


def test_structured_json_with_bad_data_is_malformed() -> None:
    document = {
        "specversion": "1.0",
        "id": "e",
        "source": "s",
        "type": "mentoring.enrollment.program.closed.v1",
        "data": {"noSuchField": 1},
    }
    with pytest.raises(MalformedRecord):
        decode([("content-type", b"application/cloudevents+json")], json.dumps(document).encode())
