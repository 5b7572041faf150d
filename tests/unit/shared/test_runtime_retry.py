"""A batch that fails as a whole (database or broker down) is retried until it goes through, never
skipped: Faust would acknowledge it once the agent moves on."""

from __future__ import annotations

from typing import Any

import pytest

from services.shared import consumer
from services.shared.dlq import RawRecord


class FlakyPipeline:
    """Fails a given number of times, then processes; records every attempt."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[list[RawRecord]] = []

    async def process_batch(self, records: list[RawRecord]) -> list[Any]:
        self.attempts.append(records)
        if len(self.attempts) <= self.failures:
            raise ConnectionError("broker unreachable")
        return []


async def test_a_failing_batch_is_retried_until_processed(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(consumer.asyncio, "sleep", no_wait)
    record = RawRecord("t", 0, 7, b"k", b"v", ())
    pipeline = FlakyPipeline(failures=3)
    await consumer.until_processed(pipeline, [record])  # type: ignore[arg-type]
    assert pipeline.attempts == [[record]] * 4, "the same batch, again and again, until it went through"
    assert sleeps == [0.5, 1.0, 2.0], "with a growing back-off"
