"""Domain metrics of the enrollment service. Labels are bounded codes (event type, outcome, role,
status): never an employee, enrollment or program id, nor a tenant.

Consumer throughput, processing time, lag, DLQ counts and the outbox backlog come from the shared
runtime (``services.shared.metrics``); the gauges here are refreshed from the store every few seconds.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

HRIS_EVENTS = Counter(
    "mentoring_enrollment_hris_events_total",
    "HRIS events applied to the directory, by HRIS type and outcome: applied (newer than the record), "
    "merged (older, but filled older fields), stale (ignored), erased_ignored (employee erased).",
    ["type", "outcome"],
)
PARTICIPANT_REFRESHES = Counter(
    "mentoring_enrollment_participant_refreshes_total",
    "Participants republished after an HRIS change, by cause: self (their own attributes or status) "
    "or reports (a manager above them moved).",
    ["cause"],
)
EVENTS_STAGED = Counter(
    "mentoring_enrollment_events_staged_total",
    "Events written to the outbox, by CloudEvents type.",
    ["ce_type"],
)
DIRECTORY_SIZE = Gauge(
    "mentoring_enrollment_directory_employees",
    "Employees in the directory, by status (active, on_leave, terminated, erased).",
    ["status"],
)
ENROLLMENTS = Gauge(
    "mentoring_enrollment_enrollments",
    "Enrollments, by role and status.",
    ["role", "status"],
)
PROGRAMS = Gauge("mentoring_enrollment_programs", "Programs, by status.", ["status"])
ERASED_OUTBOX_ROWS = Counter(
    "mentoring_enrollment_erased_outbox_rows_total",
    "Published outbox rows deleted because the person they were about was erased.",
)
PERSONAL_KEYS_SHREDDED = Counter(
    "mentoring_enrollment_personal_keys_shredded_total",
    "Per-person keys deleted by erasures (their sealed dead letters became unreadable).",
)
