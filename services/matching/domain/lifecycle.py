"""The life of a match once proposed: answers, activation, expiry, ending. Pure: no I/O.

A match has one mentor and one or more mentees (a group). It is PROPOSED until every side accepted
(then ACTIVE), someone declined (DECLINED) or its response window passed (EXPIRED); an ACTIVE match is
ENDED at will by either side or by an event (withdrawal, erasure, a manager change). PROPOSED and ACTIVE
matches are *live*: they hold the mentor's capacity and keep the mentees out of new runs.

Every change returns the transitions it caused, which the service layer hands to the publishing adapter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from services.shared.errors import FailedPrecondition, InvalidArgument, shown

MAX_REASON_LENGTH: Final = 500


class Status(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    EXPIRED = "expired"
    ENDED = "ended"


LIVE: Final = (Status.PROPOSED, Status.ACTIVE)


class Side(enum.StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    SYSTEM = "system"  # the service itself: expiry, withdrawal, erasure, a manager change


class Origin(enum.StrEnum):
    SOLVER = "solver"
    MANUAL = "manual"
    NOMINATION = "nomination"
    LATE_ENROLMENT = "late_enrolment"
    REMATCH = "rematch"


class EndCause(enum.StrEnum):
    """Why a match ended. The service stores its own causes as the end reason; a participant who ends a
    match at will gives a free-text reason instead, and the cause is ``AT_WILL``."""

    AT_WILL = "at_will"
    MANAGEMENT_CHAIN = "management_chain"
    PARTICIPANT_PAUSED = "participant_paused"
    PARTICIPANT_WITHDRAWN = "participant_withdrawn"
    EMPLOYEE_TERMINATED = "employee_terminated"
    EMPLOYEE_ERASED = "employee_erased"


class DeclineCause(enum.StrEnum):
    """Why a proposal was declined: someone said no, or nobody answered in time."""

    DECLINED = "declined"
    EXPIRED = "expired"


EXPIRED_REASON: Final = "expired"


class Kind(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ACTIVATED = "activated"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Transition:
    kind: Kind
    by: Side = Side.SYSTEM
    reason: str = ""
    rematch_offered: bool = False
    cause: EndCause | DeclineCause | None = None  # of a decline or an end


@dataclass(slots=True)
class Member:
    """A mentee of a match (for peer programs: the second peer)."""

    enrollment_id: str
    employee_id: str
    accepted: bool = False
    left_at: datetime | None = None


@dataclass(slots=True)
class MatchRecord:
    match_id: str
    program_id: str
    tenant: str
    format: str
    mentor_enrollment_id: str
    mentor_employee_id: str
    members: list[Member]
    score: float
    breakdown: dict[str, float]
    proposed_at: datetime
    respond_by: datetime
    origin: Origin = Origin.SOLVER
    status: Status = Status.PROPOSED
    mentor_accepted: bool = False
    skill_area: str = ""
    override_reason: str = ""
    override_by: str = ""
    note: str = ""
    run_id: str = ""
    speed_round: int = 0  # 1-based round of a speed-mentoring meeting; 0 = not a speed meeting
    activated_at: datetime | None = None
    closed_at: datetime | None = None
    end_reason: str = ""
    ended_by: str = ""
    updated_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def mentees(self) -> list[Member]:
        """The mentees still in the match (a group mentee who declined or left is not)."""
        return [member for member in self.members if member.left_at is None]

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def everyone_accepted(self) -> bool:
        mentees = self.mentees
        return self.mentor_accepted and bool(mentees) and all(member.accepted for member in mentees)

    def side_of(self, employee_id: str) -> Side | None:
        if employee_id and employee_id == self.mentor_employee_id:
            return Side.MENTOR
        if employee_id and any(member.employee_id == employee_id for member in self.mentees):
            return Side.MENTEE
        return None

    def member(self, employee_id: str) -> Member | None:
        return next((member for member in self.mentees if member.employee_id == employee_id), None)

    @property
    def end_cause(self) -> EndCause | None:
        """Why an ended match ended: at will when a member ended it, else the service's cause."""
        if self.status is not Status.ENDED:
            return None
        if self.ended_by != Side.SYSTEM:
            return EndCause.AT_WILL
        try:
            return EndCause(self.end_reason)
        except ValueError:
            return None


