"""Management chains, cycle detection and the reports below a manager."""

from __future__ import annotations

import random

import pytest

from services.enrollment.domain import (
    ReportingCycle,
    ReportingTree,
    ReportsIndex,
    find_cycle,
    management_chain,
    reports_below,
)

ORG: dict[str, str | None] = {
    "ceo": None,
    "cto": "ceo",
    "eng1": "cto",
    "eng2": "cto",
    "dev1": "eng1",
    "dev2": "eng1",
    "sales1": "vp-sales",  # vp-sales is not hired yet
}


def test_chain_goes_up_to_the_top() -> None:
    assert management_chain(ORG, "dev1") == ("eng1", "cto", "ceo")
    assert management_chain(ORG, "ceo") == ()


def test_chain_stops_after_the_first_unknown_manager() -> None:
    assert management_chain(ORG, "sales1") == ("vp-sales",)
    assert management_chain(ORG, "nobody") == ()


def test_chain_over_stored_cycle_raises_rather_than_loops() -> None:
    with pytest.raises(ReportingCycle):
        management_chain({"a": "b", "b": "c", "c": "a"}, "a")


def test_find_cycle_returns_the_closing_path() -> None:
    assert find_cycle(ORG, "cto", "dev1") == ("cto", "dev1", "eng1", "cto")
    assert find_cycle(ORG, "dev1", "eng2") is None
    assert find_cycle(ORG, "dev1", None) is None
    assert find_cycle(ORG, "dev1", "dev1") == ("dev1", "dev1")


def test_find_cycle_ignores_unrelated_pre_existing_cycles() -> None:
    assert find_cycle({"x": "y", "y": "x"}, "z", "x") is None


def test_reports_below_a_manager() -> None:
    assert set(reports_below(ORG, "cto")) == {"eng1", "eng2", "dev1", "dev2"}
    assert reports_below(ORG, "dev1") == ()
    assert reports_below(ORG, "vp-sales") == ("sales1",)


def test_index_is_nearest_first_and_answers_many_managers_at_once() -> None:
    index = ReportsIndex.from_managers(ORG)
    below = index.all_below("ceo")
    assert below[0] == "cto"
    assert set(below[1:3]) == {"eng1", "eng2"}
    assert index.direct_reports("cto") == ("eng1", "eng2")
    assert set(index.all_below_any(["eng1", "vp-sales", "eng1"])) == {"dev1", "dev2", "sales1"}


def test_index_agrees_with_chains_on_a_large_random_tree() -> None:
    rng = random.Random(7)
    managers: dict[str, str | None] = {"e0": None}
    for number in range(1, 3000):
        managers[f"e{number}"] = f"e{rng.randrange(number)}"
    index = ReportsIndex.from_managers(managers)
    chains = {employee: management_chain(managers, employee) for employee in managers}
    for manager in rng.sample(sorted(managers), 40):
        expected = {employee for employee, chain in chains.items() if manager in chain}
        found = index.all_below(manager)
        assert len(found) == len(set(found))
        assert set(found) == expected


def test_reporting_tree_follows_manager_changes() -> None:
    tree = ReportingTree({"ceo": None, "vp": "ceo", "dev": "vp", "ops": "ceo"})
    assert tree.chain("dev") == ("vp", "ceo")
    assert tree.all_below("ceo") == ("ops", "vp", "dev")
    tree.set_manager("vp", "ops")
    assert tree.chain("dev") == ("vp", "ops", "ceo"), "the report's chain moved with its manager"
    assert tree.direct_reports("ceo") == ("ops",)
    assert tree.all_below("ops") == ("vp", "dev")
    tree.set_manager("new", "dev")
    assert tree.manages_someone("dev") and not tree.manages_someone("new")
    assert tree.chain("new") == ("dev", "vp", "ops", "ceo")
    tree.set_manager("dev", None)
    assert tree.all_below("vp") == () and tree.chain("new") == ("dev",)
    assert reports_below(tree.managers, "dev") == tree.all_below("dev") == ("new",)
