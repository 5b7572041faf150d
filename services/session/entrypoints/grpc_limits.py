"""The limits of the SessionService's requests: each string field's limit and each method's
required ids (see ``services.shared.field_limits``); the servicer checks them before anything else."""

from __future__ import annotations

from mentoring.v1 import session_pb2

from services.shared.field_limits import DOCUMENT, ID, LONG_TEXT, NAME, SHORT_TEXT, RequestLimits

# Every string of every request, with its limit (services.shared.field_limits); Goal fields are in
# COMMON_BOUNDS. Required ids: empty is INVALID_ARGUMENT before anything is looked up (ListSessions and
# ExportICalendar take a match or an employee: the handler checks that one is given).
LIMITS = RequestLimits(
    session_pb2.DESCRIPTOR.services_by_name["SessionService"],
    {
        "mentoring.v1.ScheduleSessionRequest.match_id": ID,
        "mentoring.v1.ScheduleSessionRequest.agenda": LONG_TEXT,
        "mentoring.v1.ScheduleSessionRequest.request_id": ID,
        "mentoring.v1.ScheduleSessionRequest.location": NAME,
        "mentoring.v1.ScheduleSessionRequest.meeting_link": LONG_TEXT,
        "mentoring.v1.CompleteSessionRequest.session_id": ID,
        "mentoring.v1.CompleteSessionRequest.notes": DOCUMENT,
        "mentoring.v1.CancelSessionRequest.session_id": ID,
        "mentoring.v1.CancelSessionRequest.reason": SHORT_TEXT,
        "mentoring.v1.ListSessionsRequest.match_id": ID,
        "mentoring.v1.ListSessionsRequest.employee_id": ID,
        "mentoring.v1.SetGoalRequest.match_id": ID,
        "mentoring.v1.RecordGoalProgressRequest.match_id": ID,
        "mentoring.v1.RecordGoalProgressRequest.goal_id": ID,
        "mentoring.v1.RecordGoalProgressRequest.note": DOCUMENT,
        "mentoring.v1.RecordGoalProgressRequest.employee_id": ID,
        "mentoring.v1.ListGoalsRequest.match_id": ID,
        "mentoring.v1.SubmitFeedbackRequest.match_id": ID,
        "mentoring.v1.SubmitFeedbackRequest.session_id": ID,
        "mentoring.v1.SubmitFeedbackRequest.employee_id": ID,
        "mentoring.v1.SubmitFeedbackRequest.comment": LONG_TEXT,
        "mentoring.v1.ExportICalendarRequest.employee_id": ID,
        "mentoring.v1.ExportICalendarRequest.match_id": ID,
        "mentoring.v1.GetPlanRequest.match_id": ID,
        "mentoring.v1.AcceptPlannedSlotRequest.match_id": ID,
        "mentoring.v1.AcceptPlannedSlotRequest.agenda": LONG_TEXT,
        "mentoring.v1.AcceptPlannedSlotRequest.location": NAME,
        "mentoring.v1.AcceptPlannedSlotRequest.meeting_link": LONG_TEXT,
        "mentoring.v1.MovePlannedSlotRequest.match_id": ID,
        "mentoring.v1.SkipPlannedSlotRequest.match_id": ID,
        "mentoring.v1.ExportPlanICalendarRequest.match_id": ID,
        "mentoring.v1.ListRelationshipsAtRiskRequest.program_id": ID,
        "mentoring.v1.GetProgramOutcomesRequest.program_id": ID,
        "mentoring.v1.ListFeedbackReceivedRequest.match_id": ID,
        "mentoring.v1.SubmitClosingReviewRequest.match_id": ID,
        "mentoring.v1.SubmitClosingReviewRequest.employee_id": ID,
        "mentoring.v1.SubmitClosingReviewRequest.goals_attained": ID,
        "mentoring.v1.SubmitClosingReviewRequest.comment": LONG_TEXT,
    },
    required={
        "ScheduleSession": ("match_id",),
        "CompleteSession": ("session_id",),
        "CancelSession": ("session_id",),
        "SetGoal": ("match_id",),
        "RecordGoalProgress": ("match_id", "goal_id"),
        "ListGoals": ("match_id",),
        "SubmitFeedback": ("match_id", "session_id", "employee_id"),
        "GetPlan": ("match_id",),
        "AcceptPlannedSlot": ("match_id",),
        "MovePlannedSlot": ("match_id",),
        "SkipPlannedSlot": ("match_id",),
        "ExportPlanICalendar": ("match_id",),
        "GetProgramOutcomes": ("program_id",),
        "ListFeedbackReceived": ("match_id",),
        "SubmitClosingReview": ("match_id", "employee_id"),
    },
)
