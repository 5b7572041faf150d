"""Domain counters of the session service. Labels are bounded codes: never employee, match or session ids.

Every name starts ``mentoring_session_``; durations are in seconds (Prometheus's base unit)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RELATIONSHIPS = Counter(
    "mentoring_session_relationships_total",
    "Relationship changes applied from matching events: activated, ended, stale (ignored).",
    ["change"],
)
SESSIONS_SCHEDULED = Counter("mentoring_session_scheduled_total", "Sessions scheduled.")
SESSIONS_COMPLETED = Counter("mentoring_session_completed_total", "Sessions completed.")
SESSIONS_CANCELLED = Counter(
    "mentoring_session_cancelled_total",
    "Sessions cancelled, by cause: requested (by a participant) or match_ended.",
    ["cause"],
)
SESSION_PLANNED_SECONDS = Histogram(
    "mentoring_session_planned_duration_seconds",
    "Planned length of scheduled sessions.",
    buckets=tuple(minutes * 60 for minutes in (15, 30, 45, 60, 90, 120, 180, 240, 480)),
)
GOAL_PROGRESS = Counter("mentoring_session_goal_progress_recorded_total", "Goal progress records.")
FEEDBACK = Counter(
    "mentoring_session_feedback_total",
    "Feedback submitted, by the author's role and the rating.",
    ["by", "rating"],
)
CALENDAR_EXPORTS = Counter("mentoring_session_calendar_exports_total", "iCalendar exports served.")
ERASURES = Counter(
    "mentoring_session_erasures_total", "Erased people removed from the relationships they were in."
)
PLANS_PROPOSED = Counter(
    "mentoring_session_plans_proposed_total",
    "Cadence plans proposed when a relationship starts: complete (every occurrence got a time) or partial.",
    ["outcome"],
)
PLAN_SLOTS = Counter(
    "mentoring_session_plan_slots_total",
    "Plan slots changed by a member: accepted, moved, skipped.",
    ["change"],
)
HEALTH_CHANGES = Counter(
    "mentoring_session_health_changes_total",
    "Changes of a relationship's health: at_risk (became, or changed why) or recovered.",
    ["change"],
)
CLOSING_REVIEWS = Counter(
    "mentoring_session_closing_reviews_total", "Closing reviews submitted, by the author's role.", ["by"]
)
