"""Cadence plans: a program's cadence made into proposed slots for one relationship.

The plan is a recurring series in the mentor's time zone (the wall-clock time stays when daylight saving
changes; the UTC instant moves): occurrence ``k`` is the series' first start plus ``k`` intervals. Each
occurrence becomes a slot at its own time when everyone is at work and free then; otherwise at the
earliest shared free time within half an interval of it (a moved occurrence); otherwise it stays
unfilled. The first start is chosen among the shared free times of the first interval as the one that
places most occurrences, then leaves most of them where the series puts them.

Either person then accepts a slot (it becomes a scheduled session), moves it, or skips it.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from services.session.domain.slots import FreeTime, Interval, WorkingHours, round_up, shared_free_time
from services.shared.errors import FailedPrecondition, InvalidArgument

MONTHLY_DAYS: Final = range(28, 32)  # every_days of a program meeting once a month
DEFAULT_OCCURRENCES: Final = 12  # a program without an end date: this many meetings are planned
MAX_OCCURRENCES: Final = 400
MAX_ANCHORS: Final = 24  # first starts tried per plan


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    EVERY_N_DAYS = "every_n_days"
    MEETINGS = "meetings"  # N meetings spread over the program


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often the relationship meets, and for how long. ``meetings`` > 0: that many meetings over
    the program's dates, evenly spaced (the wire's SessionCadence says ``every_days`` only)."""

    every_days: int
    session_minutes: int = 60
    meetings: int = 0

    @property
    def frequency(self) -> Frequency:
        if self.meetings > 0:
            return Frequency.MEETINGS
        if self.every_days == 7:
            return Frequency.WEEKLY
        if self.every_days == 14:
            return Frequency.FORTNIGHTLY
        if self.every_days in MONTHLY_DAYS:
            return Frequency.MONTHLY
        return Frequency.EVERY_N_DAYS

    @property
    def known(self) -> bool:
        return (self.every_days > 0 or self.meetings > 0) and self.session_minutes > 0

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.session_minutes)

    def interval_days(self, window: timedelta | None) -> int:
        """Days between meetings (a month counts as ``every_days``)."""
        if self.frequency is Frequency.MEETINGS and window is not None:
            return max(int(window / timedelta(days=1)) // self.meetings, 1)
        return max(self.every_days, 1)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """The series as RFC 5545 says it: ``FREQ``, ``INTERVAL``, ``COUNT`` and, monthly, ``BYDAY``
    (``(n, weekday)``: the n-th such weekday of the month, -1 the last)."""

    freq: str
    interval: int
    count: int
    by_day: tuple[int, int] | None = None


class SlotStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    SKIPPED = "skipped"
    UNFILLED = "unfilled"  # no time was found when everyone is at work and free


@dataclass(frozen=True, slots=True)
class PlanSlot:
    """Occurrence ``index`` of the series: where the series puts it (``occurrence``, its RECURRENCE-ID)
    and where it is (``starts_at``; None when unfilled)."""

    index: int
    occurrence: datetime
    starts_at: datetime | None
    status: SlotStatus = SlotStatus.PROPOSED
    session_id: str = ""

    @property
    def moved(self) -> bool:
        return self.starts_at is not None and self.starts_at != self.occurrence


@dataclass(frozen=True, slots=True)
class Plan:
    match_id: str
    timezone: str  # the series' (the mentor's)
    cadence: Cadence
    recurrence: Recurrence
    slots: tuple[PlanSlot, ...]

    @property
    def complete(self) -> bool:
        """Every occurrence got a slot."""
        return all(slot.status is not SlotStatus.UNFILLED for slot in self.slots)

    def slot(self, index: int) -> PlanSlot:
        for slot in self.slots:
            if slot.index == index:
                return slot
        raise InvalidArgument("index", f"the plan has no slot {index}")

    def with_slot(self, changed: PlanSlot) -> Plan:
        return replace(self, slots=tuple(changed if s.index == changed.index else s for s in self.slots))


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> int:
    """The day of the month of its ``nth`` ``weekday`` (-1: the last)."""
    days = [week[weekday] for week in calendar.monthcalendar(year, month) if week[weekday]]
    return days[-1] if nth == -1 else days[nth - 1]


def _recurrence(cadence: Cadence, first_local: datetime, interval_days: int, count: int) -> Recurrence:
    frequency = cadence.frequency
    if frequency is Frequency.WEEKLY:
        return Recurrence("WEEKLY", 1, count)
    if frequency is Frequency.FORTNIGHTLY:
        return Recurrence("WEEKLY", 2, count)
    if frequency is Frequency.MONTHLY:
        nth = (first_local.day - 1) // 7 + 1
        return Recurrence("MONTHLY", 1, count, (nth if nth <= 4 else -1, first_local.weekday()))
    return Recurrence("DAILY", interval_days, count)


def occurrences(first_local: datetime, recurrence: Recurrence) -> list[datetime]:
    """The series' instants (UTC): the same wall-clock time in the series' zone each time."""
    zone = first_local.tzinfo
    wall = first_local.replace(tzinfo=None)
    found: list[datetime] = []
    for k in range(recurrence.count):
        if recurrence.by_day is not None:
            year, month = divmod(wall.month - 1 + k, 12)
            nth, weekday = recurrence.by_day
            local = wall.replace(
                year=wall.year + year,
                month=month + 1,
                day=_nth_weekday(wall.year + year, month + 1, weekday, nth),
            )
        else:
            step = 7 if recurrence.freq == "WEEKLY" else 1
            local = wall + timedelta(days=step * recurrence.interval * k)
        found.append(local.replace(tzinfo=zone).astimezone(UTC))
    return found


def _count(cadence: Cadence, start: datetime, end: datetime | None, interval_days: int) -> int:
    if cadence.frequency is Frequency.MEETINGS:
        return min(cadence.meetings, MAX_OCCURRENCES)
    if end is None:
        return DEFAULT_OCCURRENCES
    if cadence.frequency is Frequency.MONTHLY:  # calendar months; those past the end are dropped
        return min((end.year - start.year) * 12 + end.month - start.month + 1, MAX_OCCURRENCES)
    # One more than whole intervals fit: the last may still fit before the end (if not, it is dropped).
    return max(min(int((end - start) / timedelta(days=interval_days)) + 1, MAX_OCCURRENCES), 0)


def _placed(
    times: Sequence[datetime], free: FreeTime, duration: timedelta, half: timedelta, end: datetime
) -> list[datetime | None]:
    """Each occurrence's slot: at its time if free, else the free time nearest to it within half
    an interval (after the previous slot), else None. Taken slots are no longer free."""
    placed: list[datetime | None] = []
    previous_end: datetime | None = None
    for nominal in times:
        if free.fits(nominal, duration) and (previous_end is None or nominal >= previous_end):
            start: datetime | None = nominal
        else:
            lo = nominal - half if previous_end is None else max(nominal - half, previous_end)
            start = free.closest(duration, nominal, lo, min(nominal + half, end))
        if start is not None:
            free.take(start, duration)
            previous_end = start + duration
        placed.append(start)
    return placed


def propose_plan(
    match_id: str,
    cadence: Cadence,
    people: Sequence[WorkingHours],
    busy: Sequence[Interval],
    start: datetime,
    end: datetime | None,
) -> Plan | None:
    """The plan of a relationship whose people are ``people`` (the mentor first: the series is in the
    mentor's zone), busy at ``busy`` (their other sessions and plans), from ``start`` to ``end`` (the
    program's window; None: open-ended). None when the cadence is unknown or nothing fits."""
    if not cadence.known or not people or (end is not None and end <= start):
        return None
    start = round_up(start)
    window = end - start if end is not None else None
    interval_days = cadence.interval_days(window)
    count = _count(cadence, start, end, interval_days)
    if count == 0:
        return None
    horizon = end if end is not None else start + timedelta(days=interval_days * (count + 1))
    free_intervals = shared_free_time(people, busy, start, horizon)
    zone = ZoneInfo(people[0].timezone)
    duration, half = cadence.duration, timedelta(days=interval_days) / 2
    first_period_end = min(start + timedelta(days=interval_days), horizon)
    # The best anchor places most occurrences, then leaves most of them where the series puts them.
    best: tuple[tuple[int, int], Recurrence, list[datetime], list[datetime | None]] | None = None
    for anchor in _anchors(FreeTime(free_intervals), duration, start, first_period_end):
        first_local = anchor.astimezone(zone)
        recurrence = _recurrence(cadence, first_local, interval_days, count)
        times = [moment for moment in occurrences(first_local, recurrence) if moment + duration <= horizon]
        recurrence = replace(recurrence, count=len(times))
        placed = _placed(times, FreeTime(free_intervals), duration, half, horizon)
        on_time = sum(1 for nominal, slot in zip(times, placed, strict=True) if slot == nominal)
        score = (sum(1 for slot in placed if slot is not None), on_time)
        if best is None or score > best[0]:
            best = (score, recurrence, times, placed)
        if on_time == len(times):
            break
    if best is None or not best[2]:
        return None
    _, recurrence, times, placed = best
    slots = tuple(
        PlanSlot(index, nominal, slot, SlotStatus.PROPOSED if slot is not None else SlotStatus.UNFILLED)
        for index, (nominal, slot) in enumerate(zip(times, placed, strict=True))
    )
    return Plan(match_id, people[0].timezone, cadence, recurrence, slots)


def _anchors(free: FreeTime, duration: timedelta, start: datetime, before: datetime) -> list[datetime]:
    """Candidate first starts: every whole hour of shared free time in the first interval, thinned
    evenly to at most MAX_ANCHORS."""
    candidates: list[datetime] = []
    for lo, hi in free.intervals:
        if lo >= before:
            break
        moment = round_up(max(lo, start))
        while moment + duration <= hi and moment < before:
            candidates.append(moment)
            moment += timedelta(hours=1)
    if len(candidates) <= MAX_ANCHORS:
        return candidates
    step = len(candidates) / MAX_ANCHORS
    return [candidates[int(i * step)] for i in range(MAX_ANCHORS)]


def _require_open(slot: PlanSlot, action: str) -> None:
    if slot.status in (SlotStatus.ACCEPTED, SlotStatus.SKIPPED):
        raise FailedPrecondition(
            "plan_slot_closed", f"slot {slot.index} is {slot.status}: it cannot be {action}"
        )


def accept_slot(slot: PlanSlot, session_id: str) -> PlanSlot:
    """The slot is taken as proposed: its session is ``session_id``."""
    _require_open(slot, "accepted")
    if slot.starts_at is None:
        raise FailedPrecondition("plan_slot_unfilled", f"slot {slot.index} has no time: move it to one first")
    return replace(slot, status=SlotStatus.ACCEPTED, session_id=session_id)


def release_slot(slot: PlanSlot) -> PlanSlot:
    """The session booked for the slot was cancelled: the slot is proposed again, to move or skip."""
    return replace(slot, status=SlotStatus.PROPOSED, session_id="")


def move_slot(slot: PlanSlot, starts_at: datetime) -> PlanSlot:
    """The slot is proposed at another time (an unfilled one gets its time)."""
    _require_open(slot, "moved")
    return replace(slot, starts_at=starts_at.astimezone(UTC), status=SlotStatus.PROPOSED)


def skip_slot(slot: PlanSlot) -> PlanSlot:
    _require_open(slot, "skipped")
    return replace(slot, status=SlotStatus.SKIPPED)
