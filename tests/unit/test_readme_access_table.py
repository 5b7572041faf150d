"""The README's table of who may call each RPC is the services' own access tables, not a copy that drifts."""

from __future__ import annotations

from mentoring.v1 import common_pb2, enrollment_pb2, events_pb2, matching_pb2, notification_pb2, session_pb2

from services.access_table import TABLES, table
from tests.support.kafka import REPO_ROOT


def test_the_readme_shows_the_access_tables_as_they_are() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert table() in readme, "README.md: paste the output of `python -m services.access_table`"


def test_every_service_of_the_contracts_has_a_table() -> None:
    contracts = [enrollment_pb2, matching_pb2, session_pb2, notification_pb2, events_pb2, common_pb2]
    services = {
        service.full_name for module in contracts for service in module.DESCRIPTOR.services_by_name.values()
    }
    assert {access.service.full_name for access in TABLES} == services
