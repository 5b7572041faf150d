"""What makes a text readable to its reader, as stored and applied: the e-mail's context survives the
database whole; an in-app item shows times in the timezone its reader enrolled with, in the language
they chose; a language without texts is refused as a preference."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.notification.adapters.context_json import context_json, context_of
from services.notification.bootstrap import MIGRATIONS
from services.notification.domain.calendar import SessionCalendar
from services.notification.domain.model import Context, Recipient, validate_preferences
from services.notification.domain.templates import Audience, Facts, ProgramFormat, Template
from services.notification.service_layer import handlers
from services.notification.service_layer.commands import (
    ListInbox,
    NotifyEnrolled,
    NotifySessionEvent,
    RememberProgram,
    UpdatePreferences,
)
from services.notification.service_layer.handlers import Policy
from services.shared.auth import Principal
from services.shared.db import Database
from services.shared.errors import InvalidArgument

STARTS = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
IN_APP = Policy(email_by_default=False)


def person(employee_id: str) -> Principal:
    return Principal(f"sub-{employee_id}", "acme", employee_id, None, frozenset({"employee"}))


def test_an_email_context_survives_the_database_whole() -> None:
    context = Context(
        audience=Audience.MENTEE,
        facts=Facts(
            program_name="P",
            role=Audience.MENTEE,
            by=Audience.MENTOR,
            starts_at=STARTS,
            duration_minutes=30,
            respond_by=STARTS,
            rematch_offered=True,
            cancellation_code="match_ended",
            program_format=ProgramFormat.PEER,
            program_id="prog-1",
            match_id="m-1",
            session_id="s-1",
        ),
        participants=(Recipient("E-1", Audience.MENTOR), Recipient("E-2", Audience.MENTEE)),
        session=SessionCalendar("s-1", STARTS, 30, 2, True, "Room 1", "https://meet.example/x"),
        language="de",
        zone="Europe/Berlin",
    )
    assert context_of(context_json(context)) == context
    assert context_of(context_json(Context(Audience.MENTOR, Facts()))) == Context(Audience.MENTOR, Facts())


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}")
    await db.migrate(MIGRATIONS)
    async with db.transaction() as uow:
        await handlers.remember_program(uow, RememberProgram("prog-1", "Peers", ProgramFormat.PEER))
        await handlers.remember_match(uow, "acme", "m-1", "prog-1", "E-1", ["E-2"])
    yield db
    await db.dispose()


async def test_in_app_times_are_in_the_enrolment_s_zone_and_the_chosen_language(database: Database) -> None:
    async with database.transaction() as uow:
        enrolled = NotifyEnrolled("ev-e", "prog-1", "E-2", Audience.MENTEE, "acme", "Europe/Berlin")
        await handlers.notify_enrolled(uow, enrolled, policy=IN_APP)
        await handlers.update_preferences(
            uow, UpdatePreferences(person("E-2"), "", False, True, language="de")
        )
        facts = Facts(starts_at=STARTS, duration_minutes=60)
        event = NotifySessionEvent("ev-s", Template.SESSION_SCHEDULED, "m-1", facts, "acme", session_id="s-1")
        await handlers.notify_session_event(uow, event, policy=IN_APP)
        berlin = await handlers.list_inbox(uow, ListInbox(person("E-2")))
        unknown = await handlers.list_inbox(uow, ListInbox(person("E-1")))
    assert berlin.items[0].title == "Mentoring-Sitzung am Montag, 3. März 2031, 16:00 Uhr CET"
    assert "Ihrem Peer" in berlin.items[0].body, "a peer programme names a peer, and nobody by name in-app"
    assert berlin.items[1].body.startswith("Your enrolment as a peer in Peers"), "enrolled before choosing"
    assert unknown.items[0].title == "Mentoring session on Monday 3 March 2031, 15:00 UTC"


def test_a_language_without_texts_is_refused_as_a_preference() -> None:
    assert validate_preferences("E-1", True, True, "", [], " DE ").language == "de"
    with pytest.raises(InvalidArgument) as raised:
        validate_preferences("E-1", True, True, "", [], "fr")
    assert raised.value.field == "language"
