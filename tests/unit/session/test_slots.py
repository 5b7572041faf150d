"""Slot finding across time zones and daylight-saving changes: working hours become instants per local
date, so when one side's clocks change and the other's do not, the shared hours move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.session.domain.slots import (
    FreeTime,
    WorkingHours,
    intersect,
    shared_free_time,
    subtract,
)

BERLIN = WorkingHours("Europe/Berlin", 9, 17)
NEW_YORK = WorkingHours("America/New_York", 9, 17)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def on_day(intervals: list[tuple[datetime, datetime]], day: datetime) -> list[tuple[datetime, datetime]]:
    return [(a, b) for a, b in intervals if a.date() == day.date()]


def test_berlin_and_new_york_share_two_hours_in_winter() -> None:
    day = utc(2027, 1, 12)  # a Tuesday; Berlin UTC+1, New York UTC-5
    free = shared_free_time([BERLIN, NEW_YORK], [], day, day + timedelta(days=1))
    assert free == [(utc(2027, 1, 12, 14), utc(2027, 1, 12, 16))]


def test_in_the_march_weeks_between_the_changes_they_share_three_hours() -> None:
    # The USA changes on 14 March 2027, the EU on 28 March: New York is UTC-4, Berlin still UTC+1.
    day = utc(2027, 3, 16)
    free = shared_free_time([BERLIN, NEW_YORK], [], day, day + timedelta(days=1))
    assert free == [(utc(2027, 3, 16, 13), utc(2027, 3, 16, 16))]
    after = utc(2027, 3, 30)  # both on summer time: UTC+2 and UTC-4, two hours again
    assert shared_free_time([BERLIN, NEW_YORK], [], after, after + timedelta(days=1)) == [
        (utc(2027, 3, 30, 13), utc(2027, 3, 30, 15))
    ]


def test_in_the_october_week_between_the_changes_they_share_three_hours() -> None:
    # The EU changes back on 31 October 2027, the USA on 7 November: Berlin UTC+1, New York UTC-4.
    day = utc(2027, 11, 2)
    free = shared_free_time([BERLIN, NEW_YORK], [], day, day + timedelta(days=1))
    assert free == [(utc(2027, 11, 2, 13), utc(2027, 11, 2, 16))]
    before = utc(2027, 10, 26)  # both on summer time
    assert shared_free_time([BERLIN, NEW_YORK], [], before, before + timedelta(days=1)) == [
        (utc(2027, 10, 26, 13), utc(2027, 10, 26, 15))
    ]


def test_the_day_of_the_change_is_read_in_local_time() -> None:
    # Sunday 28 March 2027 is no working day; Monday 29 starts at 09:00 CEST = 07:00 UTC.
    hours = BERLIN.intervals(utc(2027, 3, 27), utc(2027, 3, 30))
    assert hours == [(utc(2027, 3, 29, 7), utc(2027, 3, 29, 15))]


def test_kolkata_half_hour_offset_and_no_daylight_saving() -> None:
    kolkata = WorkingHours("Asia/Kolkata", 9, 17)  # UTC+5:30 all year
    for day in (utc(2027, 1, 12), utc(2027, 7, 13)):
        free = shared_free_time([kolkata, BERLIN], [], day, day + timedelta(days=1))
        berlin_start = 8 if day.month == 1 else 7
        assert free == [(day.replace(hour=berlin_start), day.replace(hour=11, minute=30))]


def test_working_hours_that_cross_midnight() -> None:
    night = WorkingHours("Asia/Kolkata", 22, 6)  # a night shift: 22:00 to 06:00 the next morning
    assert night.crosses_midnight
    # Friday 15 January 2027's shift runs 16:30 UTC Friday to 00:30 UTC Saturday; none starts Saturday.
    hours = night.intervals(utc(2027, 1, 15), utc(2027, 1, 17))
    assert hours == [
        (utc(2027, 1, 15), utc(2027, 1, 15, 0, 30)),
        (utc(2027, 1, 15, 16, 30), utc(2027, 1, 16, 0, 30)),
    ]
    # Against New York's day (14:00-22:00 UTC in winter): 16:30-22:00 UTC.
    shared = shared_free_time([night, NEW_YORK], [], utc(2027, 1, 15), utc(2027, 1, 16))
    assert shared == [(utc(2027, 1, 15, 16, 30), utc(2027, 1, 15, 22))]


def test_a_night_shift_keeps_its_local_hours_either_side_of_the_autumn_change() -> None:
    night = WorkingHours("Europe/Berlin", 22, 6)
    # Friday 29 October 2027 22:00 CEST (20:00 UTC) to Saturday 06:00 CEST (04:00 UTC): 8 hours.
    friday = night.intervals(utc(2027, 10, 29, 12), utc(2027, 10, 30, 12))
    assert friday == [(utc(2027, 10, 29, 20), utc(2027, 10, 30, 4))]
    # After the change (Sunday 31 October) Monday's shift is 22:00-06:00 CET: 21:00 to 05:00 UTC.
    monday = night.intervals(utc(2027, 11, 1, 12), utc(2027, 11, 2, 12))
    assert monday == [(utc(2027, 11, 1, 21), utc(2027, 11, 2, 5))]


def test_absent_hours_are_nine_to_five_local_and_an_unknown_zone_is_utc() -> None:
    assert WorkingHours.declared("", 0, 0) == WorkingHours("UTC", 9, 17)
    assert WorkingHours.declared("Europe/Berlin", 0, 0) == WorkingHours("Europe/Berlin", 9, 17), "local"
    assert WorkingHours.declared("Mars/Olympus", 8, 16) == WorkingHours("UTC", 8, 16)
    assert WorkingHours.declared("Europe/Berlin", 25, 3) == WorkingHours("Europe/Berlin", 9, 17)
    assert WorkingHours.declared("Asia/Kolkata", 22, 6) == WorkingHours("Asia/Kolkata", 22, 6)


def test_busy_time_is_taken_out_and_free_time_searched() -> None:
    free = [(utc(2027, 1, 12, 9), utc(2027, 1, 12, 17))]
    busy = [(utc(2027, 1, 12, 10), utc(2027, 1, 12, 11)), (utc(2027, 1, 12, 10, 30), utc(2027, 1, 12, 12))]
    left = subtract(free, busy)
    assert left == [(utc(2027, 1, 12, 9), utc(2027, 1, 12, 10)), (utc(2027, 1, 12, 12), utc(2027, 1, 12, 17))]
    search = FreeTime(left)
    hour = timedelta(hours=1)
    assert search.fits(utc(2027, 1, 12, 9), hour)
    assert not search.fits(utc(2027, 1, 12, 9, 30), hour)
    assert search.earliest(timedelta(hours=2), utc(2027, 1, 12, 9, 5), utc(2027, 1, 13)) == utc(
        2027, 1, 12, 12
    )
    search.take(utc(2027, 1, 12, 12), hour)
    assert not search.fits(utc(2027, 1, 12, 12), hour)
    assert intersect(left, [(utc(2027, 1, 12, 9, 30), utc(2027, 1, 12, 13))]) == [
        (utc(2027, 1, 12, 9, 30), utc(2027, 1, 12, 10)),
        (utc(2027, 1, 12, 12), utc(2027, 1, 12, 13)),
    ]
