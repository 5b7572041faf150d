"""Cadence plans: a series in the mentor's zone, placed inside the hours both people share, around their
other sessions, within the program's dates; its export parsed back with icalendar and expanded with
dateutil (independent of the code that wrote it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil import rrule

from services.session.domain.plan_calendar import render_plan
from services.session.domain.plans import (
    Cadence,
    Frequency,
    SlotStatus,
    accept_slot,
    move_slot,
    propose_plan,
    skip_slot,
)
from services.session.domain.slots import WorkingHours
from services.shared.errors import FailedPrecondition

BERLIN = WorkingHours("Europe/Berlin", 9, 17)
NEW_YORK = WorkingHours("America/New_York", 9, 17)
KOLKATA = WorkingHours("Asia/Kolkata", 9, 17)
HOUR = timedelta(hours=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def inside(hours: WorkingHours, start: datetime, minutes: int) -> bool:
    local = start.astimezone(hours.zone)
    end = (start + timedelta(minutes=minutes)).astimezone(hours.zone)
    return (
        local.weekday() < 5
        and hours.start_hour <= local.hour
        and (end.hour, end.minute) <= (hours.end_hour, 0)
    )


def test_the_cadence_names_its_frequency() -> None:
    assert Cadence(7).frequency is Frequency.WEEKLY
    assert Cadence(14).frequency is Frequency.FORTNIGHTLY
    assert Cadence(30).frequency is Frequency.MONTHLY
    assert Cadence(10).frequency is Frequency.EVERY_N_DAYS
    assert Cadence(0, 60, meetings=6).frequency is Frequency.MEETINGS
    assert not Cadence(0).known


def test_a_weekly_plan_across_both_daylight_saving_changes_stays_in_shared_hours() -> None:
    # February to mid-November 2027: the US and EU changes in March and in October/November.
    plan = propose_plan("m-1", Cadence(7, 60), [BERLIN, NEW_YORK], [], utc(2027, 2, 1), utc(2027, 11, 20))
    assert plan is not None and plan.complete
    assert plan.recurrence.freq == "WEEKLY" and plan.recurrence.count == len(plan.slots) > 40
    for slot in plan.slots:
        assert slot.starts_at is not None
        assert inside(BERLIN, slot.starts_at, 60) and inside(NEW_YORK, slot.starts_at, 60), slot
    # The series keeps Berlin's wall-clock time: the same local hour in January and in July.
    local_hours = {slot.occurrence.astimezone(BERLIN.zone).hour for slot in plan.slots}
    assert len(local_hours) == 1


def test_a_busy_occurrence_moves_to_the_hour_only_the_march_weeks_share() -> None:
    # Berlin 9-17 and New York 10-18 share Berlin 16:00-17:00 (15:00 UTC) in winter and summer; in the
    # weeks between the US change (14 March) and the EU one (28 March) also Berlin 15:00 (14:00 UTC).
    new_york = WorkingHours("America/New_York", 10, 18)
    first_week = [(utc(2027, 3, d, 15), utc(2027, 3, d, 16)) for d in range(2, 6)]  # only Monday free
    busy = [*first_week, (utc(2027, 3, 15, 15), utc(2027, 3, 15, 16))]  # Monday 15 March taken
    plan = propose_plan("m-1", Cadence(7, 60), [BERLIN, new_york], busy, utc(2027, 3, 1), utc(2027, 4, 30))
    assert plan is not None and plan.complete
    moved = [slot for slot in plan.slots if slot.moved]
    assert [(slot.occurrence, slot.starts_at) for slot in moved] == [
        (utc(2027, 3, 15, 15), utc(2027, 3, 15, 14))
    ]
    for slot in plan.slots:
        assert slot.starts_at is not None
        assert inside(BERLIN, slot.starts_at, 60) and inside(new_york, slot.starts_at, 60)
        assert not any(a < slot.starts_at + HOUR and slot.starts_at < b for a, b in busy)


def test_an_occurrence_with_no_shared_free_time_near_it_is_unfilled() -> None:
    busy = [(utc(2027, 1, d, 0), utc(2027, 1, d, 23)) for d in range(8, 16)]  # the second week taken
    plan = propose_plan("m-1", Cadence(7), [BERLIN, BERLIN], busy, utc(2027, 1, 4), utc(2027, 2, 1))
    assert plan is not None and not plan.complete
    assert [slot.status for slot in plan.slots] == [
        SlotStatus.PROPOSED,
        SlotStatus.UNFILLED,
        SlotStatus.PROPOSED,
        SlotStatus.PROPOSED,
    ]


def test_kolkata_and_new_york_share_no_hour_so_nothing_is_planned() -> None:
    # 09:00-17:00 in Kolkata is 03:30-11:30 UTC; in New York 14:00-22:00 UTC (13:00 in summer).
    assert (
        propose_plan("m-1", Cadence(14), [KOLKATA, NEW_YORK], [], utc(2027, 1, 4), utc(2027, 6, 30)) is None
    )


def test_kolkata_with_a_night_shift_in_new_york() -> None:
    night = WorkingHours("America/New_York", 22, 6)
    plan = propose_plan("m-1", Cadence(14, 45), [KOLKATA, night], [], utc(2027, 1, 4), utc(2027, 6, 30))
    assert plan is not None and plan.complete and plan.recurrence.interval == 2
    for slot in plan.slots:
        assert slot.starts_at is not None
        local = slot.starts_at.astimezone(KOLKATA.zone)
        assert local.hour >= 9 and local + timedelta(minutes=45) <= local.replace(hour=17, minute=0)


def test_other_sessions_are_avoided_and_the_window_respected() -> None:
    start, end = utc(2027, 1, 4), utc(2027, 3, 1)
    first = propose_plan("m-1", Cadence(7), [BERLIN, BERLIN], [], start, end)
    assert first is not None
    busy = [(s.starts_at, s.starts_at + HOUR) for s in first.slots if s.starts_at is not None]
    second = propose_plan("m-2", Cadence(7), [BERLIN, KOLKATA], busy, start, end)
    assert second is not None and second.complete
    for slot in second.slots:
        assert slot.starts_at is not None and start <= slot.starts_at and slot.starts_at + HOUR <= end
        assert all(not (a < slot.starts_at + HOUR and slot.starts_at < b) for a, b in busy)


def test_monthly_is_the_same_weekday_of_the_month_and_meetings_spread_over_the_window() -> None:
    monthly = propose_plan("m-1", Cadence(30), [BERLIN, BERLIN], [], utc(2027, 1, 4), utc(2027, 7, 1))
    assert monthly is not None and monthly.recurrence.freq == "MONTHLY"
    assert monthly.recurrence.by_day is not None
    weekdays = {s.occurrence.astimezone(BERLIN.zone).weekday() for s in monthly.slots}
    assert len(weekdays) == 1 and len(monthly.slots) == 6
    six = propose_plan(
        "m-2", Cadence(0, 60, meetings=6), [BERLIN, BERLIN], [], utc(2027, 1, 4), utc(2027, 7, 1)
    )
    assert six is not None and len(six.slots) == 6 and six.recurrence.freq == "DAILY"


def test_accept_move_and_skip() -> None:
    plan = propose_plan("m-1", Cadence(7), [BERLIN, BERLIN], [], utc(2027, 1, 4), utc(2027, 2, 1))
    assert plan is not None
    accepted = accept_slot(plan.slots[0], "s-1")
    assert accepted.status is SlotStatus.ACCEPTED and accepted.session_id == "s-1"
    with pytest.raises(FailedPrecondition) as raised:
        skip_slot(accepted)
    assert raised.value.rule == "plan_slot_closed"
    moved = move_slot(plan.slots[1], utc(2027, 1, 13, 13))
    assert moved.moved and moved.status is SlotStatus.PROPOSED
    assert skip_slot(plan.slots[2]).status is SlotStatus.SKIPPED


def _expanded(text: str) -> dict[datetime, datetime]:
    """RECURRENCE-ID (or series instant) -> start, as an independent reader sees the calendar."""
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    master = next(event for event in events if "RRULE" in event)
    start = master.decoded("dtstart")
    rule = rrule.rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    excluded = {value.dt for exdate in _as_list(master.get("EXDATE")) for value in exdate.dts}
    instants = {moment: moment for moment in rule if moment not in excluded}
    for event in events:
        if "RECURRENCE-ID" in event:
            instants[event.decoded("recurrence-id")] = event.decoded("dtstart")
    return {key.astimezone(UTC): value.astimezone(UTC) for key, value in instants.items()}


def _as_list(value: object) -> list[icalendar.prop.vDDDLists]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]  # type: ignore[list-item]


def test_the_export_is_a_series_with_exceptions_and_overrides_that_parses_back() -> None:
    plan = propose_plan("m-1", Cadence(7), [BERLIN, NEW_YORK], [], utc(2027, 3, 1), utc(2027, 4, 30))
    assert plan is not None and plan.complete
    plan = plan.with_slot(skip_slot(plan.slots[1]))
    plan = plan.with_slot(move_slot(plan.slots[3], plan.slots[3].occurrence + timedelta(days=1)))
    plan = plan.with_slot(accept_slot(plan.slots[0], "s-1"))
    text = render_plan(plan, utc(2027, 2, 1))
    parsed = icalendar.Calendar.from_ical(text)
    master = next(e for e in parsed.walk("VEVENT") if "RRULE" in e)
    assert master["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["Europe/Berlin"]
    expected = {
        slot.occurrence: slot.starts_at
        for slot in plan.slots
        if slot.status not in (SlotStatus.SKIPPED, SlotStatus.UNFILLED)
    }
    assert _expanded(text) == expected
    assert plan.slots[1].occurrence not in _expanded(text)
    # The wall-clock time holds across the change of 28 March: the UTC instant moves by an hour.
    berlin = ZoneInfo("Europe/Berlin")
    times = sorted({moment.astimezone(berlin).time() for moment in _expanded(text)})
    assert len(times) == 1


@pytest.mark.parametrize("first_day", [datetime(2027, 3, 29, tzinfo=UTC), datetime(2027, 1, 12, tzinfo=UTC)])
def test_a_monthly_series_is_what_an_independent_reader_expands_its_rrule_to(first_day: datetime) -> None:
    # 29 March 2027 is the fifth (so the last) Monday of March: BYDAY=-1MO; 12 January the second Tuesday.
    plan = propose_plan("m-1", Cadence(30), [BERLIN, BERLIN], [], first_day, first_day + timedelta(days=330))
    assert plan is not None and plan.complete and plan.recurrence.freq == "MONTHLY"
    expected_nth = -1 if first_day.day > 28 else 2
    assert plan.recurrence.by_day == (expected_nth, first_day.weekday())
    assert sorted(_expanded(render_plan(plan, utc(2027, 1, 1)))) == [slot.occurrence for slot in plan.slots]
