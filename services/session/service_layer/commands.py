"""What the session service is asked to do, whichever entrypoint (gRPC or an event) asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ActivateRelationship:
    match_id: str
    program_id: str
    mentor_id: str
    mentee_ids: tuple[str, ...]
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class EndRelationship:
    match_id: str
    program_id: str
    mentor_id: str
    mentee_ids: tuple[str, ...]
    reason: str = ""
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleSession:
    match_id: str
    starts_at: datetime | None
    duration_minutes: int
    agenda: str = ""
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class CompleteSession:
    session_id: str
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CancelSession:
    session_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ListSessions:
    match_id: str = ""
    employee_id: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class SetGoal:
    match_id: str
    goal_id: str
    what: str
    metric: str = ""
    target: str = ""
    due: datetime | None = None
    skill_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordGoalProgress:
    match_id: str
    goal_id: str
    progress: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class ListGoals:
    match_id: str
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class SubmitFeedback:
    match_id: str
    session_id: str
    employee_id: str
    rating: int
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ExportCalendar:
    employee_id: str = ""
    match_id: str = ""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_page_token: str
    total_size: int
