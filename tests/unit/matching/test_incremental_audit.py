"""Late mentees (incremental proposals) and the JSON audit core."""

from __future__ import annotations

import json

import pytest

from services.matching.domain import (
    Delivery,
    HardRule,
    MentorIndex,
    ProgramFormat,
    Role,
    UnmatchedCode,
    check_pair,
    propose_for_late_mentee,
    score_pair,
)
from services.matching.domain.audit import load_program, run_audit
from services.shared.errors import InvalidArgument


@pytest.mark.parametrize("seed", range(8))
def test_late_mentee_gets_the_best_feasible_mentor_with_room(make_pool, make_settings, seed):
    pool = make_pool(1100 + seed, 6, 10, max_capacity=3, dense=True)
    program = make_settings(delivery=Delivery.HYBRID, min_overlap_minutes=60)
    mentors = pool.with_role(Role.MENTOR)
    loads = {m.participant_id: (k % 3) for k, m in enumerate(mentors)}
    index = MentorIndex(mentors, program)
    for mentee in pool.with_role(Role.MENTEE):
        proposal = propose_for_late_mentee(mentee, index, program, mentor_loads=loads, alternatives=2)
        options = sorted(
            (
                (-score_pair(m, mentee, program).units, k, m.participant_id)
                for k, m in enumerate(mentors)
                if not check_pair(m, mentee, program, mentor_current_load=loads[m.participant_id])
            ),
        )
        if not options:
            assert proposal.match is None and proposal.reason is not None
            continue
        assert proposal.match is not None
        assert proposal.match.mentor_id == options[0][2]
        assert proposal.match.score * 1000 == pytest.approx(-options[0][0])
        assert [a.mentor_id for a in proposal.alternatives] == [o[2] for o in options[1:3]]
        same = propose_for_late_mentee(mentee, mentors, program, mentor_loads=loads, alternatives=2)
        assert same == proposal


def test_late_mentee_reasons(make_person, make_settings):
    program = make_settings()
    mentors = [
        make_person("m1", Role.MENTOR, capacity=1),
        make_person("m2", Role.MENTOR, languages=frozenset({"french"})),
    ]
    full = propose_for_late_mentee(make_person("e"), mentors, program, mentor_loads={"m1": 1})
    assert full.match is None and full.reason.code is UnmatchedCode.CAPACITY_EXHAUSTED
    far = propose_for_late_mentee(make_person("e", languages=frozenset({"german"})), mentors, program)
    assert (
        far.reason.code is UnmatchedCode.NO_ELIGIBLE_MENTOR and far.reason.dominant_rule == HardRule.LANGUAGE
    )
    wrong_role = propose_for_late_mentee(make_person("x", Role.MENTOR), mentors, program)
    assert wrong_role.reason.code is UnmatchedCode.ROLE_NOT_IN_FORMAT
    away = propose_for_late_mentee(make_person("e", ineligible_reason="left the company"), mentors, program)
    assert away.reason.code is UnmatchedCode.INELIGIBLE


def test_late_mentee_joins_an_existing_group_only(make_person, make_settings):
    program = make_settings(format=ProgramFormat.GROUP, group_min_size=2, group_max_size=3)
    mentors = [
        make_person("empty", Role.MENTOR, capacity=3),
        make_person("running", Role.MENTOR, capacity=3, grade=7),
    ]
    proposal = propose_for_late_mentee(make_person("e"), mentors, program, mentor_loads={"running": 2})
    assert proposal.match.mentor_id == "running"
    full = propose_for_late_mentee(make_person("e"), mentors, program, mentor_loads={"running": 3})
    assert full.match is None and full.reason.code is UnmatchedCode.GROUP_BELOW_MINIMUM


