"""The matching service's shape: one handler per command, every consumed event translated into a
command, and no protobuf below the entrypoints and adapters."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from services.matching.entrypoints.consumers import translators
from services.matching.service_layer import commands
from services.matching.service_layer.handlers import handlers
from services.matching.service_layer.policy import Policy
from services.shared.messagebus import Command
from services.shared.topics import TOPICS, types_of_topic

SERVICE = Path(__file__).resolve().parents[3] / "services" / "matching"


def test_every_command_has_exactly_its_handler() -> None:
    declared = {
        value
        for value in vars(commands).values()
        if inspect.isclass(value) and issubclass(value, Command) and value.__module__ == commands.__name__
    }
    assert set(handlers(Policy())) == declared


def test_every_event_of_a_consumed_topic_is_translated() -> None:
    for topic, per_message in translators().items():
        assert "matching" in TOPICS[topic].consumers
        assert set(per_message) == {event_type.message for event_type in types_of_topic(topic)}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_and_service_layer_import_no_protobuf_and_adapters_import_nothing_above_them() -> None:
    for layer in ("domain", "service_layer"):
        for path in (SERVICE / layer).rglob("*.py"):
            wire = {name for name in _imports(path) if name.startswith(("mentoring", "google.protobuf"))}
            assert not wire, f"{path.relative_to(SERVICE)} imports {wire}"
    for path in (SERVICE / "adapters").rglob("*.py"):
        upward = {
            name
            for name in _imports(path)
            if name.startswith(("services.matching.service_layer", "services.matching.entrypoints"))
        }
        assert not upward, f"{path.relative_to(SERVICE)} imports {upward}"
