"""Page tokens: opaque, bound to one listing, refused when forged."""

from __future__ import annotations

import pytest

from services.shared.errors import InvalidArgument
from services.shared.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decode_token,
    encode_token,
    page_size,
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
