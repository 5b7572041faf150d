"""Dead letters about a person sealed under that person's key (crypto-shredding): nothing personal in
clear, the original back with the key, nothing without it; near-limit letters still fit once sealed."""

from __future__ import annotations

import pytest

from services.shared.dlq import (
    CLEAR_HEADERS,
    RECORD_OVERHEAD_BYTES,
    SEALED,
    SEALED_FOR,
    TOO_LARGE,
    DlqPublisher,
    RawRecord,
    dead_letter,
    open_letter,
    person_of,
    seal_letter,
)
from services.shared.personal_keys import Unreadable, new_key
from services.shared.topics import MAX_RECORD_BYTES

MARKER = b"sealed.person.marker@example.com"
TOPIC = "ns.hris.worker.events.v1"
HEADERS = (
    ("ce_id", b"e-1"),
    ("ce_type", b"mentoring.hris.worker.updated.v1"),
    ("ce_tenant", b"acme"),
    ("ce_subject", b"W-7 " + MARKER),
    ("x-extension", MARKER),
)


def _record(value: bytes, key: bytes | None = b"acme:W-7") -> RawRecord:
    return RawRecord(TOPIC, 2, 17, key, value, HEADERS)


def _everything(letter_value: bytes | None, headers: tuple[tuple[str, bytes], ...]) -> bytes:
    return (letter_value or b"") + b"".join(name.encode() + raw for name, raw in headers)


class Keys:
    """A key source in memory (the service keeps them in its database)."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], bytes] = {}

    async def key_for_sealing(self, tenant: str, subject: str) -> bytes:
        return self.keys.setdefault((tenant, subject), new_key())


def test_a_sealed_letter_shows_nothing_personal_and_opens_with_the_key() -> None:
    value = b'{"data": {"email": "' + MARKER + b'"}}'
    letter = dead_letter(_record(value), "invalid_argument:email", f"bad e-mail {MARKER!r}", "enrollment")
    key = new_key()
    sealed = seal_letter(letter, "acme", "W-7", key)
    headers = dict(sealed.headers)

    assert MARKER not in _everything(sealed.value, sealed.headers)
    assert sealed.key == b"acme:W-7" and sealed.topic == TOPIC + ".dlq"
    assert headers[SEALED_FOR] == b"acme:W-7" and headers[SEALED] == b"aes-256-gcm.v1"
    assert (headers["ce_id"], headers["dlq_reason"], headers["dlq_original_offset"]) == (
        b"e-1",
        b"invalid_argument:email",
        b"17",
    )
    assert headers["dlq_error"] != dict(letter.headers)["dlq_error"]

    opened_value, opened_headers = open_letter(sealed.value, sealed.headers, key)
    assert (opened_value, opened_headers) == (letter.value, letter.headers)


def test_without_the_key_nothing_opens() -> None:
    letter = dead_letter(_record(MARKER), "malformed", "x", "enrollment")
    sealed = seal_letter(letter, "acme", "W-7", new_key())
    with pytest.raises(Unreadable):
        open_letter(sealed.value, sealed.headers, new_key())


def test_a_sealed_field_is_bound_to_its_person() -> None:
    key = new_key()
    sealed = seal_letter(dead_letter(_record(MARKER), "malformed", "x", "enrollment"), "acme", "W-7", key)
    moved = tuple((n, b"acme:W-8" if n == SEALED_FOR else raw) for n, raw in sealed.headers)
    with pytest.raises(Unreadable):
        open_letter(sealed.value, moved, key)


def test_a_too_large_letter_keeps_its_first_bytes_and_digest_sealed() -> None:
    value = MARKER + b"v" * 1_048_400
    letter = dead_letter(_record(value), "malformed", "not protobuf", "enrollment")
    assert letter.reason == TOO_LARGE
    sealed = seal_letter(letter, "acme", "W-7", new_key())
    assert MARKER not in _everything(sealed.value, sealed.headers)
    assert {name for name, _ in sealed.headers} >= {"dlq_value_head", "dlq_value_sha256", "dlq_value_length"}
    assert dict(sealed.headers)["dlq_value_length"] == str(len(value)).encode()


async def test_the_publisher_seals_its_sealed_topic_only_and_a_near_limit_letter_still_fits() -> None:
    keys = Keys()
    publisher = DlqPublisher("enrollment", "127.0.0.1:1")
    publisher.seal_topic(TOPIC, keys)

    letter = await publisher.letter_for(_record(MARKER), "malformed", "x")
    assert dict(letter.headers)[SEALED_FOR] == b"acme:W-7"
    assert open_letter(letter.value, letter.headers, keys.keys["acme", "W-7"])[0] == MARKER

    other = await publisher.letter_for(RawRecord("ns.other", 0, 0, b"k", MARKER, ()), "malformed", "x")
    assert other.value == MARKER and SEALED not in dict(other.headers)

    # Fits unsealed (to the byte), not once every field carries its nonce and tag: cut down, sealed.
    empty = dead_letter(_record(b""), "malformed", "x", "enrollment")
    fits = MAX_RECORD_BYTES - (RECORD_OVERHEAD_BYTES + len(empty.key or b""))
    fits -= sum(len(name) + len(raw) for name, raw in empty.headers)
    assert dead_letter(_record(b"v" * fits), "malformed", "x", "enrollment").value is not None
    near = await publisher.letter_for(_record(b"v" * fits), "malformed", "x")
    assert near.reason == TOO_LARGE and near.value is None
    assert dict(near.headers)[SEALED_FOR] == b"acme:W-7"


async def test_a_letter_whose_key_names_nobody_is_sealed_under_a_key_nobody_keeps() -> None:
    keys = Keys()
    publisher = DlqPublisher("enrollment", "127.0.0.1:1")
    publisher.seal_topic(TOPIC, keys)
    letter = await publisher.letter_for(_record(MARKER, key=b"no-colon"), "malformed", "x")
    assert dict(letter.headers)[SEALED_FOR] == b""
    assert MARKER not in _everything(letter.value, letter.headers)
    assert keys.keys == {}


def test_person_of_a_record_key() -> None:
    assert person_of(b"acme:W-7") == ("acme", "W-7")
    assert person_of(b"acme:W:7") == ("acme", "W:7")
    for key in (None, b"", b"acme", b":W-7", b"acme:", b"\xff:x", b"a:" + b"x" * 200):
        assert person_of(key) is None


def test_the_clear_headers_are_the_triage_ones() -> None:
    assert "dlq_error" not in CLEAR_HEADERS and "ce_subject" not in CLEAR_HEADERS
    assert "dlq_value_head" not in CLEAR_HEADERS and "dlq_value_sha256" not in CLEAR_HEADERS
