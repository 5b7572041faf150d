"""The policy the handlers are bound to (see ``handlers.handlers``)."""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.config import MatchingSettings


@dataclass(frozen=True, slots=True)
class Policy:
    """The service's own knobs (from MatchingSettings) that handlers need."""

    response_window_default_hours: int = 72
    manual_min_score_share: float = 0.2
    solver_time_limit_seconds: float = 20.0
    solver_workers: int = 2
    solver_memory_limit_mib: int = 0  # 0: no cap

    @classmethod
    def from_settings(cls, settings: MatchingSettings) -> Policy:
        return cls(
            response_window_default_hours=settings.response_window_default_hours,
            manual_min_score_share=settings.manual_min_score_share,
            solver_time_limit_seconds=settings.solver_time_limit_seconds,
            solver_workers=settings.solver_workers,
            solver_memory_limit_mib=settings.solver_memory_limit_mib,
        )