def _document() -> dict:
    return {
        "format_version": 1,
        "program": {
            "program_id": "audit-1",
            "format": "one_on_one",
            "delivery": "remote",
            "reference_date": "2025-03-03",
            "min_overlap_hours": 2,
            "weights": {"skills": 40, "goals": 20},
        },
        "participants": [
            {
                "participant_id": "m1",
                "employee_id": "E1",
                "role": "mentor",
                "grade": 8,
                "timezone": "Europe/Berlin",
                "working_hours": "09:00-17:00",
                "languages": ["English"],
                "skills_offered": ["SQL", "negotiation"],
                "capacity": 2,
            },
            {
                "participant_id": "e1",
                "employee_id": "E2",
                "role": "mentee",
                "grade": 4,
                "timezone": "Europe/London",
                "languages": ["english"],
                "skills_wanted": ["sql"],
                "nominations": ["E1"],
            },
            {
                "participant_id": "e2",
                "employee_id": "E3",
                "role": "mentee",
                "grade": 3,
                "timezone": "Pacific/Auckland",
                "languages": ["english"],
                "management_chain": ["E9", "E1"],
            },
        ],
        "proposed_matches": [{"mentor_id": "m1", "mentee_id": "e2"}],
    }


def test_audit_report_is_json_ready_and_complete():
    report = run_audit(_document())
    text = json.dumps(report)
    assert json.loads(text) == report
    assert report["solver"] == "assignment"
    assert [(m["mentor_id"], m["mentee_id"]) for m in report["matches"]] == [("m1", "e1")]
    assert report["matches"][0]["breakdown"]["skills"] == 40.0
    assert report["matches"][0]["breakdown"]["nomination"] == 20.0
    (unmatched,) = report["unmatched"]
    assert unmatched["participant_id"] == "e2" and unmatched["code"] == "no_eligible_mentor"
    assert unmatched["rule_counts"] == {"management_chain": 1, "timezone_overlap": 1}
    assert report["quality"]["optimality"] == "proven_optimal"
    assert report["quality"]["matched"] == 1 and report["quality"]["max_matchable"] == 1
    (proposed,) = report["proposed_matches"]
    assert proposed["allowed"] is False
    assert proposed["violations"] == ["management_chain", "timezone_overlap"]


def test_audit_loads_working_hours_and_settings():
    pool, program = load_program(_document())
    mentor = pool.participants[0]
    assert (mentor.work_start_minute, mentor.work_end_minute) == (540, 1020)
    assert mentor.skills_offered == frozenset({"sql", "negotiation"})
    assert program.min_overlap_minutes == 120 and program.weights.skills == 40


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("participants", 1, "grade"), "senior", "participants[1].grade"),
        (("participants", 0, "role"), "boss", "participants[0].role"),
        (("participants", 0, "working_hours"), "9-5", "participants[0].working_hours"),
        (("participants", 1, "nominations"), [f"E{k}" for k in range(11)], "participants[1].nominations"),
        (("program", "format"), "pairs", "program.format"),
        (("program", "reference_date"), "yesterday", "program.reference_date"),
        (("program", "weights"), {"charm": 3}, "program.weights.charm"),
        (("program", "group_min_size"), 0, "program.group_min_size"),
        (("proposed_matches", 0, "mentor_id"), "nobody", "proposed_matches[0].mentor_id"),
    ],
)
def test_audit_errors_name_the_field(path, value, field):
    document = _document()
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidArgument) as error:
        run_audit(document)
    assert error.value.field == field


def test_audit_rejects_duplicate_participants():
    document = _document()
    document["participants"].append(dict(document["participants"][1]))
    with pytest.raises(InvalidArgument) as error:
        load_program(document)
    assert error.value.field == "participants[3].participant_id"


def test_audit_of_an_empty_program():
    report = run_audit({"program": {"format": "peer"}, "participants": []})
    assert report["matches"] == [] and report["unmatched"] == [] and report["quality"]["matched"] == 0


def test_audit_of_a_peer_program_scores_proposals_as_means():
    document = {
        "program": {"format": "peer", "reference_date": "2025-01-15"},
        "participants": [
            {
                "participant_id": "a",
                "employee_id": "A",
                "role": "peer",
                "grade": 5,
                "languages": ["en"],
                "skills_offered": ["x"],
            },
            {
                "participant_id": "b",
                "employee_id": "B",
                "role": "peer",
                "grade": 5,
                "languages": ["en"],
                "skills_wanted": ["x"],
            },
        ],
        "proposed_matches": [{"mentor_id": "a", "mentee_id": "b"}],
    }
    report = run_audit(document)
    assert report["matches"][0]["score"] == report["proposed_matches"][0]["score"]
    assert report["proposed_matches"][0]["allowed"] is True
