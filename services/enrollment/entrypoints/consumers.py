"""HRIS worker events in (``hris.worker.events.v1``): CloudEvent -> HrisEvent -> one
:class:`~services.enrollment.service_layer.commands.ApplyHrisEvents` per consumed batch.

The topic is the service's high-volume one, so it keeps a batch handler (a batch costs a handful of
round trips whatever its size, see ``service_layer/hris.py``) rather than a handler per event.

Binary mode carries an ``events_pb2.Worker*`` message whose ``WorkerChange`` is turned into the SCIM-named
record that structured JSON mode carries, so both go through the domain's one mapper
(``hris_event_from_scim``) and fail with the same field names. The event type comes from ``ce_type``
(a ``type`` in the data must agree), the effective time from the data or else ``ce_time``, and the
sequence from the data or else the ``sequence`` CloudEvents extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from mentoring.v1 import events_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.adapters.translate import WORKER_MESSAGES, worker_change_to_scim
from services.enrollment.domain import HrisEvent, hris_event_from_scim
from services.enrollment.service_layer.commands import ApplyHrisEvents
from services.shared.consumer import BatchHandler
from services.shared.envelope import CloudEvent
from services.shared.errors import DomainError, InvalidArgument
from services.shared.messagebus import MessageBus
from services.shared.topics import HRIS_WORKER_EVENTS, ce_type_of, types_of_topic

SEQUENCE_EXTENSION: Final = "sequence"

WorkerMessage = (
    events_pb2.WorkerHired
    | events_pb2.WorkerUpdated
    | events_pb2.WorkerTransferred
    | events_pb2.WorkerLeaveStarted
    | events_pb2.WorkerLeaveEnded
    | events_pb2.WorkerTerminated
    | events_pb2.WorkerRehired
    | events_pb2.WorkerErased
)


def _extension_sequence(event: CloudEvent) -> int | None:
    text = event.extensions.get(SEQUENCE_EXTENSION)
    if text is None:
        return None
    try:
        sequence = int(text)
    except ValueError:
        raise InvalidArgument("sequence", f"the sequence extension is not an integer: {text!r}") from None
    if sequence < 0:
        raise InvalidArgument("sequence", "must be a non-negative integer")
    return sequence


def hris_event_of(event: CloudEvent) -> HrisEvent:
    """Translate one consumed HRIS CloudEvent; InvalidArgument names the source field at fault."""
    kind = _KIND_OF_TYPE.get(event.type)
    sequence = _extension_sequence(event)
    if isinstance(event.data, dict):
        record = dict(event.data)
        if "sequence" not in record and sequence is not None:
            record["sequence"] = sequence
    else:
        message = event.data
        if not isinstance(message, WorkerMessage):
            raise InvalidArgument("data", f"{type(message).__name__} is not an HRIS worker message")
        record = worker_change_to_scim(message.change)
        if not message.change.sequence and sequence is not None:
            record["sequence"] = sequence
    return hris_event_from_scim(
        record, event_id=event.id, tenant=event.tenant, event_type=kind, effective_time=event.time
    )


def hris_batch_handler(bus: MessageBus) -> BatchHandler:
    """The HRIS topic's handler: translates each event (a malformed one is rejected alone, naming the
    field), then applies the batch's events as one command in the batch's unit of work."""

    async def apply(session: AsyncSession, events: Sequence[CloudEvent]) -> list[DomainError | None]:
        slots: list[DomainError | None] = [None] * len(events)
        translated: list[tuple[int, HrisEvent]] = []
        for position, event in enumerate(events):
            try:
                translated.append((position, hris_event_of(event)))
            except DomainError as error:
                slots[position] = error
        command = ApplyHrisEvents([(hris_event, events[position].id) for position, hris_event in translated])
        results = await bus.apply(session, command)
        for (position, _), result in zip(translated, results, strict=True):
            if isinstance(result, DomainError):
                slots[position] = result
        return slots

    return BatchHandler(HRIS_TYPES, apply)


HRIS_TYPES: Final = frozenset(event_type.ce_type for event_type in types_of_topic(HRIS_WORKER_EVENTS))
# The HRIS event type each CloudEvents type announces (the data's own ``type`` must agree).
_KIND_OF_TYPE: Final = {ce_type_of(message): kind.value for kind, message in WORKER_MESSAGES.items()}
