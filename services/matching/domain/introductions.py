"""An introduction by a colleague: it opens the way for a mentee's request to a mentor they nominated
(for one program, or for any when the program is empty)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Introduction:
    introduction_id: str
    introducer_employee_id: str
    mentee_employee_id: str
    mentor_employee_id: str
    program_id: str
