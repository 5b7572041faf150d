"""The session service's wiring on a real SQLite file: every command has its handler, events become
commands, published events carry their cause and the registry's type and source, and counters move only
once a unit of work commits."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mentoring.v1 import common_pb2, events_pb2
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.session.bootstrap import MIGRATIONS
from services.session.domain.outcomes import EndCause
from services.session.entrypoints.consumers import translators
from services.session.service_layer import commands
from services.session.service_layer.handlers import handler_map
from services.shared.db import Database
from services.shared.envelope import published_event
from services.shared.messagebus import Command, MessageBus, Query
from services.shared.outbox import outbox_table
from services.shared.topics import MATCHING_EVENTS, ce_type_of, check_consumer, source_of
from tests.unit.session.callers import person

START = datetime.now(UTC) + timedelta(days=7)
MENTOR = person("E-1")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'session.db'}")
    await db.migrate(MIGRATIONS)
    yield db
    await db.dispose()


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def command_classes() -> list[type[Command[object]]]:
    return [
        value
        for value in vars(commands).values()
        if inspect.isclass(value) and issubclass(value, Command) and value.__module__ == commands.__name__
    ]


def match(match_id: str = "m-1") -> common_pb2.Match:
    return common_pb2.Match(
        match_id=match_id, program_id="prog-1", mentor_employee_id="E-1", mentee_employee_ids=["E-2"]
    )


async def staged(db: Database) -> list[tuple[str, str, events_pb2.SessionCancelled | None]]:
    async with db.read_transaction() as uow:
        rows = (
            await uow.execute(
                select(outbox_table.c.ce_type, outbox_table.c.ce_source, outbox_table.c.payload).order_by(
                    outbox_table.c.id
                )
            )
        ).all()
    cancelled_type = ce_type_of(events_pb2.SessionCancelled)
    return [
        (row.ce_type, row.ce_source, events_pb2.SessionCancelled.FromString(row.payload))
        if row.ce_type == cancelled_type
        else (row.ce_type, row.ce_source, None)
        for row in rows
    ]


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_command_has_its_handler_and_reads_are_queries() -> None:
    classes = command_classes()
    assert set(handler_map()) == set(classes)
    reads = {cls for cls in classes if cls.__name__.startswith(("List", "Export", "Get"))}
    assert reads == {
        commands.ListSessions,
        commands.ListGoals,
        commands.ExportCalendar,
        commands.GetPlan,
        commands.ExportPlan,
        commands.ListRelationshipsAtRisk,
        commands.GetProgramOutcomes,
        commands.ListFeedbackReceived,
    }
    assert all(issubclass(cls, Query) == (cls in reads) for cls in classes)


def test_the_consumed_events_are_those_the_registry_lists() -> None:
    for topic, of_topic in translators().items():
        check_consumer("session", topic, [ce_type_of(message) for message in of_topic])
    assert set(translators()[MATCHING_EVENTS]) == {events_pb2.MatchActivated, events_pb2.MatchEnded}


def test_matching_events_become_commands() -> None:
    of_topic = translators()[MATCHING_EVENTS]
    activated = published_event("matching", events_pb2.MatchActivated(match=match()), tenant="acme")
    assert of_topic[events_pb2.MatchActivated](activated) == commands.ActivateRelationship(
        "m-1", "prog-1", "E-1", ("E-2",), tenant="acme"
    )
    ended_match = match()
    ended_match.end_reason = "from_the_match"
    ended = events_pb2.MatchEnded(match=ended_match, reason="moved_on")
    assert of_topic[events_pb2.MatchEnded](
        published_event("matching", ended, tenant="acme")
    ) == commands.EndRelationship("m-1", "prog-1", "E-1", ("E-2",), reason="moved_on", tenant="acme")
    ended.reason = ""
    translated = of_topic[events_pb2.MatchEnded](published_event("matching", ended))
    assert isinstance(translated, commands.EndRelationship)
    assert translated.reason == "from_the_match", "the match's end reason when the event gives none"
    ended.cause = common_pb2.END_CAUSE_AT_WILL
    translated = of_topic[events_pb2.MatchEnded](published_event("matching", ended))
    assert isinstance(translated, commands.EndRelationship) and translated.cause is EndCause.AT_WILL


async def test_cancellations_carry_their_cause_and_the_registry_type_and_source(database: Database) -> None:
    wakes = Wakes()
    bus = MessageBus(database, handler_map(), wakes)
    of_topic = bus.event_handlers(translators()[MATCHING_EVENTS])
    async with database.transaction() as uow:
        await of_topic[events_pb2.MatchActivated](
            uow, published_event("matching", events_pb2.MatchActivated(match=match()), tenant="acme")
        )
    planned = [
        await bus.execute(commands.ScheduleSession("m-1", START + timedelta(days=day), 60, caller=MENTOR))
        for day in (0, 1)
    ]
    await bus.execute(commands.CancelSession(planned[0].session_id, reason="travel", caller=MENTOR))
    assert wakes.count == 3, "the relay is woken after each write"
    async with database.transaction() as uow:
        await of_topic[events_pb2.MatchEnded](
            uow,
            published_event("matching", events_pb2.MatchEnded(match=match(), reason="done"), tenant="acme"),
        )
    rows = await staged(database)
    assert {source for _, source, _ in rows} == {source_of("session")}
    assert [ce_type for ce_type, _, _ in rows] == [
        ce_type_of(events_pb2.SessionScheduled),
        ce_type_of(events_pb2.SessionScheduled),
        ce_type_of(events_pb2.SessionCancelled),
        ce_type_of(events_pb2.SessionCancelled),
    ]
    causes = [(message.reason, message.cause) for _, _, message in rows if message is not None]
    assert causes == [
        ("travel", common_pb2.CANCELLATION_CAUSE_REQUESTED),
        ("match_ended", common_pb2.CANCELLATION_CAUSE_MATCH_ENDED),
    ]


async def test_counters_move_only_when_the_unit_of_work_commits(database: Database) -> None:
    bus = MessageBus(database, handler_map())
    await bus.execute(commands.ActivateRelationship("m-1", "prog-1", "E-1", ("E-2",), tenant="acme"))
    scheduled = counted("mentoring_session_scheduled_total")
    activated = counted("mentoring_session_relationships_total", change="activated")

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with database.transaction() as uow:
            await bus.apply(uow, commands.ScheduleSession("m-1", START, 60, caller=MENTOR))
            await bus.apply(uow, commands.ActivateRelationship("m-2", "prog-1", "E-3", ("E-4",)))
            raise Abandoned
    assert counted("mentoring_session_scheduled_total") == scheduled
    assert counted("mentoring_session_relationships_total", change="activated") == activated

    await bus.execute(commands.ScheduleSession("m-1", START, 60, caller=MENTOR))
    assert counted("mentoring_session_scheduled_total") == scheduled + 1
