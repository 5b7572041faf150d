"""Why someone is unmatched: stable codes, counts of the rules that excluded their counterparts, texts.

Texts carry counts and rule names only, never another person's id or name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from services.matching.domain.candidates import CandidateEvaluator
from services.matching.domain.encoding import IntArray
from services.matching.domain.model import (
    Participant,
    ProgramSettings,
    Unmatched,
    UnmatchedCode,
)
from services.matching.domain.rules import RULE_ORDER, HardRule, mentor_and_mentee_roles

_DIAGNOSIS_CHUNK = 256


@dataclass(frozen=True, slots=True)
class RuleDiagnosis:
    dominant_rule: str | None
    rule_counts: dict[str, int]
    counterparts: int


def dominant_rule(totals: Mapping[str, int], alone: Mapping[str, int]) -> str | None:
    """The rule whose relaxation alone would open the most pairs; if none would, the one excluding most."""
    ranked = [rule for rule in RULE_ORDER if rule in totals]
    best_alone = max(ranked, key=lambda rule: alone.get(rule, 0), default=None)
    if best_alone is not None and alone.get(best_alone, 0) > 0:
        return str(best_alone)
    best_total = max(ranked, key=lambda rule: totals.get(rule, 0), default=None)
    if best_total is not None and totals.get(best_total, 0) > 0:
        return str(best_total)
    return None


def diagnose(evaluator: CandidateEvaluator, positions: IntArray, *, mentees: bool) -> list[RuleDiagnosis]:
    """Rule counts of each given mentee (``mentees``) or mentor against all its counterparts."""
    out: list[RuleDiagnosis] = []
    counterparts = evaluator.shape[1] if mentees else evaluator.shape[0]
    for start in range(0, positions.size, _DIAGNOSIS_CHUNK):
        chunk = positions[start : start + _DIAGNOSIS_CHUNK]
        if mentees:
            totals, alone = evaluator.rule_counts(rows=chunk, axis=1)
        else:
            totals, alone = evaluator.rule_counts(cols=chunk, axis=0)
        for k in range(chunk.size):
            counts = {rule: int(values[k]) for rule, values in totals.items() if values[k]}
            alone_k = {rule: int(values[k]) for rule, values in alone.items()}
            out.append(RuleDiagnosis(dominant_rule(counts, alone_k), counts, counterparts))
    return out


def no_eligible_text(counterpart: str, diagnosis: RuleDiagnosis) -> str:
    if diagnosis.counterparts == 0:
        return f"the program has no {counterpart}s"
    if diagnosis.dominant_rule is None:
        return f"no {counterpart} satisfies the hard rules"
    return (
        f"no {counterpart} satisfies the hard rules; rule '{diagnosis.dominant_rule}' excludes "
        f"{diagnosis.rule_counts.get(diagnosis.dominant_rule, 0)} of {diagnosis.counterparts} {counterpart}s"
    )


def no_eligible(
    participant: Participant, code: UnmatchedCode, counterpart: str, diagnosis: RuleDiagnosis
) -> Unmatched:
    return Unmatched(
        participant_id=participant.participant_id,
        role=participant.role,
        code=code,
        text=no_eligible_text(counterpart, diagnosis),
        dominant_rule=diagnosis.dominant_rule,
        rule_counts=diagnosis.rule_counts,
    )


def simple(participant: Participant, code: UnmatchedCode, text: str, *, rule: str | None = None) -> Unmatched:
    return Unmatched(
        participant_id=participant.participant_id,
        role=participant.role,
        code=code,
        text=text,
        dominant_rule=rule,
    )


def gate(
    participants: Sequence[Participant],
    settings: ProgramSettings,
    eligibility: Callable[[Participant], str | None] | None,
) -> tuple[list[Participant], list[Participant], list[Unmatched]]:
    """Splits a pool into (mentors, mentees) that take part, and reasons for those that do not.

    For PEER programs both lists are the peers.
    """
    mentor_role, mentee_role = mentor_and_mentee_roles(settings.format)
    mentors: list[Participant] = []
    mentees: list[Participant] = []
    turned_away: list[Unmatched] = []
    for person in participants:
        reason = person.ineligible_reason or (eligibility(person) if eligibility is not None else None)
        if reason is not None:
            turned_away.append(simple(person, UnmatchedCode.INELIGIBLE, reason, rule=HardRule.ELIGIBILITY))
        elif person.role not in (mentor_role, mentee_role):
            text = f"role '{person.role}' takes no part in a {settings.format} program"
            turned_away.append(simple(person, UnmatchedCode.ROLE_NOT_IN_FORMAT, text, rule=HardRule.ROLE))
        else:
            if person.role is mentor_role:
                mentors.append(person)
            if person.role is mentee_role:
                mentees.append(person)
    return mentors, mentees, turned_away


def capacity_text(person: Participant) -> str:
    return (
        f"no capacity left: capacity {person.capacity}, global cap {person.global_cap}, "
        f"{person.load_elsewhere} active matches elsewhere"
    )
