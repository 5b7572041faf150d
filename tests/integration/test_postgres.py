"""The platform on a real PostgreSQL server, chosen by DSN alone: every service's migrations, and the
outbox / inbox / dead-letter rules with the services as real processes on the real broker."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData

from services.shared.audit_store import audit_log_table
from services.shared.db import SHARED_MIGRATIONS, Database
from services.shared.envelope import new_event
from services.shared.inbox import inbox_table
from services.shared.outbox import outbox_table, stage_events
from tests.support.kafka import read_topic
from tests.support.postgres import PostgresServer, fetch
from tests.support.processes import ServiceProcess
from tests.support.scenarios import (
    PROGRAM_CREATED,
    assert_dead_lettered,
    bad_records_and_a_redelivery,
    eventually,
    program_created,
)
from tests.unit.shared import test_retention as retention_cases

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["enrollment", "matching", "session", "notification"]


def migrations_of(service: str) -> Path:
    return REPO_ROOT / "services" / service / "adapters" / "migrations"


def head_revisions(service: str) -> set[str]:
    """The heads of the shared chain plus the service's, as the migration runner combines them."""
    config = Config()
    config.set_main_option("script_location", str(SHARED_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", f"{SHARED_MIGRATIONS / 'versions'}:{migrations_of(service)}")
    return set(ScriptDirectory.from_config(config).get_heads())


def store_metadata(service: str) -> MetaData:
    """The service's own tables: declared in ``adapters/tables.py`` (a store split into one module per
    concern) or in ``adapters/store.py``, on one MetaData that every adapter module adds to (each is
    imported, so a table declared beside its store is counted too)."""
    adapters = importlib.import_module(f"services.{service}.adapters")
    for found in pkgutil.iter_modules(adapters.__path__):
        if not found.ispkg:
            importlib.import_module(f"{adapters.__name__}.{found.name}")
    for module in ("tables", "store"):
        name = f"services.{service}.adapters.{module}"
        try:
            metadata: MetaData = importlib.import_module(name).metadata
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        return metadata
    raise LookupError(f"{service} declares no tables")


def declared_tables(service: str) -> MetaData:
    """The tables the service's code reads and writes: the messaging ones, the audit trail's, its store's."""
    declared = MetaData()
    for table in [outbox_table, inbox_table, audit_log_table, *store_metadata(service).tables.values()]:
        table.to_metadata(declared)
    return declared


async def schema_of(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Everything a migration could change: columns with their types, indexes, constraints, versions."""
    return {
        "columns": [
            tuple(row)
            for row in await fetch(
                url,
                "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length "
                "FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY table_name, column_name",
            )
        ],
        "indexes": [
            tuple(row)
            for row in await fetch(
                url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
            )
        ],
        "constraints": [
            tuple(row)
            for row in await fetch(
                url,
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace ORDER BY 1",
            )
        ],
        "versions": [tuple(row) for row in await fetch(url, "SELECT version_num FROM alembic_version")],
    }


async def count(url: str, query: str) -> int:
    return int((await fetch(url, query))[0][0])


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_migrates_a_fresh_postgres_database_and_a_rerun_changes_nothing(
    postgres_server: PostgresServer, service: str
) -> None:
    url = await postgres_server.create_database(service)
    database = Database(url)
    try:
        await database.migrate(migrations_of(service))
        migrated = await schema_of(url)
        assert {row[0] for row in migrated["versions"]} == head_revisions(service)

        # The schema holds every table, column, type and nullability the service's code declares;
        # it may hold more (indexes and constraints only the migrations spell out).
        def differences(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, declared_tables(service)))

        async with database.engine.connect() as connection:
            found = await connection.run_sync(differences)
        flat = [item for diff in found for item in (diff if isinstance(diff, list) else [diff])]
        assert [item for item in flat if item[0] not in {"remove_index", "remove_constraint"}] == []

        await fetch(
            url,
            "INSERT INTO inbox (event_id, topic, ce_type, applied_at) VALUES ('kept', 't', 'c', now())",
        )
        await database.migrate(migrations_of(service))
        assert await schema_of(url) == migrated
        assert await count(url, "SELECT count(*) FROM inbox WHERE event_id = 'kept'") == 1
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    "scenario",
    [
        retention_cases.scenario_prune_keeps_what_is_young_or_unpublished,
        retention_cases.scenario_forgetting_subjects_deletes_the_published_rows_and_flags_the_others,
    ],
)
async def test_messaging_retention_on_postgres(
    postgres_server: PostgresServer, scenario: Callable[[Database], Awaitable[None]], tmp_path: Path
) -> None:
    database = Database(await postgres_server.create_database("retention"))
    try:
        await database.migrate(tmp_path / "no-service-migrations")
        await scenario(database)
    finally:
        await database.dispose()


async def test_on_postgres_bad_records_are_dead_lettered_duplicates_skipped_and_the_consumer_goes_on(
    kafka_bootstrap: str, namespace: str, data_dir: Path, postgres_server: PostgresServer
) -> None:
    url = await postgres_server.create_database("matching")
    topic = namespace + "enrollment.events.v1"

    async def programs_stored() -> int:
        return await count(url, "SELECT count(*) FROM programs")

    on_postgres = {"MENTORING_MATCHING_DATABASE_URL": url}
    with ServiceProcess("matching", data_dir, namespace, kafka_bootstrap, on_postgres) as matching:
        run = await bad_records_and_a_redelivery(matching, kafka_bootstrap, topic, programs_stored)
        assert matching.stop() == 0, matching.log_tail()

    assert not (data_dir / "matching.db").exists(), "the DSN, not the SQLite default, was used"
    programs = await fetch(url, "SELECT program_id, tenant FROM programs ORDER BY program_id")
    assert [tuple(row) for row in programs] == [("prog-00001", "acme"), ("prog-00002", "acme")]
    inbox = await fetch(url, "SELECT event_id, topic, ce_type FROM inbox ORDER BY event_id")
    assert sorted(run.applied_ids) == [row["event_id"] for row in inbox], "each applied exactly once"
    assert {(row["topic"], row["ce_type"]) for row in inbox} == {(topic, PROGRAM_CREATED)}
    assert_dead_lettered(run, topic)


async def test_on_postgres_the_outbox_relay_publishes_every_staged_event_in_order_and_marks_it(
    kafka_bootstrap: str, namespace: str, data_dir: Path, postgres_server: PostgresServer
) -> None:
    total = 1_000
    url = await postgres_server.create_database("enrollment")
    database = Database(url)
    try:
        await database.migrate(migrations_of("enrollment"))
        events = [
            new_event(PROGRAM_CREATED, "enrollment", program_created(i), tenant="acme") for i in range(total)
        ]
        async with database.transaction() as session:
            await stage_events(session, [(event, event.data.program.program_id) for event in events])  # type: ignore[union-attr]
    finally:
        await database.dispose()
    assert await count(url, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == total

    settings = {"MENTORING_ENROLLMENT_DATABASE_URL": url, "MENTORING_ENROLLMENT_OUTBOX_BATCH_SIZE": "100"}
    with ServiceProcess("enrollment", data_dir, namespace, kafka_bootstrap, settings) as enrollment:

        async def all_published() -> bool:
            return await count(url, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") == total

        await eventually(all_published)
        records = await read_topic(kafka_bootstrap, namespace + "enrollment.events.v1", expected=total)
        assert enrollment.stop() == 0, enrollment.log_tail()

    assert not (data_dir / "enrollment.db").exists(), "the DSN, not the SQLite default, was used"
    event_ids = [dict(record.headers)["ce_id"].decode() for record in records]
    assert sorted(event_ids) == sorted(event.id for event in events), "every row reached the topic once"
    marks = await fetch(url, "SELECT min(published_at) >= max(created_at) FROM outbox")
    assert marks[0][0] is True, "a row is marked only after it was written"
    # Per partition, the topic keeps the outbox's order.
    position = {event.id: index for index, event in enumerate(events)}
    by_partition: dict[int, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_partition.setdefault(record.partition, []).append(position[dict(record.headers)["ce_id"].decode()])
    assert len(by_partition) > 1
    for order in by_partition.values():
        assert order == sorted(order)
