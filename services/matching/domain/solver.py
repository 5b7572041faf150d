"""The one entry point: ``solve(pool, settings)`` picks the solver that fits the program."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from services.matching.domain.assignment import solve_one_on_one
from services.matching.domain.choice import solve_choice
from services.matching.domain.group import solve_group
from services.matching.domain.model import MatchingResult, Participant, Pool, ProgramFormat, ProgramSettings
from services.matching.domain.multi import solve_multi_mentor
from services.matching.domain.peer import solve_peer
from services.matching.domain.program import PreparedProgram, prepare
from services.matching.domain.speed import solve_speed


def solver_name(settings: ProgramSettings) -> str:
    """Which solver ``solve`` uses for these settings (stable names, e.g. for metrics labels)."""
    if settings.format is ProgramFormat.PEER:
        return "peer"
    if settings.format is ProgramFormat.SPEED:
        return "speed"
    if settings.format is ProgramFormat.GROUP:
        return "group"
    if settings.multi_mentor_per_skill:
        return "multi_mentor"
    if settings.mentee_choice:
        return "deferred_acceptance"
    return "assignment"


_SOLVERS: dict[str, Callable[[PreparedProgram], MatchingResult]] = {
    "peer": solve_peer,
    "speed": solve_speed,
    "group": solve_group,
    "multi_mentor": solve_multi_mentor,
    "deferred_acceptance": solve_choice,
    "assignment": solve_one_on_one,
}


def solve(
    pool: Pool,
    settings: ProgramSettings,
    *,
    eligibility: Callable[[Participant], str | None] | None = None,
) -> MatchingResult:
    """Matches a program's pool under its hard rules, maximising its objective.

    - ONE_ON_ONE / REVERSE (any delivery): capacitated assignment, min-cost flow, proven optimal on the
      full graph; ``multi_mentor_per_skill``: one mentor per requested skill area; ``mentee_choice``:
      deferred acceptance on the mentees' nominations.
    - GROUP: min-cost flow, then a HiGHS MILP certified on the full graph (group size bounds).
      PEER: the bipartite double cover by min-cost flow (a proven bound), blossom on small programs.
      SPEED: rotation schedule. Every solver is deterministic: work limits, never a wall clock.

    Never raises on an empty or infeasible program: everyone unmatched gets a reason. ``eligibility``
    is an optional hook returning why a participant may not take part (None = eligible); it adds to the
    ``ineligible_reason`` set upstream.
    """
    started = time.perf_counter()
    prepared = prepare(pool, settings, eligibility)
    result = _SOLVERS[solver_name(settings)](prepared)
    quality = dataclasses.replace(result.quality, solve_seconds=time.perf_counter() - started)
    return dataclasses.replace(result, quality=quality)
