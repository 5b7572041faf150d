"""Reminders before sessions (by default 24 hours and 1 hour before): durable rows in the service's
database, written when a session is scheduled, replaced when it moves, deleted when it is cancelled.

A job fires those that are due: each reminder becomes its notifications and is deleted in one
transaction, so it fires once, whether the service restarts before or after. The notification ids
derive from the session, its SEQUENCE and the lead, so a moved session reminds again (at its new time)
and a reminder applied twice cannot notify anyone twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.adapters import event_memory
from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.model import Plan, Trigger
from services.notification.domain.templates import Facts, Template
from services.notification.service_layer.commands import FireDueReminders

Notify = Callable[[AsyncSession, Trigger, str, datetime | None], Awaitable[Plan]]


async def plan_reminders(
    uow: AsyncSession,
    tenant: str,
    match_id: str,
    entry: SessionCalendar,
    leads: tuple[int, ...],
    now: datetime,
) -> None:
    """The session's reminders as of this event: none for a cancelled one, one per lead still ahead."""
    await event_memory.delete_reminders(uow, tenant, entry.session_id)
    if entry.cancelled:
        return
    due = [(lead, entry.starts_at - timedelta(hours=lead)) for lead in sorted(set(leads)) if lead > 0]
    await event_memory.save_reminders(
        uow, tenant, entry.session_id, match_id, entry.sequence, [(lead, at) for lead, at in due if at > now]
    )


async def fire_due_reminders(uow: AsyncSession, command: FireDueReminders, *, notify: Notify) -> int:
    """Fire (and delete) the reminders due by the command's moment, at most ``limit``; how many."""
    moment = command.now or datetime.now(UTC)
    fired = 0
    for reminder in await event_memory.due_reminders(uow, moment, command.limit):
        await event_memory.delete_reminder(uow, reminder.tenant, reminder.session_id, reminder.lead_hours)
        known = await event_memory.match_of(uow, reminder.tenant, reminder.match_id)
        entry = await event_memory.session_of(uow, reminder.tenant, reminder.session_id)
        if known is None or entry is None or entry.cancelled:
            continue  # the match's people were erased, or the session is gone: nobody to remind
        program_id, participants = known
        facts = Facts(
            starts_at=entry.starts_at,
            duration_minutes=entry.duration_minutes,
            match_id=reminder.match_id,
            session_id=reminder.session_id,
            reminder_hours=reminder.lead_hours,
        )
        event_id = (
            f"reminder/{reminder.tenant}/{reminder.session_id}/{reminder.sequence}/{reminder.lead_hours}"
        )
        trigger = Trigger(
            event_id, Template.SESSION_REMINDER, participants, facts, reminder.tenant, participants
        )
        await notify(uow, trigger, program_id, command.now)
        fired += 1
    return fired
