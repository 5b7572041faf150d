"""Protobuf <-> the session domain: the service's API responses and the payloads of the events it
publishes (both use ``mentoring.v1.Session``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, assert_never

from google.protobuf.message import Message
from mentoring.v1 import common_pb2, events_pb2, session_pb2

from services.session.domain import events
from services.session.domain.health import Health, RiskReason
from services.session.domain.model import (
    CancellationCause,
    Feedback,
    Goal,
    GoalProgress,
    Role,
    Session,
)
from services.session.domain.outcomes import EndCause, ProgramOutcomes, Satisfaction
from services.session.domain.plans import Plan, PlanSlot
from services.session.domain.programs import Delivery, ProgramTerms
from services.session.domain.reviews import ClosingReview, MentorBenefit
from services.shared.errors import InvalidArgument
from services.shared.timestamps import instant, timestamp

ROLE_TO_WIRE: Final = {Role.MENTOR: common_pb2.ROLE_MENTOR, Role.MENTEE: common_pb2.ROLE_MENTEE}
DELIVERY_TO_WIRE: Final = {
    Delivery.UNSPECIFIED: common_pb2.DELIVERY_UNSPECIFIED,
    Delivery.IN_PERSON: common_pb2.DELIVERY_IN_PERSON,
    Delivery.REMOTE: common_pb2.DELIVERY_REMOTE,
    Delivery.HYBRID: common_pb2.DELIVERY_HYBRID,
}
DELIVERY_FROM_WIRE: Final = {wire: delivery for delivery, wire in DELIVERY_TO_WIRE.items()}
CAUSE_TO_WIRE: Final = {
    CancellationCause.REQUESTED: common_pb2.CANCELLATION_CAUSE_REQUESTED,
    CancellationCause.MATCH_ENDED: common_pb2.CANCELLATION_CAUSE_MATCH_ENDED,
}

RISK_TO_WIRE: Final = {
    RiskReason.MISSED_CADENCE: events_pb2.RELATIONSHIP_RISK_MISSED_CADENCE,
    RiskReason.RATINGS_DROPPED: events_pb2.RELATIONSHIP_RISK_RATINGS_DROPPED,
}

END_CAUSE_TO_WIRE: Final = {
    EndCause.UNSPECIFIED: common_pb2.END_CAUSE_UNSPECIFIED,
    EndCause.AT_WILL: common_pb2.END_CAUSE_AT_WILL,
    EndCause.MANAGEMENT_CHAIN: common_pb2.END_CAUSE_MANAGEMENT_CHAIN,
    EndCause.PARTICIPANT_PAUSED: common_pb2.END_CAUSE_PARTICIPANT_PAUSED,
    EndCause.PARTICIPANT_WITHDRAWN: common_pb2.END_CAUSE_PARTICIPANT_WITHDRAWN,
    EndCause.EMPLOYEE_TERMINATED: common_pb2.END_CAUSE_EMPLOYEE_TERMINATED,
    EndCause.EMPLOYEE_ERASED: common_pb2.END_CAUSE_EMPLOYEE_ERASED,
}
BENEFIT_TO_WIRE: Final = {
    MentorBenefit.SEEING_OTHERS_DEVELOP: session_pb2.MENTOR_BENEFIT_SEEING_OTHERS_DEVELOP,
    MentorBenefit.NEW_PERSPECTIVES: session_pb2.MENTOR_BENEFIT_NEW_PERSPECTIVES,
    MentorBenefit.SKILLS_STRENGTHENED: session_pb2.MENTOR_BENEFIT_SKILLS_STRENGTHENED,
}
BENEFIT_FROM_WIRE: Final = {wire: benefit for benefit, wire in BENEFIT_TO_WIRE.items()}
END_CAUSE_FROM_WIRE: Final = {wire: cause for cause, wire in END_CAUSE_TO_WIRE.items()}


# ---- domain -> wire ----


def session_to_wire(session: Session) -> events_pb2.Session:
    return events_pb2.Session(
        session_id=session.session_id,
        match_id=session.match_id,
        starts_at=timestamp(session.starts_at),
        duration_minutes=session.duration_minutes,
        status=session.status.value,
        agenda=session.agenda,
        delivery=DELIVERY_TO_WIRE[session.delivery],
        location=session.location,
        meeting_link=session.meeting_link,
    )


# ---- wire -> domain ----


def delivery_from_wire(delivery: common_pb2.Delivery.ValueType) -> Delivery:
    return DELIVERY_FROM_WIRE.get(delivery, Delivery.UNSPECIFIED)


def goal_from_wire(goal: common_pb2.Goal, match_id: str = "") -> Goal:
    return Goal(
        goal_id=goal.goal_id,
        match_id=match_id,
        what=goal.what,
        metric=goal.metric,
        target=goal.target,
        due=instant(goal.due) if goal.HasField("due") else None,
        skill_tags=tuple(goal.skill_tags),
    )


def program_terms_from_wire(program: common_pb2.Program) -> ProgramTerms:
    cohort = program.cohort
    return ProgramTerms(
        program_id=program.program_id,
        tenant=program.tenant,
        cohort_start=instant(cohort.start) if cohort.HasField("start") else None,
        cohort_end=instant(cohort.end) if cohort.HasField("end") else None,
        delivery=delivery_from_wire(program.delivery),
        manager_ids=tuple(
            dict.fromkeys(manager.strip() for manager in program.manager_ids if manager.strip())
        ),
        every_days=max(program.cadence.every_days, 0),
        session_minutes=max(program.cadence.session_minutes, 0),
    )


def goal_to_wire(goal: Goal) -> common_pb2.Goal:
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


def progress_to_wire(progress: GoalProgress) -> session_pb2.GoalProgress:
    return session_pb2.GoalProgress(
        goal_id=progress.goal_id,
        match_id=progress.match_id,
        progress=progress.progress,
        note=progress.note,
        recorded_at=timestamp(progress.recorded_at),
        recorded_by=progress.recorded_by,
    )


def feedback_to_wire(feedback: Feedback) -> session_pb2.Feedback:
    return session_pb2.Feedback(
        feedback_id=feedback.feedback_id,
        match_id=feedback.match_id,
        session_id=feedback.session_id,
        by=ROLE_TO_WIRE[feedback.by],
        rating=feedback.rating,
        comment=feedback.comment,
    )


def slot_to_wire(slot: PlanSlot) -> session_pb2.PlannedSlot:
    message = session_pb2.PlannedSlot(
        index=slot.index,
        occurrence=timestamp(slot.occurrence),
        status=slot.status.value,
        session_id=slot.session_id,
        moved=slot.moved,
    )
    if slot.starts_at is not None:
        message.starts_at.CopyFrom(timestamp(slot.starts_at))
    return message


def plan_to_wire(plan: Plan) -> session_pb2.Plan:
    return session_pb2.Plan(
        match_id=plan.match_id,
        timezone=plan.timezone,
        every_days=plan.cadence.every_days,
        session_minutes=plan.cadence.session_minutes,
        frequency=plan.cadence.frequency.value,
        slots=[slot_to_wire(slot) for slot in plan.slots],
        complete=plan.complete,
    )


def at_risk_to_wire(match_id: str, program_id: str, health: Health) -> session_pb2.RelationshipAtRisk:
    message = session_pb2.RelationshipAtRisk(
        match_id=match_id, program_id=program_id, reasons=[RISK_TO_WIRE[reason] for reason in health.reasons]
    )
    if health.since is not None:
        message.since.CopyFrom(timestamp(health.since))
    return message


def end_cause_from_wire(cause: common_pb2.EndCause.ValueType) -> EndCause:
    return END_CAUSE_FROM_WIRE.get(cause, EndCause.UNSPECIFIED)


def _ratings_to_wire(summary: Satisfaction) -> session_pb2.RatingSummary:
    return session_pb2.RatingSummary(
        ratings=summary.ratings,
        relationships=summary.relationships,
        mean_told=summary.mean is not None,
        mean=summary.mean or 0.0,
    )


def outcomes_to_wire(outcomes: ProgramOutcomes) -> session_pb2.ProgramOutcomes:
    return session_pb2.ProgramOutcomes(
        program_id=outcomes.program_id,
        relationships=outcomes.relationships,
        active=outcomes.active,
        at_risk=outcomes.at_risk,
        ended=outcomes.ended,
        ended_early=outcomes.ended_early,
        ended_early_by_cause=[
            session_pb2.EndedEarly(cause=END_CAUSE_TO_WIRE[cause], relationships=count)
            for cause, count in sorted(outcomes.ended_early_by_cause.items())
        ],
        sessions_planned=outcomes.sessions_planned,
        sessions_scheduled=outcomes.sessions_scheduled,
        sessions_held=outcomes.sessions_held,
        sessions_cancelled=outcomes.sessions_cancelled,
        by_mentors=_ratings_to_wire(outcomes.by_mentors),
        by_mentees=_ratings_to_wire(outcomes.by_mentees),
        goals_total=outcomes.goals_total,
        goals_attained=outcomes.goals_attained,
        closing_by_mentors=_ratings_to_wire(outcomes.closing_by_mentors),
        closing_by_mentees=_ratings_to_wire(outcomes.closing_by_mentees),
        mentor_benefits=[
            session_pb2.BenefitCount(benefit=BENEFIT_TO_WIRE[MentorBenefit(benefit)], mentors=count)
            for benefit, count in sorted(outcomes.mentor_benefits.items())
        ],
    )


def benefits_from_wire(benefits: Iterable[session_pb2.MentorBenefit.ValueType]) -> tuple[MentorBenefit, ...]:
    """The benefits named; an unknown or unspecified value is refused (InvalidArgument)."""
    known = []
    for benefit in benefits:
        if benefit not in BENEFIT_FROM_WIRE:
            raise InvalidArgument("benefits", "names no benefit this service knows")
        known.append(BENEFIT_FROM_WIRE[benefit])
    return tuple(known)


def review_to_wire(review: ClosingReview) -> session_pb2.ClosingReview:
    return session_pb2.ClosingReview(
        match_id=review.match_id,
        by=ROLE_TO_WIRE[review.by],
        satisfaction=review.satisfaction,
        goals_attained=list(review.goals_attained),
        benefits=[BENEFIT_TO_WIRE[benefit] for benefit in review.benefits],
        comment=review.comment,
        submitted_at=timestamp(review.submitted_at),
    )


def page_to_wire(next_page_token: str, total_size: int) -> common_pb2.PageResponse:
    return common_pb2.PageResponse(next_page_token=next_page_token, total_size=total_size)


# ---- outgoing events ----


def event_to_wire(event: events.Event) -> Message:
    """The payload of a domain event as published on ``session.events.v1``."""
    match event:
        case events.SessionScheduled(session=session):
            return events_pb2.SessionScheduled(session=session_to_wire(session))
        case events.SessionCompleted(session=session):
            return events_pb2.SessionCompleted(session=session_to_wire(session))
        case events.SessionCancelled(session=session, cause=cause):
            return events_pb2.SessionCancelled(
                session=session_to_wire(session), reason=session.cancel_reason, cause=CAUSE_TO_WIRE[cause]
            )
        case events.GoalProgressRecorded(progress=progress):
            return events_pb2.GoalProgressRecorded(
                match_id=progress.match_id,
                goal_id=progress.goal_id,
                progress=progress.progress,
                note=progress.note,
            )
        case events.FeedbackSubmitted(feedback=feedback):
            # The comment stays in the service: the event says who (by role) rated what, not what was
            # written.
            return events_pb2.FeedbackSubmitted(
                match_id=feedback.match_id,
                session_id=feedback.session_id,
                by=ROLE_TO_WIRE[feedback.by],
                rating=feedback.rating,
            )
        case events.RelationshipHealthChanged(match_id=match_id, program_id=program_id, health=health):
            changed = events_pb2.RelationshipHealthChanged(
                match_id=match_id,
                program_id=program_id,
                at_risk=health.at_risk,
                reasons=[RISK_TO_WIRE[reason] for reason in health.reasons],
            )
            if health.since is not None:
                changed.since.CopyFrom(timestamp(health.since))
            return changed
        case _:
            assert_never(event)
