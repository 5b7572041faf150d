"""``dominant_rule`` and ``rule_counts`` as the README defines them, for every delivery.

``rule_counts``: per hard rule, how many counterparts it excludes. ``dominant_rule``: the hard rule whose
relaxation alone would open the most pairs (ties: the order of ``HardRule``); if relaxing no single rule
opens any pair, the rule excluding the most. Hybrid delivery's rule is "same location OR enough
overlap": relaxing either of ``location`` / ``timezone_overlap`` satisfies it.
"""

from __future__ import annotations

import pytest

from services.matching.domain import Delivery, HardRule, Pool, ProgramFormat, Role, UnmatchedCode, solve
from services.matching.domain.rules import RULE_ORDER, check_pair


def _relaxed_by(rule: str, delivery: Delivery) -> set[str]:
    either = {HardRule.LOCATION, HardRule.TIMEZONE_OVERLAP}
    return set(either) if delivery is Delivery.HYBRID and rule in either else {rule}


def _expected(mentee, mentors, settings) -> tuple[str | None, dict[str, int]]:
    violations = [set(check_pair(mentor, mentee, settings)) for mentor in mentors]
    counts: dict[str, int] = {}
    for found in violations:
        for rule in found:
            counts[rule] = counts.get(rule, 0) + 1
    opened = {
        rule: sum(1 for found in violations if found and not found - _relaxed_by(rule, settings.delivery))
        for rule in RULE_ORDER
    }
    ranked = [rule for rule in RULE_ORDER if rule in counts]
    best = max(ranked, key=lambda rule: opened[rule], default=None)
    if best is not None and opened[best] > 0:
        return str(best), counts
    best = max(ranked, key=lambda rule: counts[rule], default=None)
    return (str(best) if best is not None else None), counts


def test_hybrid_location_or_overlap_outweighs_the_management_chain(make_person, make_settings):
    """The issue's case: 4 mentors blocked only by the management chain, 5 only by location-or-overlap."""
    settings = make_settings(delivery=Delivery.HYBRID, min_overlap_minutes=120)
    bosses = [f"boss{k}" for k in range(4)]
    mentee = make_person("mentee", management_chain=tuple(f"E-{boss}" for boss in bosses))
    far = {"location": "tokyo", "timezone": "Asia/Tokyo"}
    mentors = [make_person(boss, Role.MENTOR) for boss in bosses]
    mentors += [make_person(f"far{k}", Role.MENTOR, **far) for k in range(5)]
    result = solve(Pool((mentee, *mentors)), settings)
    (reason,) = [u for u in result.unmatched if u.participant_id == "mentee"]
    assert reason.code is UnmatchedCode.NO_ELIGIBLE_MENTOR
    assert reason.dominant_rule == HardRule.LOCATION
    assert dict(reason.rule_counts) == {"management_chain": 4, "location": 5, "timezone_overlap": 5}
    assert "'location' excludes 5 of 9 mentors" in reason.text


@pytest.mark.parametrize("delivery", list(Delivery))
@pytest.mark.parametrize("seed", range(6))
def test_reasons_follow_the_definition(make_pool, make_settings, delivery, seed):
    pool = make_pool(1200 + seed, 40, 6, max_capacity=2)
    settings = make_settings(delivery=delivery, format=ProgramFormat.ONE_ON_ONE, min_overlap_minutes=240)
    mentors = pool.with_role(Role.MENTOR)
    people = {p.participant_id: p for p in pool.participants}
    result = solve(pool, settings)
    checked = 0
    for reason in result.unmatched:
        if reason.code is not UnmatchedCode.NO_ELIGIBLE_MENTOR:
            continue
        rule, counts = _expected(people[reason.participant_id], mentors, settings)
        counts.pop(HardRule.ELIGIBILITY, None)
        counts.pop(HardRule.ROLE, None)
        assert (reason.dominant_rule, dict(reason.rule_counts)) == (rule, counts)
        checked += 1
    assert checked
