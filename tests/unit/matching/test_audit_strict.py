"""The audit file's reader refuses what it does not understand, compares strings one documented way and
names the position of every error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.matching.domain.audit import load_program, run_audit
from services.shared.errors import InvalidArgument

EXAMPLE = Path(__file__).parents[3] / "services/matching/examples/audit_example.json"


def _person(participant_id: str, role: str, grade: int, **extra: Any) -> dict[str, Any]:
    return {
        "participant_id": participant_id,
        "employee_id": f"E-{participant_id}",
        "role": role,
        "grade": grade,
        "languages": ["english"],
        **extra,
    }


def _document(**program: Any) -> dict[str, Any]:
    return {
        "format_version": 1,
        "program": {"program_id": "strict", "reference_date": "2025-03-03", **program},
        "participants": [_person("mentor", "mentor", 8), _person("mentee", "mentee", 4)],
    }


def _refused(document: dict[str, Any]) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        load_program(document)
    return caught.value


def test_a_misspelt_management_chain_is_refused_with_a_hint():
    document = _document()
    document["participants"][1]["managment_chain"] = ["E-mentor"]
    error = _refused(document)
    assert error.field == "participants[1].managment_chain"
    assert "did you mean 'management_chain'" in error.description


@pytest.mark.parametrize(
    ("where", "key", "field", "hint"),
    [
        ("document", "proposed_match", "proposed_match", "proposed_matches"),
        ("program", "delivry", "program.delivry", "delivery"),
        ("weights", "skill", "program.weights.skill", "skills"),
        ("proposed", "mentor", "proposed_matches[0].mentor", "mentor_id"),
    ],
)
def test_unknown_keys_everywhere_are_refused(where, key, field, hint):
    document = _document(weights={"skills": 30})
    document["proposed_matches"] = [{"mentor_id": "mentor", "mentee_id": "mentee"}]
    target = {
        "document": document,
        "program": document["program"],
        "weights": document["program"]["weights"],
        "proposed": document["proposed_matches"][0],
    }[where]
    target[key] = 1
    with pytest.raises(InvalidArgument) as caught:
        run_audit(document)
    assert caught.value.field == field
    assert f"did you mean '{hint}'" in caught.value.description


def test_locations_compare_like_skills_and_languages():
    document = _document(delivery="in_person")
    document["participants"][0] |= {"location": "Berlin", "languages": ["English"]}
    document["participants"][1] |= {"location": " berlin ", "languages": ["english"]}
    report = run_audit(document)
    assert [(m["mentor_id"], m["mentee_id"]) for m in report["matches"]] == [("mentor", "mentee")]


def test_an_unknown_timezone_names_the_participant():
    document = _document()
    document["participants"][1]["timezone"] = "Europe/Berlln"
    error = _refused(document)
    assert error.field == "participants[1].timezone"
    assert "Europe/Berlln" in error.description


def test_overlap_in_hours_is_reported_in_hours():
    error = _refused(_document(min_overlap_hours=30))
    assert error.field == "program.min_overlap_hours"
    assert "0..24" in error.description


def test_overlap_given_twice_is_refused():
    error = _refused(_document(min_overlap_hours=2, min_overlap_minutes=120))
    assert error.field == "program.min_overlap_hours"


def test_the_example_file_is_still_valid():
    report = run_audit(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    assert report["matches"]
