"""iCalendar export: parsed back with the same library, and checked line by line against RFC 5545."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import icalendar

from services.session.domain.calendar import SUMMARY, render_icalendar, session_uid
from services.session.domain.model import Session

STAMP = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
BERLIN_SUMMER = timezone(timedelta(hours=2))


def sessions() -> list[Session]:
    later = Session(
        "s-2", "m-1", datetime(2030, 6, 2, 9, 0, tzinfo=UTC), 30, agenda="Review; next steps, plan"
    )
    first = Session("s-1", "m-1", datetime(2030, 6, 1, 18, 30, tzinfo=BERLIN_SUMMER), 90)
    gone = Session("s-3", "m-1", datetime(2030, 6, 3, 9, 0, tzinfo=UTC), 60).cancel("illness")
    return [later, first, gone]


def test_calendar_structure_and_utc_times() -> None:
    text = render_icalendar(sessions(), STAMP)
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    lines = text.split("\r\n")
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 3
    # 18:30 at UTC+2 is 16:30 UTC; DTEND is 90 minutes later; both in UTC form (trailing Z).
    assert "DTSTART:20300601T163000Z" in lines
    assert "DTEND:20300601T180000Z" in lines
    assert "DTSTAMP:20300101T080000Z" in lines


def test_events_parse_back_in_start_order_with_stable_uids() -> None:
    parsed = icalendar.Calendar.from_ical(render_icalendar(sessions(), STAMP))
    events = list(parsed.walk("VEVENT"))
    assert [str(event["UID"]) for event in events] == [
        session_uid("s-1"),
        session_uid("s-2"),
        session_uid("s-3"),
    ]
    first = events[0]
    assert first.decoded("DTSTART") == datetime(2030, 6, 1, 16, 30, tzinfo=UTC)
    assert first.decoded("DTEND") - first.decoded("DTSTART") == timedelta(minutes=90)
    assert str(events[1]["DESCRIPTION"]) == "Review; next steps, plan"
    assert [str(event["STATUS"]) for event in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert [int(event["SEQUENCE"]) for event in events] == [0, 0, 1]


def test_summary_names_no_one_and_text_is_escaped() -> None:
    text = render_icalendar(sessions(), STAMP)
    summaries = [line for line in text.split("\r\n") if line.startswith("SUMMARY")]
    assert summaries[0] == f"SUMMARY:{SUMMARY}"
    assert all("E-" not in line and "m-1" not in line for line in summaries)
    # RFC 5545 3.3.11: ';' and ',' in TEXT values are escaped.
    assert "DESCRIPTION:Review\\; next steps\\, plan" in text.split("\r\n")


def test_lines_are_folded_at_75_octets() -> None:
    long_agenda = Session("s-9", "m-1", datetime(2030, 6, 1, 9, 0, tzinfo=UTC), 30, agenda="ä" * 200)
    text = render_icalendar([long_agenda], STAMP)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    parsed = next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))
    assert str(parsed["DESCRIPTION"]) == "ä" * 200


def test_an_empty_calendar_is_still_valid() -> None:
    text = render_icalendar([], STAMP)
    assert "BEGIN:VEVENT" not in text
    assert icalendar.Calendar.from_ical(text).get("VERSION") == "2.0"
