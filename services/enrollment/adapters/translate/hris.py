"""HRIS worker records, wire -> the SCIM-named dictionaries the domain's mapper reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from google.protobuf.message import Message
from mentoring.v1 import events_pb2

from services.enrollment.domain import (
    HrisEventType,
)
from services.shared.timestamps import instant

# The message each HRIS event type travels in (its CloudEvents type comes from the registry).
WORKER_MESSAGES: Final[Mapping[HrisEventType, type[Message]]] = {
    HrisEventType.HIRED: events_pb2.WorkerHired,
    HrisEventType.UPDATED: events_pb2.WorkerUpdated,
    HrisEventType.TRANSFERRED: events_pb2.WorkerTransferred,
    HrisEventType.LEAVE_STARTED: events_pb2.WorkerLeaveStarted,
    HrisEventType.LEAVE_ENDED: events_pb2.WorkerLeaveEnded,
    HrisEventType.TERMINATED: events_pb2.WorkerTerminated,
    HrisEventType.REHIRED: events_pb2.WorkerRehired,
    HrisEventType.ERASED: events_pb2.WorkerErased,
}

# WorkerRecord optional string fields -> SCIM attribute names the domain's mapper reads.
_WORKER_TEXT_FIELDS: Final = (
    ("manager", "manager"),
    ("department", "department"),
    ("division", "division"),
    ("organization", "organization"),
    ("cost_center", "costCenter"),
    ("name", "name"),
    ("email", "email"),
    ("title", "title"),
    ("location", "location"),
    ("timezone", "timezone"),
    ("status", "status"),
)


def worker_change_to_scim(change: events_pb2.WorkerChange) -> dict[str, object]:
    """A binary-mode HRIS change as the SCIM-named record the structured mode carries.

    Presence follows the proto: an optional field that is set is carried (an empty string clears it),
    an unset one leaves the attribute unchanged; lists are carried when their ``*_present`` flag is on.
    """
    worker = change.worker
    record: dict[str, object] = {"employeeNumber": worker.employee_number, "sequence": change.sequence}
    for proto_name, scim_name in _WORKER_TEXT_FIELDS:
        if worker.HasField(proto_name):  # type: ignore[arg-type]
            record[scim_name] = getattr(worker, proto_name)
    if worker.HasField("grade"):
        record["grade"] = worker.grade
    if worker.languages_present:
        record["languages"] = list(worker.languages)
    if worker.skills_present:
        record["skills"] = list(worker.skills)
    if worker.HasField("hire_date"):
        record["hireDate"] = instant(worker.hire_date).date().isoformat()
    if worker.HasField("termination_date"):
        record["terminationDate"] = instant(worker.termination_date).date().isoformat()
    if change.HasField("effective_time"):
        record["effectiveTime"] = instant(change.effective_time).isoformat()
    return record
