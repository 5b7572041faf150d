"""What the end-to-end tests share: the running platform's processes and what the demo saw."""

from __future__ import annotations

from dataclasses import dataclass

from services.demo import DemoOutcome
from tests.support.processes import ServiceProcess


@dataclass(frozen=True)
class Played:
    processes: dict[str, ServiceProcess]
    outcome: DemoOutcome
