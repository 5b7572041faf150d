"""Quiet hours: a window of the recipient's day (in their own timezone) in which nothing but urgent
items is pushed to them (e-mail, chat, webhooks); what falls into it waits until the window ends.
In-app items are not pushed, so they arrive at once. A window may span midnight (22:00-07:00)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notification.domain.templates import Template
from services.shared.errors import InvalidArgument

# What cannot wait until morning: a session that moved or was cancelled, a reminder just before one.
URGENT: Final = frozenset({Template.SESSION_MOVED, Template.SESSION_CANCELLED, Template.SESSION_REMINDER})


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time

    def until(self, now: datetime, zone_name: str) -> datetime | None:
        """When the window that ``now`` falls in ends (UTC), or None outside it."""
        zone = _zone(zone_name)
        local = now.astimezone(zone)
        start = datetime.combine(local.date(), self.start, zone)
        end = datetime.combine(local.date(), self.end, zone)
        if self.start == self.end:
            return None
        if self.start < self.end:  # within one day: 12:00-14:00
            inside = start <= local < end
            ends = end
        elif local >= start:  # spans midnight, and it is evening: ends tomorrow morning
            inside, ends = True, datetime.combine(local.date() + timedelta(days=1), self.end, zone)
        else:  # spans midnight, and it is morning
            inside, ends = local < end, end
        return ends.astimezone(UTC) if inside else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_quiet_hours(start: str, end: str) -> QuietHours | None:
    """``HH:MM`` both, or both empty (no quiet hours)."""
    if not start.strip() and not end.strip():
        return None
    try:
        return QuietHours(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
    except ValueError:
        raise InvalidArgument("quiet_hours", "start and end must both be HH:MM, or both empty") from None


def quiet_hours_text(quiet: QuietHours | None) -> tuple[str, str]:
    """(start, end) as ``HH:MM``, or two empty strings."""
    if quiet is None:
        return "", ""
    return quiet.start.strftime("%H:%M"), quiet.end.strftime("%H:%M")