def clean_reason(reason: str, field: str = "reason", max_length: int = MAX_REASON_LENGTH) -> str:
    """The reason with runs of white space collapsed; longer than ``max_length`` is refused, never cut."""
    text = " ".join(reason.split())
    if len(text) > max_length:
        raise InvalidArgument(field, f"must be at most {max_length} characters")
    return text


def _side(match: MatchRecord, employee_id: str) -> Side:
    side = match.side_of(employee_id)
    if side is None:
        raise FailedPrecondition(
            "not_a_participant",
            f"employee {shown(employee_id) or '(none)'} is not the mentor or a mentee of the match",
        )
    return side


def _require_pending(match: MatchRecord, now: datetime) -> None:
    if match.status is not Status.PROPOSED or match.respond_by <= now:
        raise FailedPrecondition("not_pending", f"the match is {match.status}, not awaiting answers")


def _close(match: MatchRecord, status: Status, now: datetime, reason: str, by: Side) -> None:
    match.status = status
    match.closed_at = now
    match.end_reason = reason
    match.ended_by = str(by)
    match.updated_at = now


def _activate_if_complete(match: MatchRecord, now: datetime) -> list[Transition]:
    if match.status is Status.PROPOSED and match.everyone_accepted:
        match.status = Status.ACTIVE
        match.activated_at = now
        match.updated_at = now
        return [Transition(Kind.ACTIVATED)]
    return []


def accept(match: MatchRecord, employee_id: str, now: datetime) -> list[Transition]:
    """The mentor or a mentee says yes; the last yes activates the match. Saying yes twice is a no-op."""
    side = _side(match, employee_id)
    _require_pending(match, now)
    if side is Side.MENTOR:
        if match.mentor_accepted:
            return []
        match.mentor_accepted = True
    else:
        member = match.member(employee_id)
        assert member is not None
        if member.accepted:
            return []
        member.accepted = True
    match.updated_at = now
    return [Transition(Kind.ACCEPTED, side), *_activate_if_complete(match, now)]


def decline(match: MatchRecord, employee_id: str, reason: str, now: datetime) -> list[Transition]:
    """The mentor (or the only mentee) declines the whole proposal; a group mentee declines their seat."""
    side = _side(match, employee_id)
    _require_pending(match, now)
    reason = clean_reason(reason)
    if side is Side.MENTEE and len(match.mentees) > 1:
        member = match.member(employee_id)
        assert member is not None
        member.left_at = now
        match.updated_at = now
        declined = Transition(Kind.DECLINED, side, reason, cause=DeclineCause.DECLINED)
        return [declined, *_activate_if_complete(match, now)]
    _close(match, Status.DECLINED, now, reason, side)
    return [Transition(Kind.DECLINED, side, reason, cause=DeclineCause.DECLINED)]


def expire(match: MatchRecord, now: datetime) -> list[Transition]:
    """A proposal past its response window lapses (nobody is at fault)."""
    if match.status is not Status.PROPOSED or match.respond_by > now:
        return []
    _close(match, Status.EXPIRED, now, EXPIRED_REASON, Side.SYSTEM)
    return [Transition(Kind.DECLINED, Side.SYSTEM, EXPIRED_REASON, cause=DeclineCause.EXPIRED)]


def end(match: MatchRecord, employee_id: str, reason: str, now: datetime) -> list[Transition]:
    """Either side ends an active match at will: no fault, the reason is optional."""
    side = _side(match, employee_id)
    if match.status is not Status.ACTIVE:
        raise FailedPrecondition("not_active", f"the match is {match.status}; only an active match is ended")
    reason = clean_reason(reason)
    _close(match, Status.ENDED, now, reason, side)
    return [Transition(Kind.ENDED, side, reason, cause=EndCause.AT_WILL)]


def end_for(match: MatchRecord, employee_id: str, cause: EndCause, now: datetime) -> list[Transition]:
    """The service ends a live match because of what happened to one of its people.

    The mentor or the last mentee leaving ends the whole match; a group mentee leaving gives up their
    seat and the group goes on. That change publishes no event: matching.events.v1 has no membership
    event yet (MatchEnded would end the whole group for its consumers).
    """
    side = match.side_of(employee_id)
    if not match.live or side is None:
        return []
    if side is Side.MENTEE and len(match.mentees) > 1:
        member = match.member(employee_id)
        assert member is not None
        member.left_at = now
        match.updated_at = now
        return _activate_if_complete(match, now)
    _close(match, Status.ENDED, now, str(cause), Side.SYSTEM)
    return [Transition(Kind.ENDED, Side.SYSTEM, str(cause), cause=cause)]
