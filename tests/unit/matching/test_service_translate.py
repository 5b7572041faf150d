"""Translations between the wire (mentoring.v1) and the matching engine (wire -> domain -> the engine's
inputs), and the audit command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mentoring.v1 import common_pb2
from typer.testing import CliRunner

from services.matching.adapters.translate import match_to_wire, participant_from_wire, program_from_wire
from services.matching.domain import (
    Delivery,
    Objective,
    Participant,
    ProgramFormat,
    ProgramSettings,
    Role,
    engine_input,
)
from services.matching.domain.engine_input import Workload
from services.matching.domain.lifecycle import MatchRecord, Member, Status
from services.matching.entrypoints.audit import app
from services.shared.errors import InvalidArgument

EXAMPLE = Path(__file__).resolve().parents[3] / "services/matching/examples/audit_example.json"


def program_settings(wire: common_pb2.Program) -> ProgramSettings:
    return engine_input.program_settings(program_from_wire(wire))


def engine_participant(
    wire: common_pb2.Participant, wire_program: common_pb2.Program, **options: Any
) -> Participant:
    return engine_input.engine_participant(
        participant_from_wire(wire), program_from_wire(wire_program), **options
    )


def ineligibility(wire_program: common_pb2.Program, wire: common_pb2.Participant) -> str | None:
    return engine_input.ineligibility(program_from_wire(wire_program), participant_from_wire(wire))


def program(**fields: object) -> common_pb2.Program:
    return common_pb2.Program(program_id="p1", tenant="acme", **fields)  # type: ignore[arg-type]


def mentor(**fields: object) -> common_pb2.Participant:
    base = common_pb2.Participant(
        enrollment_id="enr-m",
        program_id="p1",
        employee_id="M",
        role=common_pb2.ROLE_MENTOR,
        grade=8,
        department="eng",
        timezone="America/New_York",
        management_chain_ids=["B1", "B2"],
        profile=common_pb2.Profile(
            languages=["English"],
            skills_offered=["Machine  Learning"],
            availability=common_pb2.Availability(work_start_hour=7, work_end_hour=15),
        ),
    )
    for name, value in fields.items():
        setattr(base, name, value)
    return base


def test_program_settings_map_every_knob_and_zero_means_default() -> None:
    settings = program_settings(
        program(
            format=common_pb2.PROGRAM_FORMAT_GROUP,
            delivery=common_pb2.DELIVERY_HYBRID,
            objective=common_pb2.MATCHING_OBJECTIVE_BEST_SCORE,
            weights=common_pb2.ScoringWeights(skills=2, goals=1, repeat_pairing_penalty=3),
            min_overlap_hours=3.5,
            group_size=common_pb2.GroupSize(min=3, max=5),
            matching_mode=common_pb2.MATCHING_MODE_MENTEE_CHOICE,
        )
    )
    assert settings.format is ProgramFormat.GROUP and settings.delivery is Delivery.HYBRID
    assert settings.objective is Objective.MAX_SCORE and settings.min_overlap_minutes == 210
    assert (settings.group_min_size, settings.group_max_size) == (3, 5)
    assert (settings.weights.skills, settings.weights.nomination, settings.weights.repeat_pairing) == (
        2,
        0,
        3,
    )
    assert settings.mentee_choice and settings.choice_fallback_to_scores
    defaults = program_settings(program())
    assert defaults.format is ProgramFormat.ONE_ON_ONE and defaults.delivery is Delivery.REMOTE
    assert defaults.weights.skills == 35 and defaults.min_overlap_minutes == 120
    assert defaults.peer_grade_tolerance == 1 and defaults.speed_rounds == 3


def test_a_reverse_program_without_its_skill_is_an_invalid_argument_on_the_program_field() -> None:
    with pytest.raises(InvalidArgument) as error:
        program_settings(program(format=common_pb2.PROGRAM_FORMAT_REVERSE))
    assert error.value.field == "program.reverse_skill"
    reverse = program_settings(program(format=common_pb2.PROGRAM_FORMAT_REVERSE, reverse_skill="GenAI"))
    assert reverse.reverse_skills == frozenset({"genai"})


def test_a_mentor_keeps_attributes_and_capacity_accounts_for_live_loads() -> None:
    prog = program(mentor_capacity_default=3, mentor_cap_across_programs=4)
    person = engine_participant(
        mentor(), prog, workload=Workload(here=1, elsewhere=2), past_partner_ids=["X"]
    )
    assert person.role is Role.MENTOR and person.management_chain == ("B1", "B2")
    assert person.skills_offered == frozenset({"machine learning"}) and person.languages == frozenset(
        {"english"}
    )
    assert (person.work_start_minute, person.work_end_minute) == (7 * 60, 15 * 60)
    assert person.past_partner_ids == frozenset({"X"})
    # capacity 3 - 1 held here; cap 4 - 1 here - 2 elsewhere = 1 left.
    assert (person.capacity, person.global_cap, person.load_elsewhere) == (2, 3, 2)
    assert person.remaining_capacity == 1
    undeducted = engine_participant(
        mentor(), prog, workload=Workload(here=1, elsewhere=2), deduct_load_here=False
    )
    assert (undeducted.capacity, undeducted.global_cap) == (3, 4)
    own = mentor()
    own.profile.capacity = 1
    own.mentor_cap_across_programs = 2
    assert engine_participant(own, prog).capacity == 1 and engine_participant(own, prog).global_cap == 2


def test_a_mentee_who_must_hear_a_language_keeps_only_those() -> None:
    mentee = mentor(role=common_pb2.ROLE_MENTEE)
    mentee.profile.languages.append("german")
    mentee.profile.preferences.must_speak_languages.append("German")
    mentee.profile.goals.add(goal_id="g", what="x", skill_tags=["Pricing"])
    person = engine_participant(mentee, program())
    assert person.languages == frozenset({"german"}) and person.goal_skill_tags == frozenset({"pricing"})
    assert person.capacity == 1 and person.global_cap is None


def test_eligibility_and_an_unknown_timezone_make_a_participant_ineligible_not_a_crash() -> None:
    rules = program(eligibility=common_pb2.Eligibility(departments=["sales"], min_grade=9))
    assert ineligibility(rules, mentor()) == "department is not eligible for this program"
    assert "minimum" in (
        ineligibility(program(eligibility=common_pb2.Eligibility(min_grade=9)), mentor()) or ""
    )
    bad_zone = mentor(timezone="Mars/Olympus")
    person = engine_participant(bad_zone, program())
    assert person.ineligible_reason == "timezone is not a known IANA zone" and person.timezone == "UTC"


def test_a_stored_group_match_goes_out_with_its_current_mentees_only() -> None:
    moment = datetime(2025, 3, 3, tzinfo=UTC)
    record = MatchRecord(
        match_id="m1",
        program_id="p1",
        tenant="acme",
        format="group",
        mentor_enrollment_id="enr-m",
        mentor_employee_id="M",
        members=[Member("enr-a", "A", accepted=True), Member("enr-b", "B", left_at=moment)],
        score=42.0,
        breakdown={"skills": 30.0, "seniority_gap": 12.0},
        proposed_at=moment,
        respond_by=moment + timedelta(hours=72),
        status=Status.ACTIVE,
        mentor_accepted=True,
    )
    wire = match_to_wire(record)
    assert list(wire.mentee_employee_ids) == ["A"] and list(wire.mentee_enrollment_ids) == ["enr-a"]
    assert wire.status == common_pb2.MATCH_STATUS_ACTIVE and wire.mentee_accepted and wire.mentor_accepted
    assert {c.name: c.points for c in wire.breakdown} == {"skills": 30.0, "seniority_gap": 12.0}
    assert wire.respond_by.ToDatetime(tzinfo=UTC) == moment + timedelta(hours=72)


def test_the_audit_command_solves_the_example_and_writes_the_report(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    result = CliRunner().invoke(app, [str(EXAMPLE), "--output", str(output)])
    assert result.exit_code == 0, result.output
    report = json.loads(output.read_text())
    quality = report["quality"]
    assert quality["matched"] <= quality["max_matchable"] and 0 < quality["share_of_optimum"] <= 1
    assert quality["blocking_pairs"] is not None
    assert all(set(match["breakdown"]) >= {"skills", "goals", "nomination"} for match in report["matches"])
    scores = [match["score"] for match in report["matches"]]
    assert sum(scores) == pytest.approx(quality["total_score"])
    unmatched = {item["participant_id"]: item for item in report["unmatched"]}
    assert unmatched["enr-e6"]["code"] == "ineligible"
    assert unmatched["enr-e5"]["code"] == "no_eligible_mentor" and unmatched["enr-e5"]["dominant_rule"]
    (chain_check, _) = report["proposed_matches"]
    assert chain_check["allowed"] is False and chain_check["violations"] == ["management_chain"]
    assert all(m["mentor_id"] != "enr-m4" or m["mentee_id"] != "enr-e1" for m in report["matches"])


def test_the_audit_command_names_the_field_of_an_invalid_file(tmp_path: Path) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["participants"][2]["grade"] = "senior"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    result = CliRunner().invoke(app, [str(broken)])
    assert result.exit_code == 2 and "participants[2].grade" in result.output
