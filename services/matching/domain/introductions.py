"""An introduction by a colleague: it opens the way for a mentee's request to a mentor they nominated
(for one program, or for any when the program is empty). Only a colleague who knows both people may
introduce them (``connected``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Introduction:
    introduction_id: str
    introducer_employee_id: str
    mentee_employee_id: str
    mentor_employee_id: str
    program_id: str


@dataclass(frozen=True, slots=True)
class Acquaintance:
    """What matching knows of a person of one tenant: their management chain (manager first, as their
    latest enrolment states it) and the programs they are enrolled in (not withdrawn)."""

    employee_id: str
    chain: tuple[str, ...] = ()
    programs: frozenset[str] = frozenset()


def knows(colleague: Acquaintance, person: Acquaintance) -> bool:
    """Same team (the same direct manager), one in the other's management line, or a shared program."""
    if colleague.chain and person.chain and colleague.chain[0] == person.chain[0]:
        return True
    if colleague.employee_id in person.chain or person.employee_id in colleague.chain:
        return True
    return bool(colleague.programs & person.programs)


def connected(introducer: Acquaintance, mentee: Acquaintance, mentor: Acquaintance) -> bool:
    """An introducer must know both people, each by one of the ways ``knows`` allows."""
    return knows(introducer, mentee) and knows(introducer, mentor)
