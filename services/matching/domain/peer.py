"""Peer mentoring: pairs within one pool, a non-bipartite maximum-weight matching (Edmonds' blossom
algorithm, networkx). A pair's score is the sum of both directions (each learns from the other)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from services.matching.domain import reasons
from services.matching.domain.candidates import candidate_matrix
from services.matching.domain.encoding import INFEASIBLE, IntArray
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
from services.matching.domain.program import PreparedProgram
from services.matching.domain.rules import HardRule

# networkx's blossom algorithm is cubic: above this many feasible pairs, each peer keeps its best ones.
PEER_FULL_GRAPH_EDGES = 10_000


def _edges(pair_units: IntArray, feasible: np.ndarray, per_node: int) -> tuple[IntArray, IntArray, bool]:
    upper = np.triu(feasible, k=1)
    left, right = np.nonzero(upper)
    if left.size <= PEER_FULL_GRAPH_EDGES or per_node <= 0:
        return left.astype(np.int64), right.astype(np.int64), False
    n = pair_units.shape[0]
    k = min(per_node, n - 1)
    masked = np.where(feasible, pair_units, np.iinfo(np.int64).min)
    best = np.argpartition(masked, n - k, axis=1)[:, n - k :]
    keep = np.zeros_like(feasible)
    np.put_along_axis(keep, best, True, axis=1)
    keep &= feasible
    keep |= keep.T
    left, right = np.nonzero(np.triu(keep, k=1))
    return left.astype(np.int64), right.astype(np.int64), True


def _matching(
    n: int, left: IntArray, right: IntArray, weights: IntArray, max_cardinality: bool
) -> list[tuple[int, int]]:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(left.tolist(), right.tolist(), weights.tolist(), strict=True))
    pairs = nx.max_weight_matching(graph, maxcardinality=max_cardinality)
    return sorted((min(a, b), max(a, b)) for a, b in pairs)


def solve_peer(prepared: PreparedProgram) -> MatchingResult:
    settings = prepared.settings
    evaluator = prepared.evaluator
    peers = prepared.mentees
    n = len(peers)
    directional = candidate_matrix(evaluator)
    feasible = (directional != INFEASIBLE) & (directional.T != INFEASIBLE)
    pair_units = directional.astype(np.int64) + directional.T.astype(np.int64)
    allowed = feasible & (pair_units >= 0) if settings.objective is Objective.MAX_SCORE else feasible
    left, right, pruned = _edges(pair_units, allowed, settings.candidates_per_mentee)
    units = pair_units[left, right]
    pairs: list[tuple[int, int]] = []
    max_matchable: int | None = 0
    if left.size:
        if settings.objective is Objective.MAX_MATCHED_THEN_SCORE:
            # Among maximum-cardinality matchings a constant shift keeps the order; weights stay >= 1.
            pairs = _matching(n, left, right, units - int(units.min()) + 1, True)
            max_matchable = len(pairs)
        else:
            pairs = _matching(n, left, right, units * (n + 1) + 1, False)
    if settings.objective is Objective.MAX_SCORE:
        all_left, all_right, all_pruned = _edges(pair_units, feasible, settings.candidates_per_mentee)
        pruned = pruned or all_pruned
        max_matchable = (
            len(_matching(n, all_left, all_right, np.ones_like(all_left), True)) if all_left.size else 0
        )
    partner = np.full(n, -1, dtype=np.int64)
    current = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    matches: list[Match] = []
    total_units = 0
    for a, b in pairs:
        partner[a], partner[b] = b, a
        current[a] = current[b] = pair_units[a, b]
        total_units += int(pair_units[a, b])
        one, other = evaluator.breakdowns(np.array([a, b]), np.array([b, a]))
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
    optimality = Optimality.OPTIMAL_ON_PRUNED_GRAPH if pruned else Optimality.PROVEN_OPTIMAL
    total = total_units / (2 * SCORE_SCALE)
    quality = QualityReport(
        solver="blossom_max_weight_matching",
        objective=settings.objective,
        total_score=total,
        optimum_score=None if pruned else total,
        share_of_optimum=None if pruned else 1.0,
        optimality=optimality,
        matched=2 * len(pairs),
        max_matchable=None if pruned or max_matchable is None else 2 * max_matchable,
        candidates=n,
        blocking_pairs=blocking_pairs,
        solve_seconds=0.0,
        details={"edges": int(left.size), "pruned": int(pruned)},
    )
    return MatchingResult(settings.program_id, settings.format, tuple(matches), tuple(unmatched), quality)
