"""Quiet hours in the recipient's own timezone: a non-urgent e-mail that falls into them waits for the
morning there; an urgent one (a cancelled session) goes at once; in-app items arrive at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.model import validate_preferences
from services.notification.domain.quiet_hours import QuietHours
from services.notification.domain.templates import Audience, Facts, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import NotifyEnrolled, NotifySessionEvent, UpdatePreferences
from services.notification.service_layer.handlers import Policy
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import InvalidArgument

NIGHT = QuietHours(time(22, 0), time(7, 0))


@pytest.mark.parametrize(
    ("now", "zone", "held_until"),
    [
        # 23:30 in Berlin (winter, UTC+1): held until 07:00 Berlin the next morning.
        (datetime(2031, 1, 14, 22, 30, tzinfo=UTC), "Europe/Berlin", datetime(2031, 1, 15, 6, 0, tzinfo=UTC)),
        # 05:00 in Berlin: held until 07:00 the same morning.
        (datetime(2031, 1, 15, 4, 0, tzinfo=UTC), "Europe/Berlin", datetime(2031, 1, 15, 6, 0, tzinfo=UTC)),
        # 12:00 in Berlin: not quiet.
        (datetime(2031, 1, 15, 11, 0, tzinfo=UTC), "Europe/Berlin", None),
        # The same instant is 17:30 in New York: not quiet there.
        (datetime(2031, 1, 14, 22, 30, tzinfo=UTC), "America/New_York", None),
        # Summer time (UTC+2): 07:00 Berlin is 05:00 UTC.
        (datetime(2031, 7, 14, 21, 30, tzinfo=UTC), "Europe/Berlin", datetime(2031, 7, 15, 5, 0, tzinfo=UTC)),
    ],
)
def test_the_window_is_the_recipient_s_own(now: datetime, zone: str, held_until: datetime | None) -> None:
    assert NIGHT.until(now, zone) == held_until


def test_a_window_within_one_day_and_the_validation() -> None:
    lunch = QuietHours(time(12, 0), time(13, 0))
    assert lunch.until(datetime(2031, 1, 15, 12, 30, tzinfo=UTC), "") == datetime(
        2031, 1, 15, 13, 0, tzinfo=UTC
    )
    assert lunch.until(datetime(2031, 1, 15, 13, 0, tzinfo=UTC), "") is None
    assert (
        validate_preferences("E-1", True, True, "", [], quiet_hours=("22:00", "07:00")).quiet_hours == NIGHT
    )
    with pytest.raises(InvalidArgument):
        validate_preferences("E-1", True, True, "", [], quiet_hours=("22:00", ""))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.remember_match(uow, "acme", "m-1", "prog-1", "E-1", ["E-2"])
    yield db
    await db.dispose()


async def test_a_non_urgent_email_waits_for_the_morning_and_an_urgent_one_goes(database: Database) -> None:
    late = datetime(2031, 1, 14, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    mentee = Principal("sub-E-2", "acme", "E-2", None, frozenset({"employee"}))
    policy = Policy(email_by_default=True)
    async with database.transaction() as uow:
        enrolled = NotifyEnrolled("ev-0", "prog-1", "E-2", Audience.MENTEE, "acme", "Europe/Berlin")
        await handlers.notify_enrolled(uow, enrolled, policy=policy, now=late)
        wanted = UpdatePreferences(mentee, "", True, True, quiet_hours=("22:00", "07:00"))
        await handlers.update_preferences(uow, wanted)
        facts = Facts(starts_at=datetime(2031, 1, 20, 9, 0, tzinfo=UTC))
        scheduled = NotifySessionEvent(
            "ev-1", Template.SESSION_SCHEDULED, "m-1", facts, "acme", session_id="s"
        )
        cancelled = NotifySessionEvent(
            "ev-2", Template.SESSION_CANCELLED, "m-1", facts, "acme", session_id="s"
        )
        planned = [
            *(await handlers.notify_session_event(uow, scheduled, policy=policy, now=late)).notifications,
            *(await handlers.notify_session_event(uow, cancelled, policy=policy, now=late)).notifications,
        ]
    to_mentee = {(item.template, item.channel.value): item for item in planned if item.recipient_id == "E-2"}
    held = to_mentee[Template.SESSION_SCHEDULED, "email"]
    assert held.next_attempt_at == datetime(2031, 1, 15, 6, 0, tzinfo=UTC), "07:00 in Berlin"
    assert to_mentee[Template.SESSION_CANCELLED, "email"].next_attempt_at == late, "urgent: at once"
    assert to_mentee[Template.SESSION_SCHEDULED, "in_app"].state.value == "delivered"
    mentor_email = next(i for i in planned if i.recipient_id == "E-1" and i.channel.value == "email")
    assert mentor_email.next_attempt_at == late, "the mentor has no quiet hours"
