"""What the session service tells the others: facts its handlers decide, published through the outbox.
Each event is keyed by its match (so one match's events stay in order) and names its subject."""

from __future__ import annotations

from dataclasses import dataclass

from services.session.domain.health import Health
from services.session.domain.model import CancellationCause, Feedback, GoalProgress, Session


@dataclass(frozen=True, slots=True)
class _AboutSession:
    """An event about one session: keyed by its match, its subject the session."""

    tenant: str
    session: Session

    @property
    def match_id(self) -> str:
        return self.session.match_id

    @property
    def subject(self) -> str:
        return self.session.session_id


@dataclass(frozen=True, slots=True)
class SessionScheduled(_AboutSession):
    pass


@dataclass(frozen=True, slots=True)
class SessionCompleted(_AboutSession):
    pass


@dataclass(frozen=True, slots=True)
class SessionCancelled(_AboutSession):
    cause: CancellationCause


@dataclass(frozen=True, slots=True)
class GoalProgressRecorded:
    tenant: str
    progress: GoalProgress

    @property
    def match_id(self) -> str:
        return self.progress.match_id

    @property
    def subject(self) -> str:
        return self.progress.goal_id


@dataclass(frozen=True, slots=True)
class FeedbackSubmitted:
    tenant: str
    feedback: Feedback

    @property
    def match_id(self) -> str:
        return self.feedback.match_id

    @property
    def subject(self) -> str:
        return self.feedback.session_id


@dataclass(frozen=True, slots=True)
class RelationshipHealthChanged:
    """A relationship became at risk, changed why, or recovered."""

    tenant: str
    match_id: str
    program_id: str
    health: Health

    @property
    def subject(self) -> str:
        return self.match_id


Event = (
    SessionScheduled
    | SessionCompleted
    | SessionCancelled
    | GoalProgressRecorded
    | FeedbackSubmitted
    | RelationshipHealthChanged
)
