"""An e-mail's :class:`Context` as the JSON stored with it (and back): opaque ids, codes and instants
only; instants as ISO 8601 with their offset."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.model import Context, Recipient
from services.notification.domain.templates import Audience, Facts

_INSTANTS = frozenset({"starts_at", "respond_by"})
_AUDIENCES = frozenset({"role", "by"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Audience):
        return value.value
    return value


def _facts(data: dict[str, Any]) -> Facts:
    known = {field.name for field in fields(Facts)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            continue  # written by a later version
        if value is not None and name in _INSTANTS:
            value = datetime.fromisoformat(value)
        elif value is not None and name in _AUDIENCES:
            value = Audience(value)
        values[name] = value
    return Facts(**values)


def context_json(context: Context | None) -> dict[str, Any] | None:
    if context is None:
        return None
    session = context.session
    return {
        "audience": context.audience.value,
        "facts": {field.name: _plain(getattr(context.facts, field.name)) for field in fields(Facts)},
        "participants": [[person.employee_id, person.audience.value] for person in context.participants],
        "language": context.language,
        "zone": context.zone,
        "session": None
        if session is None
        else {field.name: _plain(getattr(session, field.name)) for field in fields(SessionCalendar)},
    }


def context_of(data: dict[str, Any] | None) -> Context | None:
    if not data:
        return None
    session = data.get("session")
    return Context(
        audience=Audience(data["audience"]),
        facts=_facts(data.get("facts") or {}),
        participants=tuple(
            Recipient(person, Audience(audience)) for person, audience in data["participants"]
        ),
        session=None
        if session is None
        else SessionCalendar(**{**session, "starts_at": datetime.fromisoformat(session["starts_at"])}),
        language=data.get("language", ""),
        zone=data.get("zone", ""),
    )
