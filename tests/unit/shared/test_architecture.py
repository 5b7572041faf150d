"""The one anatomy, checked over the source tree: layers point inward, protobuf stops at the edges, no
import circles, CloudEvents types only from the topic registry, and consumers as the registry lists."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ROOT / "services"
SERVICE_NAMES = ("enrollment", "matching", "session", "notification")
WIRE_PACKAGES = ("mentoring", "google.protobuf", "grpc", "grpc_status", "google.rpc")
# What a pure domain may import besides the standard library and its own service's domain.
DOMAIN_ALLOWED = (
    "numpy",
    "scipy",
    "ortools",
    "networkx",
    "icalendar",
    "services.shared.errors",
    "services.shared.ids",
)
CE_TYPE_LITERAL = re.compile(r"^mentoring\.[a-z_]+\.[a-z_]+\.[a-z_]+\.v\d+$")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def layer(self) -> str | None:
        parts = self.name.split(".")
        return parts[2] if len(parts) > 2 and parts[1] in SERVICE_NAMES else None

    @property
    def service(self) -> str | None:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in SERVICE_NAMES else None


def _modules() -> list[Module]:
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[1] == "contracts":
            continue
        name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        found.append(Module(name, path, ast.parse(path.read_text(), str(path))))
    return found


MODULES = _modules()
MODULE_NAMES = {module.name for module in MODULES}


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:``: imported for annotations only, never at run time."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for statement in node.body for child in ast.walk(statement))
    return skipped


def _imports(module: Module, *, for_annotations: bool = False) -> Iterator[str]:
    """Every module ``module`` imports at run time, and with ``for_annotations`` also those imported
    under ``if TYPE_CHECKING:`` (``from a import b`` yields ``a.b`` if that is a module of ours, else
    ``a``)."""
    skipped = set() if for_annotations else _type_checking_nodes(module.tree)
    for node in ast.walk(module.tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in MODULE_NAMES else node.module


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations(layers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module.name} imports {imported}"
        for module in MODULES
        if module.layer in layers
        for imported in _imports(module)
        if any(_is_under(imported, package) for package in forbidden)
    ]


def test_no_protobuf_or_grpc_in_domain_or_service_layer() -> None:
    assert _violations(("domain", "service_layer"), WIRE_PACKAGES) == []


def test_domain_is_pure() -> None:
    impure = []
    for module in MODULES:
        if module.layer != "domain":
            continue
        own_domain = f"services.{module.service}.domain"
        for imported in _imports(module):
            top = imported.split(".")[0]
            if _is_under(imported, own_domain) or any(_is_under(imported, ok) for ok in DOMAIN_ALLOWED):
                continue
            if top == "services" or not _is_stdlib(top):
                impure.append(f"{module.name} imports {imported}")
    assert impure == []


def _is_stdlib(top: str) -> bool:
    import sys

    return top in sys.stdlib_module_names or top == "__future__"


def test_layers_point_inward() -> None:
    """entrypoints -> service_layer -> adapters -> domain: nothing imports a layer above its own."""
    above = {
        "domain": ("adapters", "service_layer", "entrypoints"),
        "adapters": ("service_layer", "entrypoints"),
    }
    upward = []
    for module in MODULES:
        if module.layer not in above:
            continue
        for imported in _imports(module):
            parts = imported.split(".")
            inside_a_service = len(parts) > 2 and parts[0] == "services" and parts[1] in SERVICE_NAMES
            if inside_a_service and parts[2] in above[module.layer]:
                upward.append(f"{module.name} imports {imported}")
    assert upward == []


def test_services_do_not_import_each_other() -> None:
    crossing = [
        f"{module.name} imports {imported}"
        for module in MODULES
        if module.service is not None
        for imported in _imports(module)
        if imported.split(".")[0] == "services"
        and len(imported.split(".")) > 1
        and imported.split(".")[1] in SERVICE_NAMES
        and imported.split(".")[1] != module.service
    ]
    assert crossing == []


def test_no_import_cycles() -> None:
    """Not even one hidden behind ``TYPE_CHECKING``: a circle of meaning is a circle."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for module in MODULES:
        graph.add_node(module.name)
        for imported in _imports(module, for_annotations=True):
            if imported in MODULE_NAMES and imported != module.name:
                graph.add_edge(module.name, imported)
    cycles = [
        sorted(component) for component in nx.strongly_connected_components(graph) if len(component) > 1
    ]
    assert cycles == []


def test_cloudevents_types_are_written_only_in_the_registry() -> None:
    literals = []
    for module in MODULES:
        if module.name == "services.shared.topics":
            continue
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and CE_TYPE_LITERAL.match(node.value)
            ):
                literals.append(f"{module.name}:{node.lineno} {node.value}")
    assert literals == []


def test_event_sources_are_written_only_in_the_registry() -> None:
    """Events get their ``ce_source`` from ``topics.source_of``; nobody builds a CloudEvent by hand."""
    hand_built = []
    for module in MODULES:
        if module.name.startswith("services.shared."):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in (
                "CloudEvent",
                "new_event",
            ):
                hand_built.append(f"{module.name}:{node.lineno}")
    assert hand_built == []


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_consumers_are_those_the_registry_lists(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a service subscribes it (``runtime.consume`` refuses a topic or type the registry does
    not list); here also the other way round: every topic the registry says it consumes, it does."""
    import importlib

    from services.shared.topics import TOPICS

    monkeypatch.setenv("MENTORING_DATA_DIR", str(tmp_path))
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    runtime = bootstrap.build()
    listed = {topic.name for topic in TOPICS.values() if service in topic.consumers}
    assert set(runtime.consumed_topics) == listed
