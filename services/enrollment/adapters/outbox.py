"""Domain events -> CloudEvents in the outbox, inside the caller's transaction.

Every event goes to ``enrollment.events.v1``; its CloudEvents type and source come from the topic
registry (:func:`published_event`). Keys: the program id for program and participant events (so
matching sees one program's changes in order); an erasure is announced once per program the employee
had an enrollment in, keyed by that program, so it lands after that program's withdrawal, or keyed
``tenant:employee`` when the employee never enrolled (see :func:`erasure_keys`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment import metrics
from services.enrollment.adapters.translate import event_to_wire
from services.enrollment.domain import DomainEvent, EmployeeErased, Enrollment, Participant
from services.shared.envelope import CloudEvent, published_event
from services.shared.outbox import stage_events
from services.shared.unit_of_work import after_commit

PRODUCER: Final = "enrollment"
# CloudEvents extension naming the inbound event that caused an outbound one (tracing, benchmarks).
CAUSATION_EXTENSION: Final = "causationid"

Keyed = tuple[DomainEvent, str]


def keyed(events: Iterable[DomainEvent]) -> list[Keyed]:
    """Events with their default keys (program id; ``tenant:employee`` for an erasure)."""
    return [(event, event.key) for event in events]


def erasure_keys(event: EmployeeErased, enrollments: Sequence[Enrollment]) -> list[Keyed]:
    """One EmployeeErased per program the employee enrolled in (any status), else one per employee."""
    programs = sorted({enrollment.program_id for enrollment in enrollments})
    return [(event, program_id) for program_id in programs] or [(event, event.key)]


def to_cloud_event(
    event: DomainEvent, views: Mapping[str, Participant], causation_id: str | None = None
) -> CloudEvent:
    """``views``: the participant (latest state) of each paused or withdrawn enrollment, whose domain
    events carry ids only while the wire carries the whole participant."""
    message, subject = event_to_wire(event, views)
    cloud_event = published_event(PRODUCER, message, subject=subject, tenant=event.tenant)
    extensions = {CAUSATION_EXTENSION: causation_id} if causation_id else {}
    return replace(cloud_event, time=event.occurred_at, extensions=extensions)


async def stage(
    session: AsyncSession,
    events: Sequence[Keyed],
    *,
    views: Mapping[str, Participant] | None = None,
    causation_id: str | None = None,
) -> None:
    """Write the events to the outbox in the session's transaction, in order."""
    await stage_many(session, [(event, views or {}, causation_id) for event in events])


async def stage_many(
    session: AsyncSession, events: Sequence[tuple[Keyed, Mapping[str, Participant], str | None]]
) -> None:
    """Events of several causes, each with its participant views and causation id, in one statement."""
    if not events:
        return
    staged = [
        (to_cloud_event(event, views, causation_id), key) for (event, key), views, causation_id in events
    ]
    await stage_events(session, staged)
    counts = Counter(cloud_event.type for cloud_event, _key in staged)
    after_commit(session, lambda: _count_staged(counts))


def _count_staged(counts: Counter[str]) -> None:
    for ce_type, count in counts.items():
        metrics.EVENTS_STAGED.labels(ce_type).inc(count)
