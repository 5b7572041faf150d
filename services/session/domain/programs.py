"""What the session service knows of a program: when its cohort meets, how sessions are delivered and
how often its relationships meet."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.session.domain.plans import Cadence
from services.shared.errors import FailedPrecondition


class Delivery(enum.StrEnum):
    """Where a session takes place: in person (at a location), remote (a call) or hybrid (either)."""

    UNSPECIFIED = ""
    IN_PERSON = "in_person"
    REMOTE = "remote"
    HYBRID = "hybrid"


@dataclass(frozen=True, slots=True)
class ProgramTerms:
    """What the session service keeps of a program: its tenant, when its cohort meets, and how, and
    who manages it (``manager_ids``: the program managers' employee ids).

    The cohort's dates are whole days: sessions may take place from the start of its first day to the
    end of its last."""

    program_id: str
    tenant: str
    cohort_start: datetime | None = None
    cohort_end: datetime | None = None
    delivery: Delivery = Delivery.UNSPECIFIED
    manager_ids: tuple[str, ...] = ()
    # The program's cadence (SessionCadence): a meeting every ``every_days`` days, ``session_minutes``
    # long; 0: not known (a program stored before the service kept it).
    every_days: int = 0
    session_minutes: int = 0

    @property
    def cadence(self) -> Cadence:
        return Cadence(self.every_days, self.session_minutes)

    @property
    def window_end(self) -> datetime | None:
        return self.cohort_end + timedelta(days=1) if self.cohort_end is not None else None

    def require_within(self, starts_at: datetime, ends_at: datetime) -> None:
        if self.cohort_start is not None and starts_at < self.cohort_start:
            raise FailedPrecondition(
                "outside_program",
                f"the program's cohort starts on {self.cohort_start.date().isoformat()}",
            )
        window_end = self.window_end
        if window_end is not None and ends_at > window_end:
            raise FailedPrecondition(
                "outside_program",
                f"the program's cohort ends on {(window_end - timedelta(days=1)).date().isoformat()}",
            )
