"""CloudEvents 1.0 envelope over Kafka.

Binary mode (what we produce): attributes in ``ce_*`` headers, the protobuf message of the type as the
value. Structured JSON mode (``application/cloudevents+json``) is accepted on input, as HRIS adapters
send it. Anything else is a typed :class:`EnvelopeError` with a reason code, ready for a DLQ.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from services.shared.errors import InvalidArgument
from services.shared.topics import EVENT_TYPES, EventType, check_producer, source_of

SPEC_VERSION = "1.0"
PROTOBUF_CONTENT_TYPE = "application/protobuf"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
TENANT_ATTRIBUTE = "tenant"
_REQUIRED_ATTRIBUTES = ("id", "source", "type")

Headers = Sequence[tuple[str, bytes]]

M = TypeVar("M", bound=Message)


class EnvelopeError(Exception):
    """A record that cannot be turned into a CloudEvent; ``reason`` is a stable code for the DLQ."""

    reason = "malformed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedRecord(EnvelopeError):
    reason = "malformed"


class UnknownEventType(EnvelopeError):
    reason = "unknown_type"


@dataclass(frozen=True, slots=True)
class CloudEvent:
    type: str
    source: str
    data: Message | dict[str, Any]
    subject: str = ""
    tenant: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    extensions: Mapping[str, str] = field(default_factory=dict)

    def message(self) -> Message:
        """The protobuf payload; a structured-JSON payload the registry keeps as JSON is an error here."""
        if isinstance(self.data, Message):
            return self.data
        raise MalformedRecord(f"{self.type} carries JSON data, not a protobuf message")

    def payload(self, message_type: builtins.type[M]) -> M:
        """The protobuf payload as ``message_type``; a record that carries another is invalid data."""
        message = self.message()
        if not isinstance(message, message_type):
            raise InvalidArgument("data", f"{self.type} does not carry a {message_type.__name__}")
        return message


def new_event(ce_type: str, source: str, data: Message, subject: str = "", tenant: str = "") -> CloudEvent:
    """A fresh event of a registered type; refuses a payload of the wrong message class."""
    event_type = _lookup(ce_type)
    if not isinstance(data, event_type.message):
        raise TypeError(f"{ce_type} carries {event_type.message.__name__}, not {type(data).__name__}")
    return CloudEvent(type=ce_type, source=source, data=data, subject=subject, tenant=tenant)


def published_event(producer: str, data: Message, *, subject: str = "", tenant: str = "") -> CloudEvent:
    """An event ``producer`` publishes: its type and source come from the topic registry, which must list
    ``producer`` as a producer of the topic the message travels on."""
    event_type = check_producer(producer, type(data))
    return CloudEvent(
        type=event_type.ce_type, source=source_of(producer), data=data, subject=subject, tenant=tenant
    )


def encode_binary(event: CloudEvent) -> tuple[list[tuple[str, bytes]], bytes]:
    """Headers and value of a binary-mode Kafka record."""
    headers = binary_headers(
        event.id,
        event.source,
        event.type,
        event.time.isoformat(),
        event.subject,
        event.tenant,
        event.extensions,
    )
    return headers, event.message().SerializeToString()


def binary_headers(
    event_id: str,
    source: str,
    ce_type: str,
    time_text: str,
    subject: str = "",
    tenant: str = "",
    extensions: Mapping[str, str] | None = None,
) -> list[tuple[str, bytes]]:
    """The ``ce_*`` headers of a binary-mode record, from attributes already in text form."""
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_time", time_text.encode()),
        ("content-type", b"application/protobuf"),
    ]
    if subject:
        headers.append(("ce_subject", subject.encode()))
    if tenant:
        headers.append((f"ce_{TENANT_ATTRIBUTE}", tenant.encode()))
    if extensions:
        headers.extend((f"ce_{name}", value.encode()) for name, value in extensions.items())
    return headers


def decode(headers: Headers | None, value: bytes | None) -> CloudEvent:
    """Decode a Kafka record in binary or structured mode into a CloudEvent."""
    header_map = _header_map(headers or ())
    content_type = header_map.get("content-type", "")
    if content_type.startswith(STRUCTURED_CONTENT_TYPE) or (
        "ce_type" not in header_map and value is not None and value[:1] == b"{"
    ):
        return _decode_structured(value)
    return _decode_binary(header_map, value)


def _decode_binary(header_map: Mapping[str, str], value: bytes | None) -> CloudEvent:
    attributes = {name[3:]: text for name, text in header_map.items() if name.startswith("ce_")}
    _require_attributes(attributes)
    if attributes.get("specversion", SPEC_VERSION) != SPEC_VERSION:
        raise MalformedRecord(f"unsupported specversion {attributes['specversion']!r}")
    event_type = _lookup(attributes["type"])
    if value is None:
        raise MalformedRecord("record has no value")
    payload = event_type.message()
    try:
        payload.ParseFromString(value)
    except DecodeError as exc:
        raise MalformedRecord(f"value is not a valid {event_type.message.__name__}: {exc}") from exc
    return _build(attributes, payload)


def _decode_structured(value: bytes | None) -> CloudEvent:
    if not value:
        raise MalformedRecord("structured record has no body")
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedRecord(f"structured record is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise MalformedRecord("structured record is not a JSON object")
    attributes = {
        str(name): str(text) for name, text in document.items() if name != "data" and text is not None
    }
    _require_attributes(attributes)
    event_type = _lookup(attributes["type"])
    data = document.get("data")
    if not isinstance(data, dict):
        raise MalformedRecord("structured record has no JSON object in 'data'")
    if event_type.structured_data_as_json:
        return _build(attributes, data)
    try:
        payload = json_format.ParseDict(data, event_type.message())
    except json_format.ParseError as exc:
        raise MalformedRecord(f"data is not a valid {event_type.message.__name__}: {exc}") from exc
    return _build(attributes, payload)


def _build(attributes: Mapping[str, str], data: Message | dict[str, Any]) -> CloudEvent:
    known = {"specversion", "id", "source", "type", "time", "subject", TENANT_ATTRIBUTE, "datacontenttype"}
    return CloudEvent(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        time=_parse_time(attributes.get("time")),
        subject=attributes.get("subject", ""),
        tenant=attributes.get(TENANT_ATTRIBUTE, ""),
        data=data,
        extensions={name: text for name, text in attributes.items() if name not in known},
    )


def _header_map(headers: Headers) -> dict[str, str]:
    try:
        return {name.lower(): raw.decode() for name, raw in headers if raw is not None}
    except UnicodeDecodeError as exc:
        raise MalformedRecord(f"a header is not UTF-8: {exc}") from exc


def _require_attributes(attributes: Mapping[str, str]) -> None:
    missing = [name for name in _REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise MalformedRecord(f"missing CloudEvents attribute(s): {', '.join(missing)}")


def _lookup(ce_type: str) -> EventType:
    try:
        return EVENT_TYPES[ce_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {ce_type!r}") from None


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedRecord(f"time {text!r} is not RFC 3339") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
