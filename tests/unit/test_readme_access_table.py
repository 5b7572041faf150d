"""The README's table of who may call each RPC is the services' own access tables, not a copy that drifts."""

from __future__ import annotations

from services.access_table import TABLES, table
from tests.support.kafka import REPO_ROOT


def test_the_readme_shows_the_access_tables_as_they_are() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert table() in readme, "README.md: paste the output of `python -m services.access_table`"


def test_every_rpc_of_every_service_has_a_row() -> None:
    rows = table().splitlines()[2:]
    assert len(rows) == sum(len(access.service.methods) for access in TABLES)
    assert {row.split(" | ")[0].lstrip("| ") for row in rows} >= {
        "Enrollment.GetEmployeeContact",
        "Matching.RunMatching",
    }
