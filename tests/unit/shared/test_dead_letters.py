"""What a dead letter keeps of its record: everything when it fits in a request, what identifies it when
it does not (a record near the size limit plus our headers would otherwise never be accepted)."""

from __future__ import annotations

import hashlib

from services.shared.dlq import KEPT_PREFIX_BYTES, TOO_LARGE, RawRecord, dead_letter
from services.shared.topics import MAX_RECORD_BYTES

HEADERS = (("ce_id", b"e-1"), ("ce_type", b"mentoring.enrollment.program.created.v1"), ("x-trace", b"t"))


def _record(value_bytes: int) -> RawRecord:
    return RawRecord("enrollment.events.v1", 3, 41, b"prog-1", b"v" * value_bytes, HEADERS)


def test_a_record_that_fits_is_copied_whole_with_why_and_where() -> None:
    letter = dead_letter(_record(100), "malformed", "not protobuf", "matching")
    headers = dict(letter.headers)
    assert (letter.topic, letter.key, letter.value, letter.reason) == (
        "enrollment.events.v1.dlq",
        b"prog-1",
        b"v" * 100,
        "malformed",
    )
    assert headers["x-trace"] == b"t"
    assert headers["dlq_reason"] == b"malformed"
    assert headers["dlq_service"] == b"matching"
    assert (headers["dlq_original_partition"], headers["dlq_original_offset"]) == (b"3", b"41")


def test_a_near_limit_record_is_cut_to_what_identifies_it() -> None:
    value_bytes = 1_048_420  # fits the topic, but not once our headers are added
    letter = dead_letter(_record(value_bytes), "malformed", "not protobuf", "enrollment")
    headers = dict(letter.headers)
    assert letter.value is None
    assert letter.reason == TOO_LARGE
    assert headers["dlq_reason"] == b"too_large"
    assert headers["dlq_original_reason"] == b"malformed"
    assert headers["dlq_value_length"] == str(value_bytes).encode()
    assert headers["dlq_value_sha256"] == hashlib.sha256(b"v" * value_bytes).hexdigest().encode()
    assert headers["dlq_value_head"] == b"v" * KEPT_PREFIX_BYTES
    assert headers["ce_id"] == b"e-1", "the CloudEvents headers stay, so the event can be found"
    assert "x-trace" not in headers
    assert sum(len(name) + len(raw) for name, raw in letter.headers) < 4096


def test_huge_headers_and_key_are_cut_too() -> None:
    record = RawRecord("t", 0, 0, b"k" * 2_000_000, b"", (("ce_subject", b"s" * 2_000_000),))
    letter = dead_letter(record, "invalid_argument:subject", "too long", "session")
    assert letter.key == b"k" * KEPT_PREFIX_BYTES
    assert dict(letter.headers)["ce_subject"] == b"s" * KEPT_PREFIX_BYTES
    size = len(letter.key or b"") + sum(len(name) + len(raw) for name, raw in letter.headers)
    assert size < MAX_RECORD_BYTES


def test_the_broker_refusing_a_copy_gets_the_cut_form() -> None:
    letter = dead_letter(_record(100), "malformed", "x", "matching", max_bytes=0)
    assert letter.value is None and letter.reason == TOO_LARGE
