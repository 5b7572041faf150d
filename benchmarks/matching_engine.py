"""Benchmark of the matching engine: speed, memory and exactness, each next to a baseline of the same run.

Run ``python -m benchmarks.matching_engine`` (full sizes) or, for a quick look,
``python -m benchmarks.matching_engine --mentees 2000 --mentors 400 --hr-mentees 500 --hr-mentors 100``.

(a) production path (``solve``: encoding, hard rules, scoring, certified min-cost flow, quality report) on
    a 10,000 x 2,000 program; its total score against the exact optimum of the FULL graph (every feasible
    pair handed to OR-Tools at once) computed in the same run, with time and peak memory of both;
(b) the same family at 2,000 x 400 against ``matching.games.HospitalResident`` (mentees and mentors rank
    each other by score), with the greedy "sort pairs by score" of weighted-score tools as a second
    reference;
(c) a late mentee joining a live 10,000-mentee program: p50 / p99 of ``propose_for_late_mentee``;
(d), (e) group and peer programs next to a full-graph HiGHS MILP (``benchmarks.matching_formats``).

Every measured part runs in its own child process so that peak RSS belongs to that part only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from services.matching.domain.model import (
    Delivery,
    Participant,
    Pool,
    ProgramFormat,
    ProgramSettings,
    Role,
)

REFERENCE_DATE = date(2025, 3, 3)
SITES = (
    ("new york", "America/New_York", "english"),
    ("chicago", "America/Chicago", "english"),
    ("san francisco", "America/Los_Angeles", "english"),
    ("sao paulo", "America/Sao_Paulo", "portuguese"),
    ("london", "Europe/London", "english"),
    ("paris", "Europe/Paris", "french"),
    ("berlin", "Europe/Berlin", "german"),
    ("madrid", "Europe/Madrid", "spanish"),
    ("warsaw", "Europe/Warsaw", "polish"),
    ("bangalore", "Asia/Kolkata", "hindi"),
    ("singapore", "Asia/Singapore", "english"),
    ("tokyo", "Asia/Tokyo", "japanese"),
    ("sydney", "Australia/Sydney", "english"),
    ("remote emea", "UTC", "english"),
)
SKILLS = tuple(f"skill {k:03d}" for k in range(200))


def _zipf_choice(rng: np.random.Generator, n: int, size: int, exponent: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.choice(n, size=size, p=weights / weights.sum())


def make_pool(n_mentees: int, n_mentors: int, seed: int = 7) -> Pool:
    """A synthetic enterprise program: skewed skills and sites, an org tree, nominations, capacities."""
    rng = np.random.default_rng(seed)
    n = n_mentees + n_mentors
    roles = [Role.MENTEE] * n_mentees + [Role.MENTOR] * n_mentors
    grades = np.concatenate([rng.integers(1, 9, n_mentees), rng.integers(4, 13, n_mentors)])
    employee_ids = [f"e{k:06d}" for k in range(n)]
    # Org tree: everyone reports to someone strictly more senior (among the 400 most senior above them).
    order = np.argsort(-grades, kind="stable")
    manager: dict[int, int] = {}
    for position in range(1, n):
        person = int(order[position])
        seniors = order[max(0, position - 400) : position]
        seniors = seniors[grades[seniors] > grades[person]]
        if seniors.size:
            manager[person] = int(rng.choice(seniors))
    chains: dict[int, tuple[str, ...]] = {}
    for position in range(n):
        person = int(order[position])
        boss = manager.get(person)
        chains[person] = () if boss is None else (employee_ids[boss], *chains[boss])[:12]
    sites = _zipf_choice(rng, len(SITES), n, 0.8)
    mentor_popularity = _zipf_choice(rng, max(n_mentors, 1), n_mentees * 10, 0.9)
    people: list[Participant] = []
    for k in range(n):
        site, zone, language = SITES[int(sites[k])]
        languages = {language} | ({"english"} if rng.random() < 0.9 else set())
        is_mentee = roles[k] is Role.MENTEE
        wanted = {SKILLS[int(s)] for s in _zipf_choice(rng, len(SKILLS), int(rng.integers(2, 7)))}
        goals = set(sorted(wanted)[: int(rng.integers(1, 3))]) | (
            {SKILLS[int(rng.integers(len(SKILLS)))]} if rng.random() < 0.3 else set()
        )
        nominations: tuple[str, ...] = ()
        past: frozenset[str] = frozenset()
        if is_mentee and n_mentors and rng.random() < 0.3:
            picks = mentor_popularity[k * 10 : k * 10 + int(rng.integers(1, 11))]
            nominations = tuple(dict.fromkeys(employee_ids[n_mentees + int(p)] for p in picks))
        if is_mentee and n_mentors and rng.random() < 0.1:
            past = frozenset({employee_ids[n_mentees + int(rng.integers(n_mentors))]})
        start = int(rng.choice([8 * 60, 9 * 60, 9 * 60, 10 * 60]))
        people.append(
            Participant(
                participant_id=f"p{k:06d}",
                employee_id=employee_ids[k],
                role=roles[k],
                grade=int(grades[k]),
                department=f"dept {int(rng.integers(30)):02d}",
                division=f"division {int(rng.integers(6))}",
                location=site,
                timezone=zone,
                work_start_minute=start,
                work_end_minute=start + 8 * 60,
                languages=frozenset(languages),
                skills_offered=frozenset()
                if is_mentee
                else frozenset(
                    SKILLS[int(s)] for s in _zipf_choice(rng, len(SKILLS), int(rng.integers(4, 11)))
                ),
                skills_wanted=frozenset(wanted) if is_mentee else frozenset(),
                goal_skill_tags=frozenset(goals) if is_mentee else frozenset(),
                nominations=nominations,
                management_chain=chains[k],
                capacity=1 if is_mentee else int(rng.integers(1, 6)),
                load_elsewhere=0 if is_mentee else int(rng.integers(0, 3)),
                global_cap=None if is_mentee or rng.random() < 0.5 else int(rng.integers(3, 7)),
                prefers_other_department=bool(rng.random() < 0.3),
                past_partner_ids=past,
            )
        )
    return Pool(tuple(people))


def make_settings(**overrides: Any) -> ProgramSettings:
    base: dict[str, Any] = {
        "program_id": "bench",
        "format": ProgramFormat.ONE_ON_ONE,
        "delivery": Delivery.REMOTE,
        "min_overlap_minutes": 120,
        "reference_date": REFERENCE_DATE,
    }
    base.update(overrides)
    return ProgramSettings(**base)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


# ---------------------------------------------------------------- (a) production path vs full graph


def _production(n_mentees: int, n_mentors: int, seed: int, repeat: int) -> dict[str, Any]:
    """Times ``solve`` (best and median of ``repeat``), then its peak traced memory in one more run."""
    from services.matching.domain import solve

    pool = make_pool(n_mentees, n_mentors, seed)
    settings = make_settings()
    rss_before = _peak_rss_mib()
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = solve(pool, settings)
        times.append(time.perf_counter() - started)
    assert result is not None
    rss_after = _peak_rss_mib()
    tracemalloc.start()
    solve(pool, settings)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    quality = result.quality
    return {
        "times": times,
        "traced_peak_mib": traced_peak / 2**20,
        "rss_before_mib": rss_before,
        "rss_peak_mib": rss_after,
        "total_score": quality.total_score,
        "matched": quality.matched,
        "max_matchable": quality.max_matchable,
        "optimality": str(quality.optimality),
        "blocking_pairs": quality.blocking_pairs,
        "details": dict(quality.details),
        "unmatched_codes": _count(str(u.code) for u in result.unmatched),
    }


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _full_graph(n_mentees: int, n_mentors: int, seed: int) -> dict[str, Any]:
    """Exact optimum with every feasible pair handed to OR-Tools at once (no pruning, no pricing)."""
    from services.matching.domain.candidates import candidate_matrix
    from services.matching.domain.flow import GainRule, solve_assignment
    from services.matching.domain.program import prepare

    pool = make_pool(n_mentees, n_mentors, seed)
    settings = make_settings()
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    prepared = prepare(pool, settings)
    matrix = candidate_matrix(prepared.evaluator)
    room = np.maximum(prepared.evaluator.index.room(), 0)
    scored = time.perf_counter()
    outcome = solve_assignment(matrix, room, GainRule.MATCHED_THEN_SCORE, per_mentee=0)
    finished = time.perf_counter()
    greedy = _greedy(matrix, room)
    return {
        "seconds": finished - started,
        "flow_seconds": finished - scored,
        "arcs": outcome.arcs_solved,
        "score_units": outcome.score_units,
        "matched": outcome.matched,
        "rss_before_mib": rss_before,
        "rss_peak_mib": _peak_rss_mib(),
        "greedy": greedy,
    }


def _greedy(matrix: np.ndarray, room: np.ndarray) -> dict[str, Any]:
    """What a weighted-score tool does: take pairs by descending score while both sides have room."""
    started = time.perf_counter()
    rows, cols = np.nonzero(matrix != np.iinfo(np.int32).min)
    scores = matrix[rows, cols]
    order = np.argsort(-scores, kind="stable")
    left = room.astype(np.int64).copy()
    taken = np.zeros(matrix.shape[0], dtype=np.bool_)
    total = 0
    matched = 0
    for k in order.tolist():
        row, col = int(rows[k]), int(cols[k])
        if not taken[row] and left[col] > 0:
            taken[row] = True
            left[col] -= 1
            total += int(scores[k])
            matched += 1
    return {"seconds": time.perf_counter() - started, "score_units": total, "matched": matched}


# ---------------------------------------------------------------- (b) against matching.HospitalResident


def _hospital_resident(n_mentees: int, n_mentors: int, seed: int, repeat: int) -> dict[str, Any]:
    from matching.games import HospitalResident

    from services.matching.domain import solve
    from services.matching.domain.candidates import candidate_matrix
    from services.matching.domain.encoding import INFEASIBLE
    from services.matching.domain.flow import count_blocking_pairs
    from services.matching.domain.program import prepare

    pool = make_pool(n_mentees, n_mentors, seed)
    settings = make_settings()
    ours_times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = solve(pool, settings)
        ours_times.append(time.perf_counter() - started)
    assert result is not None
    prepared = prepare(pool, settings)
    matrix = candidate_matrix(prepared.evaluator)
    room = np.maximum(prepared.evaluator.index.room(), 0)
    mentee_ids = [p.participant_id for p in prepared.mentees]
    mentor_ids = [p.participant_id for p in prepared.mentors]
    feasible = matrix != INFEASIBLE
    resident_prefs: dict[str, list[str]] = {}
    for row in range(matrix.shape[0]):
        cols = np.flatnonzero(feasible[row])
        if cols.size:
            ranked = cols[np.argsort(-matrix[row, cols], kind="stable")]
            resident_prefs[mentee_ids[row]] = [mentor_ids[c] for c in ranked]
    hospital_prefs: dict[str, list[str]] = {}
    for col in range(matrix.shape[1]):
        rows = np.flatnonzero(feasible[:, col])
        if rows.size:
            ranked = rows[np.argsort(-matrix[rows, col], kind="stable")]
            hospital_prefs[mentor_ids[col]] = [mentee_ids[r] for r in ranked]
    capacities = {
        mentor_ids[c]: int(room[c]) for c in range(len(mentor_ids)) if mentor_ids[c] in hospital_prefs
    }
    outcome: dict[str, Any] = {}

    def run_theirs() -> None:
        started = time.perf_counter()
        game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
        outcome["matching"] = game.solve(optimal="resident")
        outcome["seconds"] = time.perf_counter() - started

    # The library deep-copies its player graph recursively: give it a deep stack in its own thread.
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 30)
    worker = threading.Thread(target=run_theirs)
    worker.start()
    worker.join()
    matching, theirs_seconds = outcome["matching"], outcome["seconds"]
    row_of = {pid: k for k, pid in enumerate(mentee_ids)}
    col_of = {pid: k for k, pid in enumerate(mentor_ids)}
    mentor_of = np.full(matrix.shape[0], -1, dtype=np.int64)
    for hospital, residents in matching.items():
        for resident in residents:
            mentor_of[row_of[resident.name]] = col_of[hospital.name]
    matched_rows = np.flatnonzero(mentor_of >= 0)
    theirs_units = int(matrix[matched_rows, mentor_of[matched_rows]].astype(np.int64).sum())
    theirs_blocking, _ = count_blocking_pairs(matrix, mentor_of, room)
    quality = result.quality
    return {
        "ours_times": ours_times,
        "ours_score": quality.total_score,
        "ours_matched": quality.matched,
        "ours_blocking": quality.blocking_pairs,
        "theirs_seconds": theirs_seconds,
        "theirs_score": theirs_units / 1000,
        "theirs_matched": int(matched_rows.size),
        "theirs_blocking": theirs_blocking,
        "ranked_pairs": int(feasible.sum()),
    }


# ---------------------------------------------------------------- (c) late mentee in a live program


def _late_mentees(n_mentees: int, n_mentors: int, seed: int, trials: int) -> dict[str, Any]:
    from dataclasses import replace

    from services.matching.domain import MentorIndex, Role, propose_for_late_mentee, solve

    pool = make_pool(n_mentees, n_mentors, seed)
    settings = make_settings()
    started = time.perf_counter()
    result = solve(pool, settings)
    resolve_seconds = time.perf_counter() - started
    # A live program some weeks in: 10 % of the relationships have ended, freeing their seats.
    loads: dict[str, int] = {}
    for k, match in enumerate(result.matches):
        if k % 10:
            loads[match.mentor_id] = loads.get(match.mentor_id, 0) + 1
    mentors = pool.with_role(Role.MENTOR)
    started = time.perf_counter()
    index = MentorIndex(mentors, settings)
    index_seconds = time.perf_counter() - started
    newcomers = make_pool(trials, 1, seed + 1).with_role(Role.MENTEE)
    late = [replace(p, participant_id=f"late{k}", employee_id=f"late-e{k}") for k, p in enumerate(newcomers)]
    latencies = []
    proposed = 0
    for mentee in late:
        started = time.perf_counter()
        proposal = propose_for_late_mentee(mentee, index, settings, mentor_loads=loads)
        latencies.append(time.perf_counter() - started)
        proposed += proposal.match is not None
    cold = []
    for mentee in late[:10]:
        started = time.perf_counter()
        propose_for_late_mentee(mentee, mentors, settings, mentor_loads=loads)
        cold.append(time.perf_counter() - started)
    return {
        "latencies": latencies,
        "proposed": proposed,
        "cold": cold,
        "index_seconds": index_seconds,
        "resolve_seconds": resolve_seconds,
    }


# ---------------------------------------------------------------- report


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _report_production(args: argparse.Namespace, size: str) -> None:
    print(f"(a) production path, {size} (capacities 1-5, remote, 2 h overlap)")
    ours = _in_child(_production, args.mentees, args.mentors, args.seed, args.repeat)
    median = float(np.median(ours["times"]))
    best = min(ours["times"])
    print(f"    solve(): median {median:.3f} s, best {best:.3f} s over {args.repeat} runs  [target < 2 s]")
    print(
        f"    memory: traced peak {ours['traced_peak_mib']:.0f} MiB (numpy + Python), process max RSS "
        f"{ours['rss_peak_mib']:.0f} MiB (pool alone {ours['rss_before_mib']:.0f} MiB)"
    )
    details = ours["details"]
    print(
        f"    result: score {ours['total_score']:.3f}, matched {ours['matched']:,} of max "
        f"{ours['max_matchable']}, {ours['optimality']}; pricing rounds {details['pricing_rounds']}, "
        f"{details['arcs_solved']:,} arcs solved of {details['feasible_pairs']:,} feasible pairs"
    )
    print(f"    blocking pairs {ours['blocking_pairs']:,}; unmatched {ours['unmatched_codes']}")
    if "full-graph" in args.skip:
        return
    full = _in_child(_full_graph, args.mentees, args.mentors, args.seed)
    optimum = full["score_units"]
    share = ours["total_score"] * 1000 / optimum if optimum else 1.0
    print(
        f"    baseline, exact optimum of the FULL graph ({full['arcs']:,} arcs to OR-Tools at once): "
        f"score {optimum / 1000:.3f}, matched {full['matched']:,}"
    )
    print(
        f"        {full['seconds']:.2f} s (flow {full['flow_seconds']:.2f} s), "
        f"max RSS {full['rss_peak_mib']:.0f} MiB"
    )
    print(
        f"    share of the full-graph optimum: {100 * share:.4f} %  [target >= 99.9 %]; matched "
        f"{ours['matched']:,} vs {full['matched']:,}; {full['seconds'] / median:.1f}x faster"
    )
    greedy = full["greedy"]
    print(
        f"    baseline, greedy by weighted score (score-only tools): "
        f"score {greedy['score_units'] / 1000:.3f} = {100 * greedy['score_units'] / optimum:.2f} % "
        f"of optimum, matched {greedy['matched']:,}"
    )


def _report_hospital_resident(args: argparse.Namespace) -> None:
    print(
        f"(b) {args.hr_mentees:,} x {args.hr_mentors:,} against matching==1.4.3 HospitalResident "
        "(stable, resident-optimal)"
    )
    hr = _in_child(_hospital_resident, args.hr_mentees, args.hr_mentors, args.seed, args.repeat)
    ours = float(np.median(hr["ours_times"]))
    print(
        f"    ours (scoring included): median {ours:.3f} s; theirs (preferences given, "
        f"{hr['ranked_pairs']:,} ranked pairs): {hr['theirs_seconds']:.2f} s"
    )
    print(f"    -> {hr['theirs_seconds'] / ours:.0f}x faster  [target >= 100x]")
    gain = 100 * (hr["ours_score"] / hr["theirs_score"] - 1) if hr["theirs_score"] else 0.0
    print(
        f"    total score ours {hr['ours_score']:.3f} vs theirs {hr['theirs_score']:.3f} ({gain:+.2f} %), "
        f"matched {hr['ours_matched']:,} vs {hr['theirs_matched']:,}, "
        f"blocking pairs {hr['ours_blocking']:,} vs {hr['theirs_blocking']:,}"
    )


def _report_late(args: argparse.Namespace, size: str) -> None:
    print(
        f"(c) late mentee joining the live {size} program, 10 % of matches ended ({args.late_trials} trials)"
    )
    late = _in_child(_late_mentees, args.mentees, args.mentors, args.seed, args.late_trials)
    latencies = late["latencies"]
    p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
    print(
        f"    propose_for_late_mentee, MentorIndex kept: p50 {1000 * p50:.2f} ms, p99 {1000 * p99:.2f} ms, "
        f"max {1000 * max(latencies):.2f} ms  [target p99 < 50 ms]"
    )
    print(f"    {late['proposed']} of {len(latencies)} late mentees got a mentor")
    print(
        f"    baseline, full re-solve: {late['resolve_seconds']:.2f} s "
        f"-> {late['resolve_seconds'] / p99:.0f}x faster at p99; "
        f"one-off MentorIndex build {1000 * late['index_seconds']:.0f} ms; "
        f"cold call p50 {1000 * _percentile(late['cold'], 50):.0f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mentees", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=2_000)
    parser.add_argument("--hr-mentees", type=int, default=2_000)
    parser.add_argument("--hr-mentors", type=int, default=400)
    parser.add_argument("--late-trials", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the production path")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", nargs="*", default=[], choices=["full-graph", "hr", "late", "formats"])
    args = parser.parse_args(argv)
    size = f"{args.mentees:,} mentees x {args.mentors:,} mentors"
    _report_production(args, size)
    if "hr" not in args.skip:
        _report_hospital_resident(args)
    if "late" not in args.skip:
        _report_late(args, size)
    if "formats" not in args.skip:  # (d) group and (e) peer, next to a full-graph MILP
        from benchmarks.matching_formats import report

        report(reference_seconds=120.0, repeat=10)


if __name__ == "__main__":
    main()
