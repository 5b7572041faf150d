"""Peer mentoring: pairs within one pool, a non-bipartite maximum-weight matching (``peer_cover``: the
bipartite double cover solved exactly by min-cost flow gives a proven bound, and the matching read off
it is proven optimal when it attains that bound), lexicographic (most peers, then best score; or the
reverse). A pair's score is the sum of both directions (each learns from the other)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from services.matching.domain import reasons
from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE
from services.matching.domain.model import (
    SCORE_SCALE,
    Match,
    MatchingResult,
    Objective,
    Optimality,
    QualityReport,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.peer_cover import CoverMatching, cover_matching
from services.matching.domain.program import PreparedProgram
from services.matching.domain.rules import HardRule

# At most this many allowed pairs, an uncertified cover is settled exactly by networkx's blossom
# algorithm on the full graph (pure Python, cubic: fine for small programs only).
PEER_BLOSSOM_EDGES = 20_000


def _blossom(allowed: np.ndarray, pair_units: np.ndarray, count_first: bool) -> list[tuple[int, int]]:
    left, right = np.nonzero(np.triu(allowed, k=1))
    units = pair_units[left, right]
    n = allowed.shape[0]
    # Most pairs first: among maximum-cardinality matchings a constant shift keeps the order (weights
    # >= 1); best score first: scaled so that one more pair never outweighs a point of score.
    weights = units - int(units.min(initial=0)) + 1 if count_first else units * (n + 1) + 1
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(left.tolist(), right.tolist(), weights.tolist(), strict=True))
    return sorted(
        (min(a, b), max(a, b)) for a, b in nx.max_weight_matching(graph, maxcardinality=count_first)
    )


def _most_pairs(cover: CoverMatching) -> int | None:
    """The most pairs the rules allow, when proven: the fractional bound (halved arcs) is attained."""
    return len(cover.pairs) if len(cover.pairs) == cover.flow_arcs // 2 else None


def solve_peer(prepared: PreparedProgram) -> MatchingResult:
    settings = prepared.settings
    evaluator = prepared.evaluator
    peers = prepared.mentees
    n = len(peers)
    directional = candidate_matrix(evaluator)
    feasible = (directional != INFEASIBLE) & (directional.T != INFEASIBLE)
    np.fill_diagonal(feasible, False)
    # Both directions fit an int32 where the pair is feasible (elsewhere the sum wraps and is masked).
    with np.errstate(over="ignore"):
        pair_units = np.where(feasible, directional + directional.T, 0).astype(np.int32, copy=False)
    count_first = settings.objective is Objective.MAX_MATCHED_THEN_SCORE
    allowed = feasible if count_first else feasible & (pair_units >= 0)
    per_node = settings.candidates_per_mentee or n
    cover = cover_matching(allowed, pair_units, count_first, per_node=per_node)
    pairs = cover.pairs
    edges = int(np.triu(allowed, k=1).sum())
    exact = cover.proven_optimal
    optimum_units: int | None = cover.flow_units // 2
    if count_first:
        max_matchable = _most_pairs(cover)
        if 2 * len(pairs) != cover.flow_arcs:  # fewer pairs than the bound: bound the score alone
            optimum_units = cover_matching(feasible & (pair_units >= 0), pair_units, False).flow_units // 2
    else:
        max_matchable = _most_pairs(cover_matching(feasible, pair_units, True, per_node=per_node))
    if not cover.certified_flow:
        optimum_units = None
    if not exact and edges <= PEER_BLOSSOM_EDGES:  # an odd cycle: the exact blossom algorithm settles it
        pairs = _blossom(allowed, pair_units, count_first)
        exact = True
        max_matchable = len(pairs) if count_first else len(_blossom(feasible, pair_units, True))
    details: dict[str, float | int | str] = {
        "edges": edges,
        "blossom": int(exact and not cover.proven_optimal),
        "odd_cycles": cover.odd_cycles,
        "pair_bound": cover.flow_arcs // 2,
    }
    partner = np.full(n, -1, dtype=np.int64)
    current = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    matches: list[Match] = []
    total_units = 0
    ends = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    both = evaluator.breakdowns(
        np.concatenate([ends[:, 0], ends[:, 1]]), np.concatenate([ends[:, 1], ends[:, 0]])
    )
    for k, (a, b) in enumerate(pairs):
        partner[a], partner[b] = b, a
        current[a] = current[b] = pair_units[a, b]
        total_units += int(pair_units[a, b])
        one, other = both[k], both[k + len(pairs)]
        first, second = sorted((peers[a].participant_id, peers[b].participant_id))
        points = {
            name: (one.component_units[name] + other.component_units[name]) / (2 * SCORE_SCALE)
            for name in one.component_units
        }
        matches.append(Match(first, second, (one.units + other.units) / (2 * SCORE_SCALE), points))
    blocking = feasible & (pair_units > current[:, None]) & (pair_units > current[None, :])
    blocking_pairs = int(np.triu(blocking, k=1).sum())
    unmatched: list[Unmatched] = list(prepared.turned_away)
    lonely = np.flatnonzero(partner < 0)
    no_option = [int(i) for i in lonely if not feasible[i].any()]
    diagnoses = dict(
        zip(
            no_option,
            reasons.diagnose(evaluator, np.asarray(no_option, dtype=np.int64), mentees=True),
            strict=True,
        )
    )
    for i in (int(k) for k in lonely):
        peer = peers[i]
        if peer.remaining_capacity < 1:
            unmatched.append(
                reasons.simple(
                    peer,
                    UnmatchedCode.NO_REMAINING_CAPACITY,
                    reasons.capacity_text(peer),
                    rule=HardRule.CAPACITY,
                )
            )
        elif i in diagnoses:
            unmatched.append(reasons.no_eligible(peer, UnmatchedCode.NO_ELIGIBLE_PEER, "peer", diagnoses[i]))
        elif (feasible[i] & (partner < 0)).any():
            text = "every eligible free peer scores below what the objective accepts"
            unmatched.append(reasons.simple(peer, UnmatchedCode.SCORE_NOT_BENEFICIAL, text))
        else:
            text = f"all {int(feasible[i].sum())} eligible peers are paired with others"
            unmatched.append(reasons.simple(peer, UnmatchedCode.PARTNERS_MATCHED_ELSEWHERE, text))
    optimality = Optimality.PROVEN_OPTIMAL if exact else Optimality.WITHIN_BOUND
    total = total_units / (2 * SCORE_SCALE)
    optimum = None if optimum_units is None else max(optimum_units, total_units) / (2 * SCORE_SCALE)
    if exact:
        optimum = total
    quality = QualityReport(
        solver="blossom_max_weight_matching" if exact and not cover.proven_optimal else "double_cover_flow",
        objective=settings.objective,
        total_score=total,
        optimum_score=optimum,
        share_of_optimum=None if optimum is None else (1.0 if optimum <= 0 else total / optimum),
        optimality=optimality,
        matched=2 * len(pairs),
        max_matchable=None if max_matchable is None else 2 * max_matchable,
        candidates=n,
        blocking_pairs=blocking_pairs,
        solve_seconds=0.0,
        details=details,
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)
