"""Inbound HRIS records -> :class:`HrisEvent`: SCIM-named JSON (CloudEvents structured ``data``) and
rows of an HR export CSV. Errors are InvalidArgument naming the source field (``employeeNumber``,
``hireDate``, ``grade``, ...), so a DLQ record says what to fix at the source.

Absent vs empty: a key that is missing leaves the attribute unchanged; a key present with ``null``
or ``""`` (an empty CSV cell) clears it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Final

from services.enrollment.domain.common import (
    ABSENT,
    MAX_GRADE,
    Absent,
    clean_text,
    normalise_tags,
    require_text,
)
from services.enrollment.domain.employees import (
    EmployeeChanges,
    EmployeeStatus,
    HrisEvent,
    HrisEventType,
    is_valid_timezone,
)
from services.shared.errors import InvalidArgument

SCIM_ENTERPRISE_EXTENSION: Final = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_ID_LENGTH: Final = 128

CSV_COLUMNS: Final = (
    "employeeNumber",
    "name",
    "email",
    "title",
    "grade",
    "department",
    "division",
    "organization",
    "costCenter",
    "manager",
    "location",
    "timezone",
    "languages",
    "skills",
    "hireDate",
    "terminationDate",
    "status",
)

_STATUS_NAMES: Final = {
    "active": EmployeeStatus.ACTIVE,
    "on_leave": EmployeeStatus.ON_LEAVE,
    "on leave": EmployeeStatus.ON_LEAVE,
    "on-leave": EmployeeStatus.ON_LEAVE,
    "leave": EmployeeStatus.ON_LEAVE,
    "terminated": EmployeeStatus.TERMINATED,
}


def hris_event_from_scim(
    data: Mapping[str, object],
    *,
    event_id: str,
    tenant: str,
    event_type: str | None = None,
    effective_time: datetime | None = None,
) -> HrisEvent:
    """Map a SCIM-named HRIS record to an event.

    ``data`` keys: ``employeeNumber`` (required), ``type`` (HIRED, UPDATED, ... case-insensitive; or
    pass ``event_type`` from the CloudEvents type), ``effectiveTime`` (ISO 8601 with offset; or pass
    ``effective_time`` from ``ce_time``), ``sequence`` (int >= 0, default 0), and the attributes:
    ``name`` (string or SCIM name object), ``email``, ``title``, ``grade``, ``department``,
    ``division``, ``organization``, ``costCenter``, ``manager`` (id or ``{"value": id}``),
    ``location``, ``timezone`` (IANA), ``languages`` and ``skills`` (lists), ``hireDate`` and
    ``terminationDate`` (YYYY-MM-DD), ``status`` (active, on_leave, terminated). Keys nested under the
    SCIM enterprise extension URN are read too. Unknown keys are ignored.
    """
    if not isinstance(data, Mapping):
        raise InvalidArgument("data", "must be a JSON object")
    record = _flatten_extension(data)
    kind = _scim_event_type(record.get("type"), event_type)
    when = _effective_time(record, effective_time)
    sequence = record.get("sequence", 0)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
        raise InvalidArgument("sequence", "must be a non-negative integer")
    return HrisEvent(
        event_id=_event_attribute(event_id, "id"),
        tenant=_event_attribute(tenant, "tenant"),
        employee_id=_employee_number(record),
        type=kind,
        effective_time=when,
        sequence=sequence,
        changes=_changes(record),
    )


def hris_event_from_csv_row(
    row: Mapping[str, object],
    *,
    event_id: str,
    tenant: str,
    effective_time: datetime,
    sequence: int,
    current_status: EmployeeStatus | None,
) -> HrisEvent:
    """Map one row of an HR export (a ``csv.DictReader`` row; columns :data:`CSV_COLUMNS`).

    A column missing from the file leaves the attribute unchanged; an empty cell clears it.
    ``languages`` and ``skills`` are semicolon-separated. The export is a snapshot, so the event type
    comes from the row's status and the employee's ``current_status`` in the directory (None when
    unknown): terminated -> TERMINATED; unknown employee -> HIRED; terminated employee now active or
    on leave -> REHIRED; otherwise UPDATED (carrying the status, so a leave shows as one).
    """
    record: dict[str, object] = {}
    for column in CSV_COLUMNS:
        value = row.get(column)
        if value is None:  # column not in the file, or a short row
            continue
        if not isinstance(value, str):
            raise InvalidArgument(column, "must be a single cell")
        record[column] = value.split(";") if column in ("languages", "skills") else value
    changes = _changes(record)
    new_status = changes.status
    if new_status is EmployeeStatus.TERMINATED:
        kind = HrisEventType.TERMINATED
    elif current_status is None:
        kind = HrisEventType.HIRED
    elif current_status is EmployeeStatus.TERMINATED and new_status in (
        EmployeeStatus.ACTIVE,
        EmployeeStatus.ON_LEAVE,
    ):
        kind = HrisEventType.REHIRED
    else:
        kind = HrisEventType.UPDATED
    return HrisEvent(
        event_id=_event_attribute(event_id, "id"),
        tenant=_event_attribute(tenant, "tenant"),
        employee_id=_employee_number(record),
        type=kind,
        effective_time=effective_time,
        sequence=sequence,
        changes=changes,
    )


def _flatten_extension(data: Mapping[str, object]) -> dict[str, object]:
    record = {key: value for key, value in data.items() if key != SCIM_ENTERPRISE_EXTENSION}
    extension = data.get(SCIM_ENTERPRISE_EXTENSION)
    if extension is not None:
        if not isinstance(extension, Mapping):
            raise InvalidArgument(SCIM_ENTERPRISE_EXTENSION, "must be an object")
        record.update(extension)
    return record


def _event_attribute(value: str, field: str) -> str:
    return require_text(value, field, max_length=MAX_ID_LENGTH)


def _employee_number(record: Mapping[str, object]) -> str:
    value = record.get("employeeNumber")
    if value is None:
        raise InvalidArgument("employeeNumber", "is required")
    return require_text(value, "employeeNumber", max_length=MAX_ID_LENGTH)


def _scim_event_type(in_data: object, from_envelope: str | None) -> HrisEventType:
    names = [name for name in (in_data, from_envelope) if name is not None]
    if not names:
        raise InvalidArgument("type", "is required")
    kinds = []
    for name in names:
        if not isinstance(name, str):
            raise InvalidArgument("type", "must be a string")
        key = name.strip().upper().replace("-", "_")
        try:
            kinds.append(HrisEventType[key])
        except KeyError:
            raise InvalidArgument("type", f"unknown HRIS event type {name!r}") from None
    if len(set(kinds)) > 1:
        raise InvalidArgument("type", "the record's type contradicts the CloudEvents type")
    return kinds[0]


def _effective_time(record: Mapping[str, object], fallback: datetime | None) -> datetime:
    raw = record.get("effectiveTime")
    if raw is None:
        if fallback is None:
            raise InvalidArgument("effectiveTime", "is required")
        moment = fallback
    else:
        if not isinstance(raw, str):
            raise InvalidArgument("effectiveTime", "must be an ISO 8601 date-time string")
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise InvalidArgument("effectiveTime", f"not an ISO 8601 date-time: {raw!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidArgument("effectiveTime", "must carry a UTC offset")
    return moment


def _changes(record: Mapping[str, object]) -> EmployeeChanges:
    parsed: dict[str, object] = {}
    for key, (attribute, parse) in _PARSERS.items():
        if key in record:
            parsed[attribute] = parse(record[key], key)
    return EmployeeChanges(**parsed)  # type: ignore[arg-type]


def _optional_text(value: object, field: str, max_length: int = 200) -> str | None:
    if value is None:
        return None
    text = require_text(value, field, max_length=max_length, allow_empty=True)
    return text or None


def _name(value: object, field: str) -> str | None:
    if isinstance(value, Mapping):
        formatted = value.get("formatted")
        if formatted is not None:
            return _optional_text(formatted, f"{field}.formatted")
        parts = [
            _optional_text(value.get(part), f"{field}.{part}")
            for part in ("honorificPrefix", "givenName", "middleName", "familyName", "honorificSuffix")
        ]
        return " ".join(part for part in parts if part) or None
    return _optional_text(value, field)


def _email(value: object, field: str) -> str | None:
    text = _optional_text(value, field, max_length=254)
    if text is None:
        return None
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or "@" in domain or " " in text:
        raise InvalidArgument(field, "not an e-mail address")
    return f"{local}@{domain.lower()}"


def _grade(value: object, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # HR exports and some HRIS send numbers as text
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRADE:
        raise InvalidArgument(field, f"must be an integer between 0 and {MAX_GRADE}, got {value!r}")
    return value


def _manager(value: object, field: str) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("value")
    return _optional_text(value, field, max_length=MAX_ID_LENGTH)


def _timezone(value: object, field: str) -> str | None:
    text = _optional_text(value, field, max_length=64)
    if text is not None and not is_valid_timezone(text):
        raise InvalidArgument(field, f"unknown IANA time zone {text!r}")
    return text


def _tags(value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidArgument(field, "must be a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidArgument(f"{field}[{index}]", "must be a string")
        if len(clean_text(item)) > 80:
            raise InvalidArgument(f"{field}[{index}]", "must be at most 80 characters")
    tags = normalise_tags(value)
    if len(tags) > 50:
        raise InvalidArgument(field, "must have at most 50 entries")
    return tags


def _date(value: object, field: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidArgument(field, "must be a YYYY-MM-DD string")
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(field, f"not a YYYY-MM-DD date: {value!r}") from None


def _status(value: object, field: str) -> EmployeeStatus | Absent:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ABSENT  # no status information: not a request to change it
    if not isinstance(value, str) or value.strip().lower() not in _STATUS_NAMES:
        raise InvalidArgument(field, f"must be one of active, on_leave, terminated, got {value!r}")
    return _STATUS_NAMES[value.strip().lower()]


_Parser = Callable[[object, str], object]

# source key -> (EmployeeChanges attribute, parser)
_PARSERS: Final[Mapping[str, tuple[str, _Parser]]] = {
    "name": ("display_name", _name),
    "email": ("email", _email),
    "title": ("title", _optional_text),
    "grade": ("grade", _grade),
    "department": ("department", _optional_text),
    "division": ("division", _optional_text),
    "organization": ("organization", _optional_text),
    "costCenter": ("cost_center", _optional_text),
    "manager": ("manager_id", _manager),
    "location": ("location", _optional_text),
    "timezone": ("timezone", _timezone),
    "languages": ("languages", _tags),
    "skills": ("skills", _tags),
    "hireDate": ("hire_date", _date),
    "terminationDate": ("termination_date", _date),
    "status": ("status", _status),
}
