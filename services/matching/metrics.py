"""Domain metrics of the matching service. Labels are bounded codes (format, outcome, origin, reason
code), never employee, enrollment, match or program ids.

Acceptance rate (PromQL)::

    sum(rate(mentoring_matching_proposal_outcomes_total{outcome="activated"}[1d]))
      / sum(rate(mentoring_matching_proposal_outcomes_total{outcome=~"activated|declined|expired"}[1d]))
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from services.matching.domain.model import ProgramFormat

RUNS = Counter(
    "mentoring_matching_runs_total",
    "Matching runs by program format and outcome: completed, dry_run, replayed (same request id), failed.",
    ["format", "outcome"],
)
# Every format and outcome at 0 from the start, so increase() sees the first failed run.
for _format in ProgramFormat:
    for _outcome in ("completed", "dry_run", "replayed", "failed"):
        RUNS.labels(str(_format), _outcome)
SOLVE_SECONDS = Histogram(
    "mentoring_matching_solve_seconds",
    "Time the engine took to solve a program's pool.",
    ["format", "solver"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0),
)
LAST_RUN_MATCHED = Gauge(
    "mentoring_matching_last_run_matched",
    "People matched by the last stored run of a program of this format (mentees; peers; meetings).",
    ["format"],
)
LAST_RUN_UNMATCHED = Gauge(
    "mentoring_matching_last_run_unmatched",
    "Participants left unmatched by the last stored run of a program of this format.",
    ["format"],
)
UNMATCHED = Counter(
    "mentoring_matching_unmatched_total",
    "Participants left unmatched by stored runs, by format and reason code.",
    ["format", "reason"],
)
PROPOSALS = Counter(
    "mentoring_matching_proposals_total",
    "Matches proposed, by origin: solver, manual, nomination, late_enrolment, rematch.",
    ["origin"],
)
PENDING_PROPOSALS = Gauge("mentoring_matching_pending_proposals", "Proposals awaiting an answer.")
ANSWERS = Counter(
    "mentoring_matching_answers_total",
    "Answers to proposals, by the answering side and the answer (accepted, declined).",
    ["side", "answer"],
)
PROPOSAL_OUTCOMES = Counter(
    "mentoring_matching_proposal_outcomes_total",
    "How proposals ended: activated (both sides accepted), declined, expired, withdrawn (ended while "
    "still proposed, e.g. by a withdrawal). Acceptance rate = activated / (activated+declined+expired).",
    ["outcome"],
)
MATCHES_ENDED = Counter(
    "mentoring_matching_matches_ended_total",
    "Matches ended, by cause: at_will, management_chain, participant_paused, participant_withdrawn, "
    "employee_terminated, employee_erased.",
    ["cause"],
)
MANUAL_MATCHES = Counter(
    "mentoring_matching_manual_matches_total",
    "Manual matches by HR: created, overridden (a soft issue overridden with a reason), refused_hard, "
    "refused_soft (a soft issue without an override reason).",
    ["outcome"],
)
NOMINATION_REQUESTS = Counter(
    "mentoring_matching_nomination_requests_total",
    "Mentee requests to a nominated mentor: proposed, or refused with the rule that failed.",
    ["outcome"],
)
LATE_PROPOSALS = Counter(
    "mentoring_matching_late_proposals_total",
    "Incremental proposals (late enrolment, rematch): proposed, or none with the reason code.",
    ["outcome"],
)
TIME_TO_MATCH = Histogram(
    "mentoring_matching_time_to_match_seconds",
    "From a mentee's enrolment to their first proposal in the program.",
    buckets=(60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 90 * 86400),
)
SEATS_LOST = Counter(
    "mentoring_matching_seats_lost_total",
    "Proposals not stored: the mentor's cap across programs was taken by a concurrent writer.",
)
