"""What a matching run reports: the matches it proposed (or would propose, for a preview), who stayed
unmatched and why, and the quality of the solve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from services.matching.domain.lifecycle import MatchRecord
from services.matching.domain.model import QualityReport, Unmatched

CHANGED_DURING_RUN: Final = "changed_during_run"
CHANGED_DURING_RUN_TEXT: Final = (
    "the pool changed while the solver ran (matched meanwhile, a hard rule now fails, or the mentor's "
    "cap across programs was reached by another match meanwhile); "
    "the next run or an incremental proposal will place this participant"
)


@dataclass(frozen=True, slots=True)
class RunReport:
    program_id: str
    matches: tuple[MatchRecord, ...]
    unmatched: tuple[Unmatched, ...]
    quality: QualityReport
    run_id: str = ""  # none for a preview
    # Mentees (peers) the solver matched whose match no longer held on fresh data: left out.
    changed_during_run: tuple[str, ...] = ()
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run stored earlier, kept as it was answered (the replay of its request id)."""

    encoded: bytes
