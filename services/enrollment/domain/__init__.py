"""Pure model and rules of the enrollment service: no I/O, no framework imports.

A handler loads the aggregates, calls one function here, and persists what it gets back (new state
plus domain events for the outbox) in one transaction:

- HRIS: ``hris_event_from_scim`` / ``hris_event_from_csv_row`` (``hris_mapping``) -> ``apply_hris_event``
  (``directory``, on the records of ``employees``) -> ``HrisApplyResult`` (employee, effects, events)
  -> ``apply_effects`` on the employee's enrollments (``hris_effects``), and for
  ``RefreshReportsChains`` ``ReportsIndex.all_below`` + ``refresh_participants`` per report.
- Programs (``programs``): ``create_program``, ``update_program``, ``open_program``, ``close_program``
  (``program_lifecycle``) -> ``Change``.
- Enrollments (``enrollments``): ``enrol``, ``update_profile``, ``withdraw`` (``enrollment_lifecycle``)
  -> ``Change``, after ``validate_profile`` (``profile_rules``) and ``eligibility_failures``
  (``eligibility``); ``participant_view`` (``participants``) is what matching sees of one.

Imports go one way: ``common``, ``profile``, ``hierarchy`` <- ``programs``, ``employees``,
``enrollments`` <- ``participants`` <- ``events`` <- the rules and lifecycles.
"""

from services.enrollment.domain.common import (
    ABSENT,
    MAX_GRADE,
    VERSION_ZERO,
    Absent,
    Carried,
    Version,
    normalise_tags,
)
from services.enrollment.domain.directory import (
    WITHDRAWN_ERASED,
    WITHDRAWN_TERMINATED,
    ApplyOutcome,
    EraseParticipantData,
    HrisApplyResult,
    LifecycleEffect,
    PauseEnrollments,
    RefreshParticipant,
    RefreshReportsChains,
    ResumeEnrollments,
    WithdrawEnrollments,
    apply_hris_event,
)
from services.enrollment.domain.eligibility import RULES, eligibility_failures, has_measurable_goal
from services.enrollment.domain.employees import (
    MATCHING_FIELDS,
    Employee,
    EmployeeChanges,
    EmployeeStatus,
    HrisEvent,
    HrisEventType,
    is_valid_timezone,
    manager_map,
)
from services.enrollment.domain.enrollment_lifecycle import (
    enrol,
    erase_enrollment,
    pause_for_leave,
    resume_after_leave,
    update_profile,
    withdraw,
)
from services.enrollment.domain.enrollments import Enrollment
from services.enrollment.domain.events import (
    Change,
    DomainEvent,
    EmployeeErased,
    ParticipantEnrolled,
    ParticipantPaused,
    ParticipantResumed,
    ParticipantUpdated,
    ParticipantWithdrawn,
    ProgramClosed,
    ProgramCreated,
    ProgramUpdated,
)
from services.enrollment.domain.hierarchy import (
    ManagerLookup,
    ReportingCycle,
    ReportingTree,
    ReportsIndex,
    check_no_cycle,
    find_cycle,
    management_chain,
    reports_below,
)
from services.enrollment.domain.hris_effects import EnrollmentBatch, apply_effects, refresh_participants
from services.enrollment.domain.hris_mapping import (
    CSV_COLUMNS,
    SCIM_ENTERPRISE_EXTENSION,
    hris_event_from_csv_row,
    hris_event_from_scim,
)
from services.enrollment.domain.participants import Participant, participant_view
from services.enrollment.domain.profile import (
    Availability,
    EnrollmentStatus,
    Goal,
    MustHaves,
    PauseReason,
    Preferences,
    Profile,
    Role,
    TimeSlot,
    WithdrawalCause,
)
from services.enrollment.domain.profile_rules import (
    MAX_NOMINATIONS,
    allowed_roles,
    check_nominees,
    validate_profile,
)
from services.enrollment.domain.program_lifecycle import (
    close_program,
    create_program,
    open_program,
    update_program,
)
from services.enrollment.domain.programs import (
    Cohort,
    Delivery,
    Eligibility,
    EnrollmentWindow,
    GroupSize,
    MatchingMode,
    MatchingObjective,
    Program,
    ProgramFormat,
    ProgramPatch,
    ProgramSpec,
    ProgramStatus,
    ScoringWeights,
    SessionCadence,
    SpeedRounds,
    validate_spec,
)

__all__ = [
    "ABSENT",
    "CSV_COLUMNS",
    "MATCHING_FIELDS",
    "MAX_GRADE",
    "MAX_NOMINATIONS",
    "RULES",
    "SCIM_ENTERPRISE_EXTENSION",
    "VERSION_ZERO",
    "WITHDRAWN_ERASED",
    "WITHDRAWN_TERMINATED",
    "Absent",
    "ApplyOutcome",
    "Availability",
    "Carried",
    "Change",
    "Cohort",
    "Delivery",
    "DomainEvent",
    "Eligibility",
    "Employee",
    "EmployeeChanges",
    "EmployeeErased",
    "EmployeeStatus",
    "Enrollment",
    "EnrollmentBatch",
    "EnrollmentStatus",
    "EnrollmentWindow",
    "EraseParticipantData",
    "Goal",
    "GroupSize",
    "HrisApplyResult",
    "HrisEvent",
    "HrisEventType",
    "LifecycleEffect",
    "ManagerLookup",
    "MatchingMode",
    "MatchingObjective",
    "MustHaves",
    "Participant",
    "ParticipantEnrolled",
    "ParticipantPaused",
    "ParticipantResumed",
    "ParticipantUpdated",
    "ParticipantWithdrawn",
    "PauseEnrollments",
    "PauseReason",
    "Preferences",
    "Profile",
    "Program",
    "ProgramClosed",
    "ProgramCreated",
    "ProgramFormat",
    "ProgramPatch",
    "ProgramSpec",
    "ProgramStatus",
    "ProgramUpdated",
    "RefreshParticipant",
    "RefreshReportsChains",
    "ReportingCycle",
    "ReportingTree",
    "ReportsIndex",
    "ResumeEnrollments",
    "Role",
    "ScoringWeights",
    "SessionCadence",
    "SpeedRounds",
    "TimeSlot",
    "Version",
    "WithdrawEnrollments",
    "WithdrawalCause",
    "allowed_roles",
    "apply_effects",
    "apply_hris_event",
    "check_no_cycle",
    "check_nominees",
    "close_program",
    "create_program",
    "eligibility_failures",
    "enrol",
    "erase_enrollment",
    "find_cycle",
    "has_measurable_goal",
    "hris_event_from_csv_row",
    "hris_event_from_scim",
    "is_valid_timezone",
    "management_chain",
    "manager_map",
    "normalise_tags",
    "open_program",
    "participant_view",
    "pause_for_leave",
    "refresh_participants",
    "reports_below",
    "resume_after_leave",
    "update_profile",
    "update_program",
    "validate_profile",
    "validate_spec",
    "withdraw",
]
