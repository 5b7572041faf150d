"""The limits of the MatchinService's requests: each string field's limit and each method's
required ids (see ``services.shared.field_limits``); the servicer checks them before anything else."""

from __future__ import annotations

from mentoring.v1 import matching_pb2

from services.shared.field_limits import ID, LONG_TEXT, NAME, SHORT_TEXT, RequestLimits

# Every string of every request, with its limit (services.shared.field_limits). Required ids: empty is
# INVALID_ARGUMENT before anything is looked up (ListMatches filters by program, employee, both or none).
# Who answers, ends, introduces or acts for HR is the caller when the request leaves it empty.
LIMITS = RequestLimits(
    matching_pb2.DESCRIPTOR.services_by_name["MatchingService"],
    {
        "mentoring.v1.RunMatchingRequest.program_id": ID,
        "mentoring.v1.RunMatchingRequest.request_id": ID,
        "mentoring.v1.GetMatchRequest.match_id": ID,
        "mentoring.v1.ListMatchesRequest.program_id": ID,
        "mentoring.v1.ListMatchesRequest.employee_id": ID,
        "mentoring.v1.RespondToMatchRequest.match_id": ID,
        "mentoring.v1.RespondToMatchRequest.employee_id": ID,
        "mentoring.v1.RespondToMatchRequest.reason": SHORT_TEXT,
        "mentoring.v1.EndMatchRequest.match_id": ID,
        "mentoring.v1.EndMatchRequest.employee_id": ID,
        "mentoring.v1.EndMatchRequest.reason": SHORT_TEXT,
        "mentoring.v1.CreateManualMatchRequest.program_id": ID,
        "mentoring.v1.CreateManualMatchRequest.mentor_enrollment_id": ID,
        "mentoring.v1.CreateManualMatchRequest.mentee_enrollment_ids": ID,
        "mentoring.v1.CreateManualMatchRequest.override_reason": SHORT_TEXT,
        "mentoring.v1.CreateManualMatchRequest.hr_actor_id": ID,
        "mentoring.v1.RequestNominatedMentorRequest.program_id": ID,
        "mentoring.v1.RequestNominatedMentorRequest.mentee_enrollment_id": ID,
        "mentoring.v1.RequestNominatedMentorRequest.mentor_employee_id": ID,
        "mentoring.v1.RequestNominatedMentorRequest.skill_area": NAME,
        "mentoring.v1.RequestNominatedMentorRequest.message": LONG_TEXT,
        "mentoring.v1.IntroduceColleagueRequest.introducer_employee_id": ID,
        "mentoring.v1.IntroduceColleagueRequest.mentee_employee_id": ID,
        "mentoring.v1.IntroduceColleagueRequest.mentor_employee_id": ID,
        "mentoring.v1.IntroduceColleagueRequest.program_id": ID,
        "mentoring.v1.IntroduceColleagueRequest.note": LONG_TEXT,
    },
    required={
        "RunMatching": ("program_id",),
        "PreviewMatching": ("program_id",),
        "GetMatch": ("match_id",),
        "AcceptMatch": ("match_id",),
        "DeclineMatch": ("match_id",),
        "EndMatch": ("match_id",),
        "CreateManualMatch": ("program_id", "mentor_enrollment_id", "mentee_enrollment_ids"),
        "RequestNominatedMentor": ("program_id", "mentee_enrollment_id", "mentor_employee_id"),
        "IntroduceColleague": ("mentee_employee_id", "mentor_employee_id"),
    },
)
