"""What the session service is asked to do, whichever entrypoint asks: gRPC requests and matching events
alike become one of these. A :class:`Command` writes in one transaction, a :class:`Query` reads in a
read-only one; each names what its handler returns.

The commands of requests (sessions, goals, feedback) carry their ``caller``, whom the handler checks
against the relationship it loads; those of events (matching, enrollment) have none: the events are the
other services' word."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.session.domain.health import Health
from services.session.domain.model import Feedback, Goal, GoalProgress, Session
from services.session.domain.outcomes import EndCause, ProgramOutcomes
from services.session.domain.plans import Plan, PlanSlot
from services.session.domain.programs import Delivery, ProgramTerms
from services.session.domain.reviews import ClosingReview, MentorBenefit
from services.session.domain.slots import WorkingHours
from services.shared.auth import Principal
from services.shared.messagebus import Command, Query
from services.shared.paging import Page

# ---- from matching events ----


@dataclass(frozen=True, slots=True)
class ActivateRelationship(Command[bool]):
    """A match became active (MatchActivated): returns False for a stale activation of an ended one."""

    match_id: str
    program_id: str
    mentor_id: str
    mentee_ids: tuple[str, ...]
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class EndRelationship(Command[list[Session]]):
    """A match ended (MatchEnded): returns the sessions it cancelled."""

    match_id: str
    program_id: str
    mentor_id: str
    mentee_ids: tuple[str, ...]
    reason: str = ""
    tenant: str = ""
    cause: EndCause = EndCause.UNSPECIFIED


# ---- from enrollment events ----


@dataclass(frozen=True, slots=True)
class RememberProgram(Command[None]):
    """A program was created or changed (ProgramCreated, ProgramUpdated): its cohort and delivery."""

    program: ProgramTerms


@dataclass(frozen=True, slots=True)
class RememberEnrolmentGoals(Command[None]):
    """A mentee enrolled or changed their enrolment (ParticipantEnrolled, ParticipantUpdated): the goals
    they declared, carried into their relationship when it starts."""

    program_id: str
    employee_id: str
    goals: tuple[Goal, ...]


@dataclass(frozen=True, slots=True)
class RememberWorkingHours(Command[None]):
    """A participant enrolled or changed their enrolment: their time zone and working hours in the
    program, which cadence plans keep to."""

    program_id: str
    employee_id: str
    hours: WorkingHours


@dataclass(frozen=True, slots=True)
class EraseEmployee(Command[int]):
    """A person's data was erased (EmployeeErased): returns how many relationships they were in."""

    employee_id: str
    tenant: str = ""


# ---- sessions ----


@dataclass(frozen=True, slots=True)
class ScheduleSession(Command[Session]):
    match_id: str
    starts_at: datetime | None
    duration_minutes: int
    agenda: str = ""
    request_id: str = ""
    delivery: Delivery = Delivery.UNSPECIFIED
    location: str = ""
    meeting_link: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class CompleteSession(Command[Session]):
    session_id: str
    notes: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class CancelSession(Command[Session]):
    session_id: str
    reason: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ListSessions(Query[Page[Session]]):
    match_id: str = ""
    employee_id: str = ""
    page_size: int = 0
    page_token: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ExportCalendar(Query[str]):
    """The iCalendar text of a match's or an employee's sessions."""

    employee_id: str = ""
    match_id: str = ""
    caller: Principal = field(kw_only=True)


# ---- goals ----


@dataclass(frozen=True, slots=True)
class SetGoal(Command[Goal]):
    match_id: str
    goal_id: str
    what: str
    metric: str = ""
    target: str = ""
    due: datetime | None = None
    skill_tags: tuple[str, ...] = ()
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class RecordGoalProgress(Command[GoalProgress]):
    match_id: str
    goal_id: str
    progress: float
    note: str = ""
    employee_id: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class GoalsPage:
    """One page of a match's goals, with the newest progress of each goal on it that has some, and
    every check-in of those goals, oldest first."""

    goals: list[Goal]
    progress: list[GoalProgress]
    next_page_token: str
    total_size: int
    check_ins: list[GoalProgress] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ListGoals(Query[GoalsPage]):
    match_id: str
    page_size: int = 0
    page_token: str = ""
    caller: Principal = field(kw_only=True)


# ---- feedback ----


@dataclass(frozen=True, slots=True)
class SubmitFeedback(Command[Feedback]):
    match_id: str
    session_id: str
    employee_id: str
    rating: int
    comment: str = ""
    caller: Principal = field(kw_only=True)


# ---- cadence plans ----


@dataclass(frozen=True, slots=True)
class GetPlan(Query[Plan]):
    """The relationship's cadence plan, for its members."""

    match_id: str
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class AcceptPlannedSlot(Command[PlanSlot]):
    """A member takes a proposed slot: a session is scheduled at its time."""

    match_id: str
    index: int
    agenda: str = ""
    location: str = ""
    meeting_link: str = ""
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class MovePlannedSlot(Command[PlanSlot]):
    """A member proposes a slot at another time (an unfilled one gets a time)."""

    match_id: str
    index: int
    starts_at: datetime | None
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class SkipPlannedSlot(Command[PlanSlot]):
    match_id: str
    index: int
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ExportPlan(Query[str]):
    """The iCalendar text of the relationship's plan: one series with its exceptions and overrides."""

    match_id: str
    caller: Principal = field(kw_only=True)


# ---- health ----


@dataclass(frozen=True, slots=True)
class AssessHealth(Command[int]):
    """The health job: assess every live relationship; returns how many changed."""


@dataclass(frozen=True, slots=True)
class RelationshipAtRisk:
    match_id: str
    program_id: str
    health: Health


@dataclass(frozen=True, slots=True)
class ListRelationshipsAtRisk(Query[Page[RelationshipAtRisk]]):
    """For HR (the tenant's) and program managers (their programs'): which relationships are at risk and
    why, never what anyone wrote."""

    program_id: str = ""
    page_size: int = 0
    page_token: str = ""
    caller: Principal = field(kw_only=True)


# ---- outcomes and feedback ----


@dataclass(frozen=True, slots=True)
class GetProgramOutcomes(Query[ProgramOutcomes]):
    """A program's outcome counts, for HR and the program's managers: no person in them."""

    program_id: str
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ListFeedbackReceived(Query[list[Feedback]]):
    """The feedback the other side of the relationship gave, for the caller (a member) to read."""

    match_id: str
    caller: Principal = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class SubmitClosingReview(Command[ClosingReview]):
    """A member looks back on a relationship that has ended (or whose program has), once."""

    match_id: str
    employee_id: str
    satisfaction: int
    goals_attained: tuple[str, ...] = ()
    benefits: tuple[MentorBenefit, ...] = ()
    comment: str = ""
    caller: Principal = field(kw_only=True)
