"""Slot finding: when the people of a relationship are all at work and all free.

Each person works on weekdays (Monday to Friday, in their own time zone) from ``start_hour`` to
``end_hour``; an end at or before the start crosses midnight (22 to 6: the shift that starts on a
weekday evening ends the next morning). Working hours are turned into instants per local date with
``zoneinfo``, so a daylight-saving change moves the instants, not the wall clock. A wall-clock time
that does not exist (the hour skipped in spring) or exists twice (the hour repeated in autumn) is read
as Python does by default (PEP 495, ``fold=0``): a skipped 02:30 is 03:30, a repeated one the first.

Intervals are half-open ``[start, end)`` pairs of aware UTC datetimes, sorted and disjoint.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE: Final = "UTC"
DEFAULT_WORK_START_HOUR: Final = 9
DEFAULT_WORK_END_HOUR: Final = 17
WORKDAYS: Final = frozenset(range(5))  # Monday .. Friday

Interval = tuple[datetime, datetime]


def known_timezone(name: str) -> bool:
    if not name or name.strip() != name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """A person's usual working day in their time zone (an IANA name)."""

    timezone: str = DEFAULT_TIMEZONE
    start_hour: int = DEFAULT_WORK_START_HOUR
    end_hour: int = DEFAULT_WORK_END_HOUR

    @staticmethod
    def declared(timezone: str, start_hour: int, end_hour: int) -> WorkingHours:
        """What an enrolment says, with the defaults for what it leaves out: an unknown or empty time
        zone is UTC; hours out of range, or equal (both unset), are 09:00-17:00."""
        zone = timezone if known_timezone(timezone) else DEFAULT_TIMEZONE
        if not (0 <= start_hour <= 23 and 1 <= end_hour <= 24) or start_hour == end_hour % 24:
            return WorkingHours(zone)
        return WorkingHours(zone, start_hour, end_hour)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_hour % 24 <= self.start_hour and self.end_hour != 24

    def intervals(self, lo: datetime, hi: datetime) -> list[Interval]:
        """The working intervals of this person that meet ``[lo, hi)``, clipped to it."""
        zone = self.zone
        first = lo.astimezone(zone).date() - timedelta(days=1)
        last = hi.astimezone(zone).date()
        found: list[Interval] = []
        day = first
        while day <= last:
            if day.weekday() in WORKDAYS:
                start = _instant(day, self.start_hour, zone)
                end_day = day + timedelta(days=1) if self.crosses_midnight or self.end_hour == 24 else day
                end = _instant(end_day, self.end_hour % 24, zone)
                start, end = max(start, lo), min(end, hi)
                if start < end:
                    found.append((start, end))
            day += timedelta(days=1)
        return found


def _instant(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """The instants in both (two sorted, disjoint lists)."""
    both: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            both.append((start, end))
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return both


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, overlapping or touching intervals joined."""
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def subtract(free: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """``free`` without the instants of ``busy`` (any order, may overlap)."""
    taken = merged(busy)
    result: list[Interval] = []
    j = 0
    for start, end in free:
        while j < len(taken) and taken[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(taken) and taken[k][0] < end:
            if taken[k][0] > cursor:
                result.append((cursor, taken[k][0]))
            cursor = max(cursor, taken[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


@functools.lru_cache(maxsize=4096)
def shared_hours(people: tuple[WorkingHours, ...], lo: datetime, hi: datetime) -> tuple[Interval, ...]:
    """When everyone in ``people`` is at work, within ``[lo, hi)``. Kept for a while: a cohort that starts
    on one day has few distinct combinations of time zones and hours."""
    if not people:
        return ()
    free: Sequence[Interval] = _working(people[0], lo, hi)
    for person in people[1:]:
        free = intersect(free, _working(person, lo, hi))
    return tuple(free)


@functools.lru_cache(maxsize=1024)
def _working(person: WorkingHours, lo: datetime, hi: datetime) -> tuple[Interval, ...]:
    return tuple(person.intervals(lo, hi))


def shared_free_time(
    people: Sequence[WorkingHours], busy: Iterable[Interval], lo: datetime, hi: datetime
) -> list[Interval]:
    """When everyone in ``people`` is at work and nobody is busy, within ``[lo, hi)``."""
    return subtract(shared_hours(tuple(people), lo, hi), busy)


class FreeTime:
    """Shared free intervals, searchable: does a slot fit, and where is the next one that does."""

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self._intervals = list(intervals)
        self._starts = [start for start, _ in self._intervals]

    @property
    def intervals(self) -> list[Interval]:
        return list(self._intervals)

    def fits(self, start: datetime, duration: timedelta) -> bool:
        index = bisect.bisect_right(self._starts, start) - 1
        return index >= 0 and start + duration <= self._intervals[index][1]

    def earliest(self, duration: timedelta, not_before: datetime, before: datetime) -> datetime | None:
        """The earliest start at or after ``not_before`` (rounded up to the quarter hour), before
        ``before``, of a slot of ``duration`` that fits."""
        not_before = round_up(not_before)
        index = max(bisect.bisect_right(self._starts, not_before) - 1, 0)
        for start, end in self._intervals[index:]:
            if start >= before:
                return None
            candidate = max(round_up(start), not_before)
            if candidate < before and candidate + duration <= end:
                return candidate
        return None

    def latest(self, duration: timedelta, not_before: datetime, before: datetime) -> datetime | None:
        """The latest start, at or after ``not_before`` and before ``before`` (both on quarter hours), of
        a slot of ``duration`` that fits."""
        index = bisect.bisect_left(self._starts, before) - 1
        for start, end in reversed(self._intervals[: index + 1]):
            candidate = round_down(min(end - duration, before - timedelta(minutes=15)))
            if candidate < not_before or end <= not_before:
                return None
            if candidate >= start:
                return candidate
        return None

    def closest(self, duration: timedelta, nominal: datetime, lo: datetime, hi: datetime) -> datetime | None:
        """The start nearest to ``nominal`` in ``[lo, hi)`` of a slot of ``duration`` that fits (the
        earlier one on a tie)."""
        after = self.earliest(duration, nominal, hi)
        before = self.latest(duration, round_up(lo), nominal)
        if after is None or (before is not None and nominal - before <= after - nominal):
            return before
        return after

    def take(self, start: datetime, duration: timedelta) -> None:
        """The slot, which fits (``fits``), is booked: it is no longer free."""
        if not self.fits(start, duration):
            raise ValueError("only a slot that fits is taken")
        index = bisect.bisect_right(self._starts, start) - 1
        lo, hi = self._intervals[index]
        end = start + duration
        pieces = [piece for piece in ((lo, start), (end, hi)) if piece[0] < piece[1]]
        self._intervals[index : index + 1] = pieces
        self._starts[index : index + 1] = [piece[0] for piece in pieces]


def round_down(moment: datetime) -> datetime:
    """The quarter hour (UTC) at or before ``moment``."""
    base = moment.replace(second=0, microsecond=0)
    return base - timedelta(minutes=base.minute % 15)


def round_up(moment: datetime) -> datetime:
    """The next quarter hour (UTC) at or after ``moment``."""
    base = moment.replace(second=0, microsecond=0)
    if base < moment:
        base += timedelta(minutes=1)
    extra = base.minute % 15
    return base + timedelta(minutes=(15 - extra) % 15) if extra else base
