"""HRIS events applied a micro-batch at a time on a real SQLite file: the batch reads and writes the
directory once, yet each event sees the ones before it; a rejected event contributes nothing; the
in-memory directory (reporting tree, employee records) survives batches and is dropped on rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.enrollment.adapters import store
from services.enrollment.adapters.serialization import versions_from_json, versions_to_json
from services.enrollment.domain import (
    ApplyOutcome,
    HrisApplyResult,
    HrisEvent,
    ReportingCycle,
    Version,
    hris_event_from_scim,
)
from services.enrollment.service_layer.hris import DirectoryCache, HrisIngestion
from services.shared.db import Database

TENANT = "acme"
START = datetime(2030, 1, 1, tzinfo=UTC)


class Events:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, kind: str, who: str, **data: Any) -> tuple[HrisEvent, str]:
        self.count += 1
        record = {
            "employeeNumber": who,
            "type": kind,
            "effectiveTime": (START + timedelta(minutes=self.count)).isoformat(),
            **data,
        }
        event_id = f"e{self.count}"
        return hris_event_from_scim(record, event_id=event_id, tenant=TENANT), event_id


async def run(
    database: Database, ingestion: HrisIngestion, events: list[tuple[HrisEvent, str]]
) -> list[HrisApplyResult | Exception]:
    async with database.transaction() as session:
        return list(await ingestion.apply_batch(session, events, now=START))


async def stored_managers(database: Database) -> dict[str, str | None]:
    async with database.transaction() as session:
        return await store.reporting_lines(session, TENANT)


async def test_one_batch_sees_its_own_changes_and_rejects_a_cycle_alone(database: Database) -> None:
    event = Events()
    ingestion = HrisIngestion()
    results = await run(
        database,
        ingestion,
        [
            event("HIRED", "dev", manager="lead", grade=3),  # a report hired before the manager
            event("HIRED", "lead", manager="boss", grade=7),
            event("HIRED", "boss", grade=9),
            event("TRANSFERRED", "boss", manager="dev"),  # boss -> dev -> lead -> boss: refused
            event("UPDATED", "dev", grade=4),  # the same employee twice in one batch
        ],
    )
    assert [type(result).__name__ for result in results] == [
        "HrisApplyResult",
        "HrisApplyResult",
        "HrisApplyResult",
        "ReportingCycle",
        "HrisApplyResult",
    ]
    assert isinstance(results[3], ReportingCycle) and results[3].cycle == ("boss", "dev", "lead", "boss")
    assert await stored_managers(database) == {"dev": "lead", "lead": "boss", "boss": None}
    async with database.transaction() as session:
        dev = await store.get_employee(session, TENANT, "dev")
    assert dev is not None and dev.grade == 4


async def test_the_directory_kept_between_batches_matches_the_table(database: Database) -> None:
    event = Events()
    cache = DirectoryCache()
    ingestion = HrisIngestion(cache)
    await run(database, ingestion, [event("HIRED", "a"), event("HIRED", "b", manager="a")])
    await run(database, ingestion, [event("TRANSFERRED", "a", manager="c"), event("HIRED", "c")])
    async with database.transaction() as session:
        tree = await cache.tree(session, TENANT)
    assert tree.managers == await stored_managers(database) == {"a": "c", "b": "a", "c": None}
    assert tree.chain("b") == ("a", "c")
    (update,) = await run(database, ingestion, [event("UPDATED", "b", grade=5)])
    assert isinstance(update, HrisApplyResult) and update.outcome is ApplyOutcome.APPLIED


async def test_a_rolled_back_batch_leaves_no_trace_in_the_kept_directory(database: Database) -> None:
    event = Events()
    cache = DirectoryCache()
    ingestion = HrisIngestion(cache)
    await run(database, ingestion, [event("HIRED", "a"), event("HIRED", "b", manager="a")])
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await ingestion.apply_batch(session, [event("TRANSFERRED", "b", manager="x")], now=START)
            raise RuntimeError("the batch's commit failed")
    async with database.transaction() as session:
        tree = await cache.tree(session, TENANT)
        assert tree.managers == {"a": None, "b": "a"}, "the change that rolled back is not remembered"
        assert cache.employee((TENANT, "b")) is None, "records are read again after a rollback"
    (again,) = await run(database, ingestion, [event("TRANSFERRED", "b", manager="x")])
    assert isinstance(again, HrisApplyResult) and again.outcome is ApplyOutcome.APPLIED


def test_field_versions_round_trip_grouped_and_the_first_format_still_reads() -> None:
    first = Version(START, 1)
    second = Version(START + timedelta(hours=1), 0)
    versions = {"grade": first, "title": first, "manager_id": second}
    document = versions_to_json(versions)
    assert len(document["by_version"]) == 2
    assert versions_from_json(document) == versions
    legacy = {"grade": [START.isoformat(), 1], "manager_id": [second.effective_time.isoformat(), 0]}
    assert versions_from_json(legacy) == {"grade": first, "manager_id": second}
