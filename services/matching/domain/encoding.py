"""Whole pools encoded for vectorised hard rules and scores (the twin of ``rules.check_pair`` /
``scoring``, evaluated by ``candidates``).

A program's mentors are encoded once into a ``MentorIndex`` (numpy arrays, bitsets, sparse skill
matrices, inverted indexes of management chains and past partners); mentees are encoded against it into a
``MenteeBlock``. Vocabularies come from the mentors: a mentee's skill, language, department or location
that no mentor has can never be shared, so it needs no column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from services.matching.domain.model import (
    MAX_NOMINATIONS,
    Participant,
    ProgramFormat,
    ProgramSettings,
)
from services.matching.domain.rules import (
    capacity_needed,
    effective_reference_date,
    working_interval_utc,
)

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
Bits = npt.NDArray[np.uint64]

INFEASIBLE: Final = np.iinfo(np.int32).min
_UNKNOWN: Final = -1


def _vocabulary(groups: Iterable[Iterable[str]]) -> dict[str, int]:
    vocabulary: dict[str, int] = {}
    for group in groups:
        for item in group:
            vocabulary.setdefault(item, len(vocabulary))
    return vocabulary


def _bitsets(groups: Sequence[Iterable[str]], vocabulary: Mapping[str, int]) -> Bits:
    words = max(1, (len(vocabulary) + 63) // 64)
    bits = np.zeros((len(groups), words), dtype=np.uint64)
    for row, group in enumerate(groups):
        for item in group:
            position = vocabulary.get(item)
            if position is not None:
                bits[row, position >> 6] |= np.uint64(1 << (position & 63))
    return bits


def any_shared(rows: Bits, cols: Bits) -> BoolArray:
    shared: BoolArray = (rows[:, None, 0] & cols[None, :, 0]) != 0
    for word in range(1, rows.shape[1]):
        shared |= (rows[:, None, word] & cols[None, :, word]) != 0
    return shared


def _incidence(groups: Sequence[Iterable[str]], vocabulary: Mapping[str, int]) -> sp.csr_matrix:
    indptr = [0]
    indices: list[int] = []
    for group in groups:
        indices.extend(sorted({vocabulary[item] for item in group if item in vocabulary}))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.int32)
    return sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(groups), max(len(vocabulary), 1)),
    )


def _ids(values: Sequence[str], vocabulary: Mapping[str, int], unknown: int) -> Int32Array:
    return np.fromiter((vocabulary.get(value, unknown) if value else _UNKNOWN for value in values), np.int32)


class MentorIndex:
    """The counterparts of one program (mentors, or all peers), encoded once.

    Keep one per live program to answer late mentees quickly; ``loads`` (matches already held in this
    program, per mentor position) feed the capacity rule.
    """

    def __init__(self, mentors: Sequence[Participant], settings: ProgramSettings) -> None:
        self.participants: tuple[Participant, ...] = tuple(mentors)
        self.settings = settings
        self.reference_date: date = effective_reference_date(settings)
        people = self.participants
        self.position_by_employee = {p.employee_id: index for index, p in enumerate(people)}
        self.position_by_participant = {p.participant_id: index for index, p in enumerate(people)}
        self.skills = _vocabulary(p.skills_offered for p in people)
        self.languages = _vocabulary(p.languages for p in people)
        self.departments = _vocabulary((p.department,) for p in people if p.department)
        self.locations = _vocabulary((p.location,) for p in people if p.location)
        self.reverse_skills = {skill: index for index, skill in enumerate(sorted(settings.reverse_skills))}
        self.grade = np.fromiter((p.grade for p in people), np.int32, len(people))
        self.department = _ids([p.department for p in people], self.departments, _UNKNOWN)
        self.location = _ids([p.location for p in people], self.locations, _UNKNOWN)
        self.prefers_other = np.fromiter((p.prefers_other_department for p in people), np.bool_, len(people))
        self.remaining = np.fromiter((p.remaining_capacity for p in people), np.int64, len(people))
        intervals = [working_interval_utc(p, self.reference_date) for p in people]
        self.interval_table, self.interval_class = _interval_classes(intervals)
        self.language_bits = _bitsets([p.languages for p in people], self.languages)
        self.reverse_bits = _bitsets([p.skills_offered for p in people], self.reverse_skills)
        self.offered = _incidence([p.skills_offered for p in people], self.skills)
        self.chain_members: dict[str, list[int]] = {}
        self.past_members: dict[str, list[int]] = {}
        self.declined_members: dict[str, list[int]] = {}
        self.do_not_pair_members: dict[str, list[int]] = {}
        for index, person in enumerate(people):
            for employee in person.do_not_pair_ids:
                self.do_not_pair_members.setdefault(employee, []).append(index)
            for employee in person.management_chain:
                self.chain_members.setdefault(employee, []).append(index)
            for employee in person.past_partner_ids:
                self.past_members.setdefault(employee, []).append(index)
            for employee in person.declined_partner_ids:
                self.declined_members.setdefault(employee, []).append(index)

    def __len__(self) -> int:
        return len(self.participants)

    def room(self, loads: npt.NDArray[np.int64] | None = None) -> IntArray:
        """Mentees each mentor can still take in this program (group: bounded by the group size)."""
        room = self.remaining.copy()
        if self.settings.format is ProgramFormat.GROUP:
            np.minimum(room, self.settings.group_max_size, out=room)
        return room if loads is None else room - loads

    def capacity_ok(self, loads: npt.NDArray[np.int64] | None = None) -> BoolArray:
        room = self.room(loads)
        if loads is None:
            return room >= capacity_needed(self.settings)
        return room >= np.where(loads > 0, 1, capacity_needed(self.settings))


def _interval_classes(intervals: Sequence[tuple[int, int]]) -> tuple[IntArray, Int32Array]:
    if not intervals:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int32)
    table, classes = np.unique(np.asarray(intervals, dtype=np.int64), axis=0, return_inverse=True)
    return table, classes.astype(np.int32).ravel()


@dataclass(frozen=True, slots=True)
class SparsePairs:
    rows: IntArray
    cols: IntArray
    values: IntArray

    @staticmethod
    def build(triples: Iterable[tuple[int, int, int]]) -> SparsePairs:
        array = np.asarray(list(triples), dtype=np.int64).reshape(-1, 3)
        return SparsePairs(array[:, 0].copy(), array[:, 1].copy(), array[:, 2].copy())


class MenteeBlock:
    """Mentees (or all peers) of one program, encoded against a ``MentorIndex``."""

    def __init__(self, mentees: Sequence[Participant], index: MentorIndex) -> None:
        self.participants: tuple[Participant, ...] = tuple(mentees)
        self.index = index
        people = self.participants
        n = len(people)
        self.grade = np.fromiter((p.grade for p in people), np.int32, n)
        self.department = _ids([p.department for p in people], index.departments, len(index.departments))
        # A department no mentor has differs from all of theirs; an empty one is unknown (never diverse).
        # A location no mentor has, or none, is never "the same location" (-2 matches no mentor's id).
        self.location = _ids([p.location for p in people], index.locations, -2)
        self.location[self.location == _UNKNOWN] = -2
        self.prefers_other = np.fromiter((p.prefers_other_department for p in people), np.bool_, n)
        self.capacity_ok = np.fromiter((p.remaining_capacity >= 1 for p in people), np.bool_, n)
        intervals = [working_interval_utc(p, index.reference_date) for p in people]
        self.interval_table, self.interval_class = _interval_classes(intervals)
        self.language_bits = _bitsets([p.languages for p in people], index.languages)
        self.reverse_bits = _bitsets([p.skills_wanted for p in people], index.reverse_skills)
        self.wanted = _incidence([p.skills_wanted for p in people], index.skills)
        self.wanted_size = np.fromiter((len(p.skills_wanted) for p in people), np.int64, n)
        self.goals = _incidence([p.goal_skill_tags for p in people], index.skills)
        self.goal_size = np.fromiter((len(p.goal_skill_tags) for p in people), np.int64, n)
        self.excluded_self, self.excluded_chain, self.nominations, self.repeats = self._sparse_pairs()
        self.excluded_declined = self._either_way_pairs(
            lambda p: p.declined_partner_ids, index.declined_members
        )
        self.excluded_do_not_pair = self._either_way_pairs(
            lambda p: p.do_not_pair_ids, index.do_not_pair_members
        )
        self.excluded_must_haves = self._must_have_pairs()

    def __len__(self) -> int:
        return len(self.participants)

    def _either_way_pairs(
        self, listed: Callable[[Participant], frozenset[str]], members: Mapping[str, list[int]]
    ) -> SparsePairs:
        """Pairs that either side lists (declined before, or not to be paired)."""
        index = self.index
        pairs: set[tuple[int, int, int]] = set()
        for row, person in enumerate(self.participants):
            for employee in listed(person):
                col = index.position_by_employee.get(employee)
                if col is not None:
                    pairs.add((row, col, 1))
            pairs.update((row, col, 1) for col in members.get(person.employee_id, ()))
        return SparsePairs.build(sorted(pairs))

    def _must_have_pairs(self) -> dict[str, SparsePairs]:
        """Per must-have kind, the (mentee, mentor) pairs where the mentor misses the mentee's must-have
        (twin of ``rules.must_have_violations``)."""
        index = self.index
        n_mentors = len(index)
        offered = index.offered.tocsc()
        failing: dict[str, list[tuple[int, int, int]]] = {
            "skill": [],
            "language": [],
            "location": [],
            "grade": [],
        }

        def add(kind: str, row: int, ok: BoolArray) -> None:
            failing[kind].extend((row, int(col), 1) for col in np.flatnonzero(~ok))

        for row, person in enumerate(self.participants):
            if person.must_have_skills:
                ok = np.ones(n_mentors, dtype=np.bool_)
                for skill in person.must_have_skills:
                    position = index.skills.get(skill)
                    if position is None:
                        ok[:] = False
                    else:
                        ok &= offered[:, position].toarray().ravel() > 0
                add("skill", row, ok)
            if person.must_have_languages:
                ok = np.ones(n_mentors, dtype=np.bool_)
                for language in person.must_have_languages:
                    position = index.languages.get(language)
                    if position is None:
                        ok[:] = False
                    else:
                        bit = np.uint64(1 << (position & 63))
                        ok &= (index.language_bits[:, position >> 6] & bit) != 0
                add("language", row, ok)
            if person.must_share_location:
                add("location", row, index.location == self.location[row])
            if person.must_have_min_grade is not None:
                add("grade", row, index.grade >= person.must_have_min_grade)
        return {kind: SparsePairs.build(pairs) for kind, pairs in failing.items()}

    def _sparse_pairs(self) -> tuple[SparsePairs, SparsePairs, SparsePairs, SparsePairs]:
        index = self.index
        by_employee = index.position_by_employee
        selves: list[tuple[int, int, int]] = []
        chains: list[tuple[int, int, int]] = []
        nominations: list[tuple[int, int, int]] = []
        repeats: set[tuple[int, int, int]] = set()
        for row, person in enumerate(self.participants):
            for col in {
                by_employee.get(person.employee_id),
                index.position_by_participant.get(person.participant_id),
            }:
                if col is not None:
                    selves.append((row, col, 1))
            below = index.chain_members.get(person.employee_id, ())
            above = (by_employee[e] for e in person.management_chain if e in by_employee)
            chains.extend((row, col, 1) for col in {*below, *above})
            for rank, employee in enumerate(person.nominations[:MAX_NOMINATIONS]):
                col = by_employee.get(employee)
                if col is not None:
                    nominations.append((row, col, rank))
            for employee in person.past_partner_ids:
                col = by_employee.get(employee)
                if col is not None:
                    repeats.add((row, col, 1))
            repeats.update((row, col, 1) for col in index.past_members.get(person.employee_id, ()))
        return (
            SparsePairs.build(selves),
            SparsePairs.build(chains),
            SparsePairs.build(nominations),
            SparsePairs.build(sorted(repeats)),
        )
