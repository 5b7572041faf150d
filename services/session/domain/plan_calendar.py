"""iCalendar (RFC 5545) export of a cadence plan as one recurring series, with the ``icalendar`` library.

The series is a VEVENT with ``DTSTART`` in the mentor's time zone (``TZID``, its VTIMEZONE included, so
the wall-clock time holds across daylight-saving changes) and an ``RRULE``. A skipped occurrence, or one
for which no time was found, is an ``EXDATE``. An occurrence at another time than the series says (moved
by a person or by the planner) is a VEVENT of the same UID with a ``RECURRENCE-ID`` (the time the series
gives it) and its own ``DTSTART``; an accepted occurrence is such an override too, ``CONFIRMED``, while
the series itself is ``TENTATIVE`` (proposed). Nothing names a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

import icalendar

from services.session.domain.calendar import PRODUCT_ID, UID_DOMAIN
from services.session.domain.model import require_aware
from services.session.domain.plans import Plan, PlanSlot, SlotStatus

SUMMARY: Final = "Mentoring session"
_WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def plan_uid(match_id: str) -> str:
    return f"plan-{match_id}@{UID_DOMAIN}"


def _rrule(plan: Plan) -> dict[str, object]:
    recurrence = plan.recurrence
    rule: dict[str, object] = {"freq": recurrence.freq, "count": recurrence.count}
    if recurrence.interval != 1:
        rule["interval"] = recurrence.interval
    if recurrence.by_day is not None:
        nth, weekday = recurrence.by_day
        rule["byday"] = f"{nth}{_WEEKDAYS[weekday]}"
    return rule


def _event(plan: Plan, stamp: datetime, start: datetime, status: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", plan_uid(plan.match_id))
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + plan.cadence.duration)
    event.add("summary", SUMMARY)
    event.add("status", status)
    return event


def _override(plan: Plan, slot: PlanSlot, stamp: datetime, zone: ZoneInfo) -> icalendar.Event | None:
    if slot.starts_at is None or not (slot.moved or slot.status is SlotStatus.ACCEPTED):
        return None
    status = "CONFIRMED" if slot.status is SlotStatus.ACCEPTED else "TENTATIVE"
    event = _event(plan, stamp, slot.starts_at.astimezone(zone), status)
    event.add("recurrence-id", slot.occurrence.astimezone(zone))
    return event


def render_plan(plan: Plan, stamp: datetime) -> str:
    """A VCALENDAR holding the plan's series and its overrides; ``stamp`` is the DTSTAMP."""
    stamp = require_aware(stamp, "stamp")
    zone = ZoneInfo(plan.timezone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if plan.slots:
        series = _event(plan, stamp, plan.slots[0].occurrence.astimezone(zone), "TENTATIVE")
        series.add("rrule", _rrule(plan))
        excluded = [
            slot.occurrence.astimezone(zone)
            for slot in plan.slots
            if slot.status in (SlotStatus.SKIPPED, SlotStatus.UNFILLED)
        ]
        if excluded:
            series.add("exdate", excluded)
        calendar.add_component(series)
        for slot in plan.slots:
            if slot.status in (SlotStatus.SKIPPED, SlotStatus.UNFILLED):
                continue
            override = _override(plan, slot, stamp, zone)
            if override is not None:
                calendar.add_component(override)
    calendar.add_missing_timezones()
    content: bytes = calendar.to_ical()
    return content.decode("utf-8")
