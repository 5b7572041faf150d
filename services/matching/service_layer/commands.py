"""What the matching service is asked to do, whichever entrypoint asks: an RPC, or an enrollment event
(translated into a command by the consumer). Each command names its result type; the handler of each
is in ``handlers.py``. A command an RPC issues carries its ``caller``, whom the handler checks
(``callers.py``); the commands of events and jobs have none."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.matching.domain.enrollments import Enrollment, Program
from services.matching.domain.introductions import Introduction
from services.matching.domain.lifecycle import EndCause, MatchRecord, Status
from services.matching.domain.runs import RunReport, StoredRun
from services.shared.auth import Principal
from services.shared.messagebus import Command, Query, Workflow
from services.shared.paging import Page


def _now() -> datetime:
    return datetime.now(UTC)


# ---- runs --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunMatching(Workflow[RunReport | StoredRun]):
    """Solve the program's pool and propose the matches (read, solve outside a transaction, store).
    The same request id returns the run stored the first time."""

    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    program_id: str
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class PreviewMatching(Workflow[RunReport]):
    """What a run would propose now; nothing is stored or published."""

    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    program_id: str
    request_id: str = ""


# ---- reading and answering matches ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetMatch(Query[MatchRecord]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    match_id: str


@dataclass(frozen=True, slots=True)
class ListMatches(Query[Page[MatchRecord]]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    program_id: str = ""
    status: Status | None = None
    employee_id: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class AcceptMatch(Command[MatchRecord]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    match_id: str
    employee_id: str
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class DeclineMatch(Command[MatchRecord]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    match_id: str
    employee_id: str
    reason: str = ""
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class EndMatch(Command[MatchRecord]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    match_id: str
    employee_id: str
    reason: str = ""
    offer_rematch: bool = False
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ExpireOverdue(Workflow[int]):
    """Expire every proposal past its response window, batch by batch (each batch a unit of work);
    the result is how many expired."""

    now: datetime = field(default_factory=_now)


# ---- matches made by people -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateManualMatch(Command[MatchRecord]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    program_id: str
    mentor_enrollment_id: str
    mentee_enrollment_ids: tuple[str, ...]
    override_reason: str
    hr_actor_id: str
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class RequestNominatedMentor(Command[MatchRecord]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    program_id: str
    mentee_enrollment_id: str
    mentor_employee_id: str
    skill_area: str = ""
    message: str = ""
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class IntroduceColleague(Command[Introduction]):
    caller: Principal = field(kw_only=True)  # who asked (the RPC's token)
    introducer_employee_id: str
    mentee_employee_id: str
    mentor_employee_id: str
    program_id: str = ""
    note: str = ""
    now: datetime = field(default_factory=_now)


# ---- enrollment events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeProgram(Command[None]):
    """A program was created or updated: its new state."""

    program: Program


@dataclass(frozen=True, slots=True)
class CloseProgram(Command[None]):
    program_id: str


@dataclass(frozen=True, slots=True)
class EnrollParticipant(Command[None]):
    """Enrolled: into the pool; a mentee (peer) enrolled after the program's matching ran gets a proposal.
    ``seen_at`` is the event's time (kept as the enrolment time)."""

    participant: Enrollment
    seen_at: datetime
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class UpdateParticipant(Command[None]):
    """Updated: a management chain that now makes a live pair boss and report ends their match."""

    participant: Enrollment
    seen_at: datetime
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class PauseParticipant(Command[None]):
    participant: Enrollment
    seen_at: datetime
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ResumeParticipant(Command[None]):
    participant: Enrollment
    seen_at: datetime
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class WithdrawParticipant(Command[None]):
    """Withdrawn: the enrolment's live matches end for ``cause`` (a termination, an erasure, or a plain
    withdrawal)."""

    participant: Enrollment
    cause: EndCause
    seen_at: datetime
    now: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class EraseEmployee(Command[None]):
    """Every live match of the employee ends, then matching forgets them."""

    employee_id: str
    now: datetime = field(default_factory=_now)
