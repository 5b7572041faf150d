"""Peer programs: exact and certified on the full graph where the blossom algorithm fits, otherwise the
double cover's proven bound with the gap reported, and always the most peers the rules allow."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from benchmarks.matching_engine import make_pool as make_org
from benchmarks.matching_engine import make_settings as make_org_settings
from services.matching.domain import Optimality, Pool, ProgramFormat, Role, check_pair, solve
from services.matching.domain.peer_cover import cover_matching


def _peers(count: int) -> Pool:
    base = make_org(count, 0, seed=7)
    return Pool(tuple(dataclasses.replace(p, role=Role.PEER) for p in base.participants))


def _reference(pool: Pool, settings) -> tuple[int, int]:
    """(pairs, units) of the lexicographic optimum: networkx's blossom algorithm on every allowed pair."""
    from services.matching.domain.scoring import score_peers

    peers = pool.participants
    graph = nx.Graph()
    graph.add_nodes_from(range(len(peers)))
    units = {}
    for a in range(len(peers)):
        for b in range(a + 1, len(peers)):
            if not check_pair(peers[a], peers[b], settings):
                units[a, b] = score_peers(peers[a], peers[b], settings).units
    low = min(units.values())
    graph.add_weighted_edges_from((a, b, value - low + 1) for (a, b), value in units.items())
    pairs = nx.max_weight_matching(graph, maxcardinality=True)
    return len(pairs), sum(units[min(a, b), max(a, b)] for a, b in pairs)


def test_400_peers_are_certified_on_the_full_graph():
    pool = _peers(400)
    settings = make_org_settings(format=ProgramFormat.PEER)
    result = solve(pool, settings)
    quality = result.quality
    assert quality.optimality is Optimality.PROVEN_OPTIMAL
    assert quality.details["edges"] > 10_000  # above the old pruning threshold
    pairs, units = _reference(pool, settings)
    assert quality.matched == quality.max_matchable == 2 * pairs
    assert round(quality.total_score * 2000) == units


def test_2000_peers_reach_the_maximum_within_a_proven_bound():
    pool = _peers(2000)
    settings = make_org_settings(format=ProgramFormat.PEER)
    result = solve(pool, settings)
    quality = result.quality
    assert quality.max_matchable is not None and quality.matched == quality.max_matchable == 2000
    assert quality.optimum_score is not None and quality.optimum_score >= quality.total_score
    assert quality.share_of_optimum is not None and quality.share_of_optimum >= 0.99
    assert quality.optimality in (Optimality.PROVEN_OPTIMAL, Optimality.WITHIN_BOUND)


@pytest.mark.parametrize("count_first", [True, False])
def test_an_odd_cycle_loses_one_peer_and_the_bound_says_so(count_first):
    allowed = np.ones((3, 3), dtype=np.bool_)
    np.fill_diagonal(allowed, False)
    units = np.full((3, 3), 10, dtype=np.int32)
    cover = cover_matching(allowed, units, count_first, per_node=0)
    assert len(cover.pairs) == 1 and cover.flow_arcs == 3 and cover.odd_cycles == 1
    assert cover.flow_units == 30 and not cover.proven_optimal
