"""The request limits and the statuses they become: a table must bound every string of every request, a
value over its limit is named with its path and limit, statuses echo a short prefix at most, and bytes
that are not the request message decode to the refusable MALFORMED marker."""

from __future__ import annotations

import pytest
from google.rpc import code_pb2, error_details_pb2
from mentoring.v1 import common_pb2, enrollment_pb2, matching_pb2, notification_pb2, session_pb2

from services.enrollment.entrypoints.grpc_limits import LIMITS as ENROLLMENT
from services.matching.entrypoints.grpc_limits import LIMITS as MATCHING
from services.notification.entrypoints.grpc_limits import LIMITS as NOTIFICATION
from services.session.entrypoints.grpc_limits import LIMITS as SESSION
from services.shared.errors import ECHO_PREFIX, InvalidArgument, NotFound, shown
from services.shared.field_limits import ID, LIMITS, MAX_ITEMS, NAME, RequestLimits, string_fields
from services.shared.grpc_server import MALFORMED, status_of, tolerant

MATCHING_SERVICE = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"]


def test_every_service_bounds_every_string_of_its_requests() -> None:
    for limits, module in (
        (ENROLLMENT, enrollment_pb2),
        (MATCHING, matching_pb2),
        (SESSION, session_pb2),
        (NOTIFICATION, notification_pb2),
    ):
        (service,) = module.DESCRIPTOR.services_by_name.values()
        assert limits.service is service
        for method in service.methods:
            for field in string_fields(method.input_type):
                assert limits.limit_of(field) in LIMITS, field.full_name


def test_a_table_that_misses_a_field_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match=r"no limit for .*RespondToMatchRequest\.reason"):
        RequestLimits(MATCHING_SERVICE, {"mentoring.v1.GetMatchRequest.match_id": ID}, {})
    with pytest.raises(ValueError, match="no field nobody"):
        RequestLimits(ENROLLMENT.service, ENROLLMENT.bounds, {"GetProgram": ("nobody",)})


def test_a_nested_repeated_value_over_its_limit_is_named_with_its_path_and_limit() -> None:
    profile = common_pb2.Profile(
        goals=[common_pb2.Goal(what="ok"), common_pb2.Goal(skill_tags=["a", "t" * 201])]
    )
    request = enrollment_pb2.EnrollRequest(program_id="p", employee_id="e", profile=profile)
    with pytest.raises(InvalidArgument) as refused:
        ENROLLMENT.check("Enroll", request)
    assert refused.value.field == "profile.goals[1].skill_tags[1]"
    assert f"at most {NAME.max_length} characters" in refused.value.message
    at_limit = common_pb2.Profile(goals=[common_pb2.Goal(skill_tags=["t" * NAME.max_length])])
    ENROLLMENT.check(
        "Enroll", enrollment_pb2.EnrollRequest(program_id="p", employee_id="e", profile=at_limit)
    )


def test_every_violation_is_reported_and_required_ids_follow_the_lengths() -> None:
    request = matching_pb2.RespondToMatchRequest(match_id="m" * 129, reason="r" * 501)
    with pytest.raises(InvalidArgument) as refused:
        MATCHING.check("AcceptMatch", request)
    assert [field for field, _ in refused.value.violations] == ["match_id", "reason"]
    with pytest.raises(InvalidArgument) as empty:
        # (an empty employee_id is the caller: only the match id is required)
        MATCHING.check("AcceptMatch", matching_pb2.RespondToMatchRequest(match_id="  ", employee_id="E1"))
    assert (empty.value.field, empty.value.description) == ("match_id", "is required")


def test_nul_characters_and_too_many_items_are_refused() -> None:
    with pytest.raises(InvalidArgument) as nul:
        SESSION.check("CancelSession", session_pb2.CancelSessionRequest(session_id="s\x00"))
    assert nul.value.field == "session_id" and "NUL" in nul.value.message
    many = notification_pb2.NotificationPreferences(recipient_id="r", muted_templates=["x"] * (MAX_ITEMS + 1))
    with pytest.raises(InvalidArgument) as items:
        NOTIFICATION.check("UpdatePreferences", many)
    assert items.value.field == "muted_templates"


def test_statuses_echo_at_most_a_short_prefix() -> None:
    assert shown("a" * ECHO_PREFIX) == "a" * ECHO_PREFIX
    assert shown("a" * 1000) == "a" * ECHO_PREFIX + "\u2026"
    status = status_of(NotFound("match", "z" * 1024 * 1024))
    assert status.code == code_pb2.NOT_FOUND
    assert len(status.SerializeToString()) < 1024
    info = error_details_pb2.ResourceInfo()
    status.details[0].Unpack(info)
    assert info.resource_name == "z" * ECHO_PREFIX + "\u2026"


def test_all_violations_travel_in_the_bad_request() -> None:
    status = status_of(InvalidArgument("a", "is wrong", [("b", "is also wrong")]))
    bad_request = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("a", "a: is wrong"),
        ("b", "b: is also wrong"),
    ]


def test_bytes_that_are_not_the_message_decode_to_malformed() -> None:
    deserialize = tolerant(matching_pb2.GetMatchRequest.FromString)
    assert deserialize is not None
    assert deserialize(matching_pb2.GetMatchRequest(match_id="m1").SerializeToString()).match_id == "m1"
    for raw in (b"\x0a\x05ab", b"\x0a\x02\xff\xfe"):
        assert deserialize(raw) is MALFORMED
    assert tolerant(None) is None
