"""Reading a refused RPC the way clients do: its status code and what its rich details name."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def rpc_error(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """The status code of a failing call and the field (BadRequest) or rule (PreconditionFailure) it names."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = raised.value
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "domain errors carry rich details"
    named = ""
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            named = bad_request.field_violations[0].field
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            named = failure.violations[0].subject
    return error.code(), named  # type: ignore[attr-defined]
