"""Domain <-> protobuf (``mentoring.v1``), one module per subject: ``programs``, ``profiles``,
``participants`` (and enrollments, contacts), ``events`` (what the outbox carries), ``hris`` (worker
records in), with ``enums`` and ``fields`` (request field names) under them.

Conventions where proto3 cannot tell "unset" from zero: a numeric program or profile setting of 0 means
the server default (as ``PageRequest.page_size`` does), an empty string means "none". Cohort dates are
days: a ``DateRange`` of the cohort is read as UTC days and written as 00:00 UTC of each day.
"""

from services.enrollment.adapters.translate.enums import (
    day_timestamp,
    employee_status_to_wire,
    enrollment_status,
    pause_cause_to_wire,
    program_format,
    program_status,
    role,
    role_to_wire,
    withdrawal_cause_to_wire,
)
from services.enrollment.adapters.translate.events import event_to_wire
from services.enrollment.adapters.translate.fields import (
    PROFILE_FIELDS,
    PROGRAM_FIELDS,
    renamed,
    request_field_names,
)
from services.enrollment.adapters.translate.hris import WORKER_MESSAGES, worker_change_to_scim
from services.enrollment.adapters.translate.participants import (
    contact_to_wire,
    enrollment_to_wire,
    participant_to_wire,
    status_reason,
)
from services.enrollment.adapters.translate.profiles import profile_from_wire, profile_to_wire
from services.enrollment.adapters.translate.programs import (
    SERVER_FIELDS,
    SPEED_ROUND_MINUTES,
    MaskedProgramEdit,
    program_edit,
    program_patch,
    program_to_wire,
    spec_from_wire,
    update_paths,
)

__all__ = [
    "PROFILE_FIELDS",
    "PROGRAM_FIELDS",
    "SERVER_FIELDS",
    "SPEED_ROUND_MINUTES",
    "WORKER_MESSAGES",
    "MaskedProgramEdit",
    "contact_to_wire",
    "day_timestamp",
    "employee_status_to_wire",
    "enrollment_status",
    "enrollment_to_wire",
    "event_to_wire",
    "participant_to_wire",
    "pause_cause_to_wire",
    "profile_from_wire",
    "profile_to_wire",
    "program_edit",
    "program_format",
    "program_patch",
    "program_status",
    "program_to_wire",
    "renamed",
    "request_field_names",
    "role",
    "role_to_wire",
    "spec_from_wire",
    "status_reason",
    "update_paths",
    "withdrawal_cause_to_wire",
    "worker_change_to_scim",
]
