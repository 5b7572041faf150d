"""Matching refuses free text over its limit instead of cutting it (issue 11, point 6): a decline or end
reason over 500 characters, an introduction note or a nomination message over 2000, on a real SQLite
file; nothing is stored. White space is still collapsed, and a text at the limit is kept whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.lifecycle import MAX_REASON_LENGTH, Status, clean_reason
from services.matching.service_layer import answers, requests
from services.matching.service_layer.commands import DeclineMatch, IntroduceColleague, RequestNominatedMentor
from services.matching.service_layer.requests import MAX_NOTE_LENGTH
from services.shared.db import Database
from services.shared.errors import InvalidArgument
from tests.unit.matching.principals import person
from tests.unit.matching.test_service_handlers import (
    MENTEE,
    MENTOR,
    POLICY,
    all_matches,
    enrolled,
    now,
    one_proposal,
    program,
    setup,
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'matching.db'}")
    await database.migrate(MIGRATIONS)
    yield database
    await database.dispose()


def test_a_reason_is_collapsed_kept_whole_at_the_limit_and_refused_past_it() -> None:
    assert clean_reason("  too \n busy ") == "too busy"
    assert clean_reason("r" * MAX_REASON_LENGTH) == "r" * MAX_REASON_LENGTH
    with pytest.raises(InvalidArgument) as refused:
        clean_reason("r" * (MAX_REASON_LENGTH + 1))
    assert refused.value.field == "reason"
    assert f"at most {MAX_REASON_LENGTH} characters" in refused.value.message


async def test_a_one_megabyte_decline_reason_is_refused_and_the_proposal_stands(db: Database) -> None:
    record = await one_proposal(db)
    with pytest.raises(InvalidArgument) as refused:
        async with db.transaction() as session:
            await answers.decline_match(
                session,
                DeclineMatch(
                    record.match_id,
                    record.mentor_employee_id,
                    "x" * 1024 * 1024,
                    now(),
                    caller=person(record.mentor_employee_id),
                ),
                policy=POLICY,
            )
    assert refused.value.field == "reason"
    (still,) = [r for r in await all_matches(db) if r.match_id == record.match_id]
    assert still.status is Status.PROPOSED


async def test_an_over_long_introduction_note_or_nomination_message_is_refused(db: Database) -> None:
    await setup(
        db,
        program("other"),
        enrolled("M9", MENTOR, 9, program_id="other", department="sales"),
        enrolled("C7", MENTEE, 4, program_id="other"),  # the introducer: E1's team, M9's program
    )
    await setup(db, program(), enrolled("E1", MENTEE, 4, nominations=("M9",)))
    with pytest.raises(InvalidArgument) as note:
        async with db.transaction() as session:
            await requests.introduce(
                session,
                IntroduceColleague("C7", "E1", "M9", "p1", "n" * (MAX_NOTE_LENGTH + 1), caller=person("C7")),
            )
    assert note.value.field == "note"
    with pytest.raises(InvalidArgument) as message:
        async with db.transaction() as session:
            await requests.request_nominated_mentor(
                session,
                RequestNominatedMentor(
                    "p1", "p1:E1", "M9", message="m" * (MAX_NOTE_LENGTH + 1), caller=person("E1")
                ),
                policy=POLICY,
            )
    assert message.value.field == "message"
    async with db.transaction() as session:
        kept = await requests.introduce(
            session, IntroduceColleague("C7", "E1", "M9", "p1", "n" * MAX_NOTE_LENGTH, caller=person("C7"))
        )
    assert kept.introducer_employee_id == "C7"
