"""Group (size bounds, HiGHS MILP) and peer programs against brute force."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from services.matching.domain import (
    Delivery,
    Objective,
    Optimality,
    Pool,
    ProgramFormat,
    Role,
    UnmatchedCode,
    check_pair,
    score_pair,
    score_peers,
    solve,
)


def _group_program(make_settings, objective=Objective.MAX_MATCHED_THEN_SCORE, **extra):
    fields = {
        "format": ProgramFormat.GROUP,
        "delivery": Delivery.HYBRID,
        "min_overlap_minutes": 60,
        "group_min_size": 2,
        "group_max_size": 3,
        "objective": objective,
        "solver_workers": 1,
    }
    return make_settings(**{**fields, **extra})


def _group_brute_force(pool, program) -> tuple[int, int]:
    mentors, mentees = pool.with_role(Role.MENTOR), pool.with_role(Role.MENTEE)
    options = [[None, *(m for m in mentors if not check_pair(m, e, program))] for e in mentees]
    best = None
    for choice in itertools.product(*options):
        sizes = Counter(m.participant_id for m in choice if m is not None)
        if any(
            size and not program.group_min_size <= size <= min(program.group_max_size, m.remaining_capacity)
            for m in mentors
            for size in [sizes[m.participant_id]]
        ):
            continue
        pairs = [(m, e) for m, e in zip(choice, mentees, strict=True) if m is not None]
        units = sum(score_pair(m, e, program).units for m, e in pairs)
        if program.objective is Objective.MAX_SCORE and any(
            score_pair(m, e, program).units < 0 for m, e in pairs
        ):
            continue
        key = (
            (len(pairs), units)
            if program.objective is Objective.MAX_MATCHED_THEN_SCORE
            else (units, len(pairs))
        )
        best = key if best is None or key > best else best
    return best


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(10))
def test_group_solver_equals_brute_force(make_pool, make_settings, seed, objective):
    pool = make_pool(300 + seed, 6, 3, max_capacity=4, dense=True)
    program = _group_program(make_settings, objective)
    result = solve(pool, program)
    best = _group_brute_force(pool, program)
    got = (result.quality.matched, round(result.quality.total_score * 1000))
    assert got == (best if objective is Objective.MAX_MATCHED_THEN_SCORE else (best[1], best[0]))
    assert result.quality.optimality is Optimality.PROVEN_OPTIMAL


@pytest.mark.parametrize("seed", range(4))
def test_groups_respect_size_bounds_and_rules(make_pool, make_settings, seed):
    pool = make_pool(400 + seed, 30, 6, max_capacity=5, dense=True)
    program = _group_program(make_settings)
    result = solve(pool, program)
    by_id = {p.participant_id: p for p in pool.participants}
    sizes = Counter(m.group_id for m in result.matches)
    for mentor_id, size in sizes.items():
        assert (
            program.group_min_size <= size <= min(program.group_max_size, by_id[mentor_id].remaining_capacity)
        )
    assert len({m.mentee_id for m in result.matches}) == len(result.matches)
    for match in result.matches:
        assert match.group_id == match.mentor_id
        assert check_pair(by_id[match.mentor_id], by_id[match.mentee_id], program) == []


def test_mentor_who_cannot_gather_a_minimum_group_gets_none(make_person, make_settings):
    program = _group_program(make_settings, group_min_size=3, group_max_size=4)
    pool = Pool(
        (
            make_person("lead", Role.MENTOR, capacity=4),
            make_person("lonely", Role.MENTOR, capacity=4, location="tokyo", timezone="Asia/Tokyo"),
            make_person("a"),
            make_person("b"),
            make_person("c"),
            make_person("d", location="tokyo", timezone="Asia/Tokyo"),
        )
    )
    result = solve(pool, program)
    assert Counter(m.group_id for m in result.matches) == {"lead": 3}
    reasons = {u.participant_id: u.code for u in result.unmatched}
    assert reasons == {"lonely": UnmatchedCode.GROUP_BELOW_MINIMUM, "d": UnmatchedCode.GROUP_BELOW_MINIMUM}


def test_undersized_relaxation_goes_to_the_milp(make_person, make_settings):
    # Without the minimum, four mentees split 2 + 2 between two mentors; valid groups of 3 take only 3.
    program = _group_program(make_settings, group_min_size=3, group_max_size=3)
    sql, ml = frozenset({"sql"}), frozenset({"ml"})
    pool = Pool(
        (
            make_person("a", Role.MENTOR, capacity=3, skills_offered=sql),
            make_person("b", Role.MENTOR, capacity=3, skills_offered=ml),
            *(make_person(f"e{k}", skills_wanted=sql if k < 2 else ml) for k in range(4)),
        )
    )
    result = solve(pool, program)
    assert result.quality.details["relaxation_valid"] == 0
    assert result.quality.solver == "highs_milp_group"
    assert len(result.matches) == 3 and len({m.group_id for m in result.matches}) == 1
    assert result.quality.optimality is Optimality.PROVEN_OPTIMAL and result.quality.max_matchable == 3
    assert {u.code for u in result.unmatched} == {UnmatchedCode.GROUP_BELOW_MINIMUM}


def _peer_program(make_settings, objective=Objective.MAX_MATCHED_THEN_SCORE):
    return make_settings(
        format=ProgramFormat.PEER,
        delivery=Delivery.HYBRID,
        min_overlap_minutes=60,
        peer_grade_tolerance=3,
        objective=objective,
    )


def _peer_brute_force(peers, program) -> tuple[int, int]:
    best = None

    def search(remaining, pairs):
        nonlocal best
        if not remaining:
            units = sum(score_peers(a, b, program).units for a, b in pairs)
            if program.objective is Objective.MAX_SCORE and any(
                score_peers(a, b, program).units < 0 for a, b in pairs
            ):
                return
            key = (
                (len(pairs), units)
                if program.objective is Objective.MAX_MATCHED_THEN_SCORE
                else (units, len(pairs))
            )
            best = key if best is None or key > best else best
            return
        first, rest = remaining[0], remaining[1:]
        search(rest, pairs)
        for k, other in enumerate(rest):
            if not check_pair(first, other, program):
                search(rest[:k] + rest[k + 1 :], [*pairs, (first, other)])

    search(list(peers), [])
    return best


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("seed", range(8))
def test_peer_matching_equals_brute_force(make_pool, make_settings, seed, objective):
    pool = make_pool(500 + seed, 0, 0, peers=8, dense=True)
    program = _peer_program(make_settings, objective)
    result = solve(pool, program)
    best = _peer_brute_force(pool.participants, program)
    pairs, units = best if objective is Objective.MAX_MATCHED_THEN_SCORE else (best[1], best[0])
    assert result.quality.matched == 2 * pairs
    assert round(result.quality.total_score * 2000) == units
    seen = [pid for m in result.matches for pid in (m.mentor_id, m.mentee_id)]
    assert len(seen) == len(set(seen))
    for match in result.matches:
        assert match.mentor_id < match.mentee_id
        assert match.score == pytest.approx(sum(match.breakdown.values()))


def test_odd_peer_out_is_told_why(make_person, make_settings):
    program = _peer_program(make_settings)
    pool = Pool(tuple(make_person(name, Role.PEER, grade=5) for name in ("a", "b", "c")))
    result = solve(pool, program)
    assert len(result.matches) == 1
    (reason,) = result.unmatched
    assert reason.code is UnmatchedCode.PARTNERS_MATCHED_ELSEWHERE
    assert result.quality.max_matchable == 2
    assert result.quality.blocking_pairs is not None


def test_peer_blocking_pairs_follow_the_definition(make_person, make_settings):
    # a-b share everything, c is weaker: matched-first pairs a-b (or a best pair) and leaves nobody blocking.
    program = _peer_program(make_settings)
    skills = frozenset({"sql", "ml"})
    pool = Pool(
        (
            make_person("a", Role.PEER, grade=5, skills_offered=skills, skills_wanted=skills),
            make_person("b", Role.PEER, grade=5, skills_offered=skills, skills_wanted=skills),
            make_person("c", Role.PEER, grade=5),
            make_person("d", Role.PEER, grade=5),
        )
    )
    result = solve(pool, program)
    assert {(m.mentor_id, m.mentee_id) for m in result.matches} == {("a", "b"), ("c", "d")}
    assert result.quality.blocking_pairs == 0
