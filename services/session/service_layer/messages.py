"""Domain values as protobuf messages: the payloads of the events the service publishes, and the
responses of its API (both use ``mentoring.v1.Session``)."""

from __future__ import annotations

from typing import Final

from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2, session_pb2

from services.session.domain.model import Feedback, Goal, GoalProgress, Relationship, Role, Session
from services.shared.envelope import CloudEvent, new_event
from services.shared.timestamps import timestamp

SOURCE: Final = "/mentoring/session"
SCHEDULED: Final = "mentoring.session.session.scheduled.v1"
COMPLETED: Final = "mentoring.session.session.completed.v1"
CANCELLED: Final = "mentoring.session.session.cancelled.v1"
PROGRESS_RECORDED: Final = "mentoring.session.goal.progress_recorded.v1"
FEEDBACK_SUBMITTED: Final = "mentoring.session.feedback.submitted.v1"

ROLE_TO_PROTO: Final = {Role.MENTOR: common_pb2.ROLE_MENTOR, Role.MENTEE: common_pb2.ROLE_MENTEE}


def session_message(session: Session) -> events_pb2.Session:
    return events_pb2.Session(
        session_id=session.session_id,
        match_id=session.match_id,
        starts_at=timestamp(session.starts_at),
        duration_minutes=session.duration_minutes,
        status=session.status.value,
        agenda=session.agenda,
    )


def goal_message(goal: Goal) -> common_pb2.Goal:
    message = common_pb2.Goal(
        goal_id=goal.goal_id,
        what=goal.what,
        metric=goal.metric,
        target=goal.target,
        skill_tags=list(goal.skill_tags),
    )
    if goal.due is not None:
        message.due.CopyFrom(timestamp(goal.due))
    return message


def progress_message(progress: GoalProgress) -> session_pb2.GoalProgress:
    return session_pb2.GoalProgress(
        goal_id=progress.goal_id,
        match_id=progress.match_id,
        progress=progress.progress,
        note=progress.note,
        recorded_at=timestamp(progress.recorded_at),
    )


def feedback_message(feedback: Feedback) -> session_pb2.Feedback:
    return session_pb2.Feedback(
        feedback_id=feedback.feedback_id,
        match_id=feedback.match_id,
        session_id=feedback.session_id,
        by=ROLE_TO_PROTO[feedback.by],
        rating=feedback.rating,
        comment=feedback.comment,
    )


# ---- events, each with its key (the match id) ----


def _event(ce_type: str, relationship: Relationship, subject: str, data: Message) -> tuple[CloudEvent, str]:
    event = new_event(ce_type, SOURCE, data, subject=subject, tenant=relationship.tenant)
    return event, relationship.match_id


def scheduled(relationship: Relationship, session: Session) -> tuple[CloudEvent, str]:
    return _event(
        SCHEDULED,
        relationship,
        session.session_id,
        events_pb2.SessionScheduled(session=session_message(session)),
    )


def completed(relationship: Relationship, session: Session) -> tuple[CloudEvent, str]:
    return _event(
        COMPLETED,
        relationship,
        session.session_id,
        events_pb2.SessionCompleted(session=session_message(session)),
    )


def cancelled(relationship: Relationship, session: Session) -> tuple[CloudEvent, str]:
    return _event(
        CANCELLED,
        relationship,
        session.session_id,
        events_pb2.SessionCancelled(session=session_message(session), reason=session.cancel_reason),
    )


def progress_recorded(relationship: Relationship, progress: GoalProgress) -> tuple[CloudEvent, str]:
    return _event(
        PROGRESS_RECORDED,
        relationship,
        progress.goal_id,
        events_pb2.GoalProgressRecorded(
            match_id=progress.match_id,
            goal_id=progress.goal_id,
            progress=progress.progress,
            note=progress.note,
        ),
    )


def feedback_submitted(relationship: Relationship, feedback: Feedback) -> tuple[CloudEvent, str]:
    # The comment stays in the service: the event says who (by role) rated what, not what was written.
    return _event(
        FEEDBACK_SUBMITTED,
        relationship,
        feedback.session_id,
        events_pb2.FeedbackSubmitted(
            match_id=feedback.match_id,
            session_id=feedback.session_id,
            by=ROLE_TO_PROTO[feedback.by],
            rating=feedback.rating,
        ),
    )
