"""The session domain: a mentoring relationship (an active match), its sessions, goals and feedback.

A relationship is opened by the matching service's MatchActivated and closed by MatchEnded; ENDED is
final (a stale activation never reopens it). A session moves SCHEDULED -> COMPLETED or
SCHEDULED -> CANCELLED and nowhere else. Every instant is timezone-aware and compared in UTC.

Order of checks in a command: malformed input (InvalidArgument) first, then the business rules
(FailedPrecondition), so a caller fixes its request before learning about the state of the world.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from services.session.domain.programs import Delivery, ProgramTerms
from services.shared.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.shared.ids import optional_id, require_id

MIN_DURATION_MINUTES: Final = 15
MAX_DURATION_MINUTES: Final = 480
MAX_AGENDA_LENGTH: Final = 2000
MAX_NOTES_LENGTH: Final = 4000
MAX_REASON_LENGTH: Final = 500
MAX_COMMENT_LENGTH: Final = 2000
MAX_GOAL_TEXT: Final = 500
MAX_GOAL_TAGS: Final = 20
MIN_RATING: Final = 1
MAX_RATING: Final = 5

_SPACES = re.compile(r"[ \t]+")


class Role(enum.StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"


class RelationshipStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


MAX_LOCATION_LENGTH: Final = 200
MAX_MEETING_LINK_LENGTH: Final = 500
# An employee id no longer known: what stays of an erased person in the relationships they were in.
ERASED_ID: Final = "erased"


class CancellationCause(enum.StrEnum):
    """Why a session was cancelled: a participant asked, or the relationship ended."""

    REQUESTED = "requested"
    MATCH_ENDED = "match_ended"


# The reason text of a session cancelled because its relationship ended (its cause is MATCH_ENDED).
MATCH_ENDED_REASON: Final = "match_ended"


def require_aware(moment: datetime, name: str) -> datetime:
    """Programming guard: every instant here is timezone-aware; returns it in UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def clean_text(value: str, field: str, max_length: int, *, required: bool = False) -> str:
    """Trimmed text (line breaks kept, runs of spaces collapsed), bounded, non-blank if required."""
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in value.strip().splitlines())
    if required and not text:
        raise InvalidArgument(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidArgument(field, f"must be at most {max_length} characters")
    return text


@dataclass(frozen=True, slots=True)
class Relationship:
    """A match as the session service sees it: who takes part, and whether sessions may be planned."""

    match_id: str
    program_id: str
    mentor_id: str
    mentee_ids: tuple[str, ...]
    status: RelationshipStatus = RelationshipStatus.ACTIVE
    tenant: str = ""
    end_reason: str = ""

    @staticmethod
    def activated(
        match_id: str, program_id: str, mentor_id: str, mentee_ids: Iterable[str], tenant: str = ""
    ) -> Relationship:
        """Validate an activated match (bad data from upstream is an InvalidArgument on ``match.*``)."""
        mentees = tuple(dict.fromkeys(mentee.strip() for mentee in mentee_ids if mentee.strip()))
        mentor = require_id(mentor_id, "match.mentor_employee_id")
        if not mentees:
            raise InvalidArgument("match.mentee_employee_ids", "an active match needs at least one mentee")
        if mentor in mentees:
            raise InvalidArgument("match.mentee_employee_ids", "the mentor cannot also be a mentee")
        return Relationship(
            match_id=require_id(match_id, "match.match_id"),
            program_id=program_id.strip(),
            mentor_id=mentor,
            mentee_ids=mentees,
            tenant=tenant,
        )

    @property
    def participants(self) -> tuple[str, ...]:
        return (self.mentor_id, *self.mentee_ids)

    @property
    def members(self) -> frozenset[str]:
        """Who may read and write what the relationship says: its mentor and mentees."""
        return frozenset(self.participants)

    @property
    def is_active(self) -> bool:
        return self.status is RelationshipStatus.ACTIVE

    def role_of(self, employee_id: str) -> Role | None:
        if employee_id == self.mentor_id:
            return Role.MENTOR
        if employee_id in self.mentee_ids:
            return Role.MENTEE
        return None

    def require_active(self) -> None:
        if not self.is_active:
            raise FailedPrecondition(
                "relationship_not_active", f"match {self.match_id} has ended: nothing can be planned in it"
            )

    def end(self, reason: str) -> Relationship:
        return replace(self, status=RelationshipStatus.ENDED, end_reason=reason)


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    match_id: str
    starts_at: datetime
    duration_minutes: int
    agenda: str = ""
    status: SessionStatus = SessionStatus.SCHEDULED
    notes: str = ""
    cancel_reason: str = ""
    request_id: str = ""
    # Bumped on every change: the iCalendar SEQUENCE, so calendar clients apply updates in order.
    revision: int = 0
    delivery: Delivery = Delivery.UNSPECIFIED
    location: str = ""
    meeting_link: str = ""

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        """Half-open intervals: a session ending at 10:00 does not overlap one starting at 10:00."""
        return self.starts_at < ends_at and starts_at < self.ends_at

    def redacted(self) -> Session:
        """The session as someone outside the relationship may see it (HR, the program's manager): when,
        how long, delivered how and its status; none of its words (agenda, notes, reason, place, link)."""
        return replace(self, agenda="", notes="", cancel_reason="", location="", meeting_link="")

    def complete(self, notes: str, now: datetime) -> Session:
        """Record the session as held: only once it has started."""
        self._require_scheduled("complete")
        if require_aware(now, "now") < self.starts_at:
            raise FailedPrecondition(
                "session_not_started",
                f"session {self.session_id} starts at {self.starts_at.isoformat()}: not completed before",
            )
        return replace(
            self,
            status=SessionStatus.COMPLETED,
            notes=clean_text(notes, "notes", MAX_NOTES_LENGTH),
            revision=self.revision + 1,
        )

    def cancel(self, reason: str) -> Session:
        self._require_scheduled("cancel")
        return replace(
            self,
            status=SessionStatus.CANCELLED,
            cancel_reason=clean_text(reason, "reason", MAX_REASON_LENGTH),
            revision=self.revision + 1,
        )

    def _require_scheduled(self, action: str) -> None:
        if self.status is not SessionStatus.SCHEDULED:
            raise FailedPrecondition(
                "session_not_scheduled", f"cannot {action} session {self.session_id}: it is {self.status}"
            )


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """A validated request to schedule: what ``plan_session`` checks against the relationship."""

    match_id: str
    starts_at: datetime
    duration_minutes: int
    agenda: str
    request_id: str
    delivery: Delivery = Delivery.UNSPECIFIED
    location: str = ""
    meeting_link: str = ""


def validate_session_request(
    match_id: str,
    starts_at: datetime | None,
    duration_minutes: int,
    agenda: str,
    request_id: str,
    now: datetime,
    delivery: Delivery = Delivery.UNSPECIFIED,
    location: str = "",
    meeting_link: str = "",
) -> SessionRequest:
    now = require_aware(now, "now")
    match = require_id(match_id, "match_id")
    if starts_at is None:
        raise InvalidArgument("starts_at", "is required")
    start = require_aware(starts_at, "starts_at")
    if start <= now:
        raise InvalidArgument("starts_at", "must be in the future")
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidArgument(
            "duration_minutes", f"must be between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES}"
        )
    request = optional_id(request_id, "request_id")
    link = clean_text(meeting_link, "meeting_link", MAX_MEETING_LINK_LENGTH)
    if link and not link.startswith("https://"):
        raise InvalidArgument("meeting_link", "must be an https:// link")
    return SessionRequest(
        match_id=match,
        starts_at=start,
        duration_minutes=duration_minutes,
        agenda=clean_text(agenda, "agenda", MAX_AGENDA_LENGTH),
        request_id=request,
        delivery=delivery,
        location=clean_text(location, "location", MAX_LOCATION_LENGTH),
        meeting_link=link,
    )


def _delivery_of(request: SessionRequest, program: ProgramTerms | None) -> Delivery:
    """The session's delivery: as asked, else the program's; in person needs a place to meet."""
    delivery = request.delivery or (program.delivery if program is not None else Delivery.UNSPECIFIED)
    if delivery is Delivery.IN_PERSON and not request.location:
        raise InvalidArgument("location", "is required for a session in person")
    if delivery is Delivery.IN_PERSON and request.meeting_link:
        raise InvalidArgument("meeting_link", "a session in person has no meeting link")
    return delivery


def plan_session(
    relationship: Relationship,
    request: SessionRequest,
    session_id: str,
    planned: Sequence[Session],
    program: ProgramTerms | None = None,
) -> Session:
    """A new SCHEDULED session, if the relationship is active, the session lies within the program's
    cohort (when the program is known) and nobody in it is booked at that time.

    ``planned`` are the sessions near the requested slot of every person in the relationship, in this
    relationship and in their others; only SCHEDULED ones block (a cancelled slot is free again, a
    completed one cannot be in the future).
    """
    relationship.require_active()
    candidate = Session(
        session_id=session_id,
        match_id=relationship.match_id,
        starts_at=request.starts_at,
        duration_minutes=request.duration_minutes,
        agenda=request.agenda,
        request_id=request.request_id,
        delivery=_delivery_of(request, program),
        location=request.location,
        meeting_link=request.meeting_link,
    )
    if program is not None:
        program.require_within(candidate.starts_at, candidate.ends_at)
    require_nobody_busy(relationship, candidate.starts_at, candidate.ends_at, planned)
    return candidate


def require_nobody_busy(
    relationship: Relationship, starts_at: datetime, ends_at: datetime, planned: Sequence[Session]
) -> None:
    """Nobody in the relationship has a SCHEDULED session in ``[starts_at, ends_at)``, in it or in
    another of their relationships (``planned``: the sessions near that time of its people)."""
    for other in planned:
        if other.status is not SessionStatus.SCHEDULED or not other.overlaps(starts_at, ends_at):
            continue
        if other.match_id == relationship.match_id:
            raise FailedPrecondition(
                "session_overlap",
                f"the match already has session {other.session_id} from {other.starts_at.isoformat()} "
                f"to {other.ends_at.isoformat()}",
            )
        # Another relationship's session: which one, and whose, is that relationship's business.
        raise FailedPrecondition("participant_busy", "someone in this match has another session at that time")


def sessions_to_cancel_on_end(sessions: Iterable[Session], now: datetime) -> list[Session]:
    """When a relationship ends, the sessions still to come are cancelled. A past session left
    SCHEDULED stays so, so that it can still be recorded as completed."""
    now = require_aware(now, "now")
    return [
        session.cancel(MATCH_ENDED_REASON)
        for session in sessions
        if session.status is SessionStatus.SCHEDULED and session.starts_at >= now
    ]


@dataclass(frozen=True, slots=True)
class Goal:
    goal_id: str
    match_id: str
    what: str
    metric: str = ""
    target: str = ""
    due: datetime | None = None
    skill_tags: tuple[str, ...] = ()


def validate_goal(
    match_id: str,
    goal_id: str,
    what: str,
    metric: str,
    target: str,
    due: datetime | None,
    skill_tags: Iterable[str],
) -> Goal:
    tags = tuple(dict.fromkeys(tag.strip().casefold() for tag in skill_tags if tag.strip()))
    if len(tags) > MAX_GOAL_TAGS:
        raise InvalidArgument("goal.skill_tags", f"at most {MAX_GOAL_TAGS} tags")
    return Goal(
        goal_id=require_id(goal_id, "goal.goal_id"),
        match_id=require_id(match_id, "match_id"),
        what=clean_text(what, "goal.what", MAX_GOAL_TEXT, required=True),
        metric=clean_text(metric, "goal.metric", MAX_GOAL_TEXT),
        target=clean_text(target, "goal.target", MAX_GOAL_TEXT),
        due=require_aware(due, "goal.due") if due is not None else None,
        skill_tags=tags,
    )


@dataclass(frozen=True, slots=True)
class GoalProgress:
    goal_id: str
    match_id: str
    progress: float
    note: str
    recorded_at: datetime
    recorded_by: str = ""


def record_progress(
    relationship: Relationship, goal: Goal, progress: float, note: str, now: datetime, by: str = ""
) -> GoalProgress:
    """A check-in: the progress made, by a member of the relationship (``by``, when said)."""
    if not math.isfinite(progress) or not 0.0 <= progress <= 1.0:
        raise InvalidArgument("progress", "must be between 0 and 1")
    cleaned_note = clean_text(note, "note", MAX_NOTES_LENGTH)
    author = optional_id(by, "employee_id")
    relationship.require_active()
    if author and relationship.role_of(author) is None:
        raise FailedPrecondition("not_a_participant", "only a member of the relationship checks in")
    return GoalProgress(
        goal_id=goal.goal_id,
        match_id=goal.match_id,
        progress=progress,
        note=cleaned_note,
        recorded_at=require_aware(now, "now"),
        recorded_by=author,
    )


def carried_goals(match_id: str, declared: Sequence[tuple[str, Sequence[Goal]]]) -> list[Goal]:
    """The goals the mentees declared at enrolment, as the relationship's own: ``declared`` holds each
    mentee's goals in the mentees' order. In a group, a goal id two mentees both use is told apart by
    the mentee's position (``g1~2``)."""
    carried: list[Goal] = []
    taken: set[str] = set()
    for position, (_mentee, goals) in enumerate(declared, start=1):
        for goal in goals:
            goal_id = goal.goal_id if goal.goal_id not in taken else f"{goal.goal_id}~{position}"
            taken.add(goal_id)
            carried.append(replace(goal, goal_id=goal_id, match_id=match_id))
    return carried


@dataclass(frozen=True, slots=True)
class Feedback:
    feedback_id: str
    match_id: str
    session_id: str
    employee_id: str
    by: Role
    rating: int
    comment: str


def validate_feedback(employee_id: str, rating: int, comment: str) -> tuple[str, int, str]:
    """The author, rating and comment of a feedback, checked before anything is looked up."""
    if not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidArgument("rating", f"must be between {MIN_RATING} and {MAX_RATING}")
    return require_id(employee_id, "employee_id"), rating, clean_text(comment, "comment", MAX_COMMENT_LENGTH)


def give_feedback(
    relationship: Relationship,
    session: Session,
    employee_id: str,
    rating: int,
    comment: str,
    feedback_id: str,
    already_given: bool,
) -> Feedback:
    """Feedback on a completed session of the relationship, by one of its participants, once."""
    author, rating, cleaned_comment = validate_feedback(employee_id, rating, comment)
    role = relationship.role_of(author)
    if role is None:
        raise FailedPrecondition("not_a_participant", "only the match's participants give feedback on it")
    if session.match_id != relationship.match_id:
        raise FailedPrecondition(
            "session_not_in_match", f"session {session.session_id} is not in match {relationship.match_id}"
        )
    if session.status is not SessionStatus.COMPLETED:
        raise FailedPrecondition(
            "session_not_completed", f"session {session.session_id} is {session.status}, not completed"
        )
    if already_given:
        raise AlreadyExists("feedback", session.session_id)
    return Feedback(
        feedback_id=feedback_id,
        match_id=relationship.match_id,
        session_id=session.session_id,
        employee_id=author,
        by=role,
        rating=rating,
        comment=cleaned_comment,
    )
