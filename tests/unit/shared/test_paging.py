"""Page tokens: opaque, signed, bound to one listing and one caller, refused when forged, replayed by
someone else or expired."""

from __future__ import annotations

import base64
import json
import time

import pytest

from services.shared.auth import Principal, acting_as
from services.shared.errors import InvalidArgument
from services.shared.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    TOKEN_LIFETIME_SECONDS,
    decode_token,
    encode_token,
    page_size,
    use_signing_key,
)


def test_round_trip() -> None:
    token = encode_token("sessions", ["2030-01-01T00:00:00+00:00", "s-1"])
    assert decode_token("sessions", token, 2) == ["2030-01-01T00:00:00+00:00", "s-1"]
    assert decode_token("sessions", "", 2) is None


@pytest.mark.parametrize("token", ["not base64!!", "e30", encode_token("goals", ["g"])])
def test_foreign_or_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_token("sessions", token, 2)
    assert raised.value.field == "page.page_token"


def test_page_size_defaults_and_caps() -> None:
    assert page_size(0) == DEFAULT_PAGE_SIZE
    assert page_size(7) == 7
    assert page_size(10_000) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        page_size(-1)


E0001 = Principal("s1", "demo", "E0001", None, frozenset({"employee"}))
E0002 = Principal("s2", "demo", "E0002", None, frozenset({"employee"}))
OTHER_TENANT_E0001 = Principal("s3", "globex", "E0001", None, frozenset({"employee"}))


def test_a_token_is_bound_to_the_caller_it_was_issued_to() -> None:
    with acting_as(E0001):
        token = encode_token("matches", ["2030-01-01", "m-1"])
        assert decode_token("matches", token, 2) == ["2030-01-01", "m-1"]
    for someone_else in (E0002, OTHER_TENANT_E0001):
        with acting_as(someone_else), pytest.raises(InvalidArgument) as raised:
            decode_token("matches", token, 2)
        assert "issued to you" in raised.value.message


def test_an_altered_token_is_refused() -> None:
    with acting_as(E0001):
        token = encode_token("matches", ["2030-01-01", "m-1"])
        body, _, mac = token.partition(".")
        document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        document["k"] = ["2030-01-01", "m-2"]  # someone else's cursor, the signature kept
        forged = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=") + "." + mac
        with pytest.raises(InvalidArgument):
            decode_token("matches", forged, 2)


def test_an_old_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with acting_as(E0001):
        token = encode_token("matches", ["2030-01-01", "m-1"])
        later = time.time() + TOKEN_LIFETIME_SECONDS + 60
        monkeypatch.setattr(time, "time", lambda: later)
        with pytest.raises(InvalidArgument) as raised:
            decode_token("matches", token, 2)
        assert "expired" in raised.value.message


def test_another_key_does_not_verify() -> None:
    with acting_as(E0001):
        token = encode_token("matches", ["k"])
        use_signing_key("another instance's secret")
        try:
            with pytest.raises(InvalidArgument):
                decode_token("matches", token, 1)
        finally:
            use_signing_key("the test's key again")
