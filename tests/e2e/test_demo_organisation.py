"""End to end: the four services as real processes on the real broker, driven by the demo organisation
exactly as `make run` plays it: HRIS stream in, program, enrolments, matching, acceptance, a session,
the mentee's inbox."""

from __future__ import annotations

import pytest
from mentoring.v1 import common_pb2

from services.demo import organisation
from tests.support.platform import Played

pytestmark = pytest.mark.integration


def chain_of(employee_id: str) -> set[str]:
    managers = {person.employee_id: person.manager_id for person in organisation()}
    chain: set[str] = set()
    manager = managers[employee_id]
    while manager is not None:
        chain.add(manager)
        manager = managers[manager]
    return chain


def test_the_demo_organisation_flows_through_all_four_services(played: Played) -> None:
    outcome = played.outcome
    run = outcome.run
    assert outcome.people == 66
    assert run.matches, "the demo pool has feasible pairs"
    matched_mentees = [mentee for match in run.matches for mentee in match.mentee_employee_ids]
    assert len(matched_mentees) == len(set(matched_mentees)), "nobody is matched twice"
    # Unmatched lists mentees and mentors left without a partner, each with a reason.
    assert len(matched_mentees) + len(run.unmatched) >= outcome.mentees, "every mentee is accounted for"
    for unmatched in run.unmatched:
        assert unmatched.reason_code and unmatched.reason, "no unmatched mentee without a reason"
    for match in run.matches:
        for mentee in match.mentee_employee_ids:
            assert match.mentor_employee_id not in chain_of(mentee), "never the mentee's boss"
            assert mentee not in chain_of(match.mentor_employee_id)
        assert match.breakdown, "every match explains its score"
        assert match.score == pytest.approx(sum(part.points for part in match.breakdown), abs=0.01)
    quality = run.quality
    assert quality.matched == len(matched_mentees)
    assert quality.matched <= quality.max_matchable
    assert quality.share_of_optimum == pytest.approx(1.0, abs=1e-6)
    assert outcome.activated is not None and outcome.activated.status == common_pb2.MATCH_STATUS_ACTIVE
    assert outcome.session is not None and outcome.session.status == "scheduled"
    assert any(item.template == "match_activated" for item in outcome.inbox), "the mentee was told"
    for item in outcome.inbox:
        assert "Demo Person" not in item.title + item.body and "@" not in item.title + item.body
