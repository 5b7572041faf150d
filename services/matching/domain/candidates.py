"""Vectorised hard rules and scores of (mentee, mentor) pairs over the encodings of ``encoding``.

``candidate_matrix`` yields, for every (mentee, mentor), the score in milli-points or ``INFEASIBLE``
when a hard rule forbids the pair, in row chunks so that 10,000 x 2,000 pairs stay within ~100 MB:

- grade rules and the seniority-gap component: one broadcast difference and a table look-up;
- working-hours overlap: a small table over the distinct (UTC start, end) intervals, gathered;
- languages and reverse skills: uint64 bitsets, AND-ed;
- skills and goals coverage: sparse products (wanted x offered) added only where they are non-zero,
  together with nominations and repeat pairings;
- self, management chains and declined pairs: sparse pair lists from inverted indexes, cleared in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from services.matching.domain.encoding import (
    INFEASIBLE,
    BoolArray,
    Int32Array,
    IntArray,
    MenteeBlock,
    MentorIndex,
    SparsePairs,
    any_shared,
)
from services.matching.domain.model import (
    MAX_NOMINATIONS,
    SCORE_SCALE,
    Delivery,
    ProgramFormat,
    ProgramSettings,
    ScoreBreakdown,
)
from services.matching.domain.rules import (
    HardRule,
    overlap_minutes,
)
from services.matching.domain.scoring import component_units, seniority_gap_value

ROW_CHUNK: Final = 256


def _units(weight: float, values: npt.NDArray[np.float64]) -> IntArray:
    """Vector twin of ``scoring.component_units`` (same float operations, same rounding)."""
    return np.rint(weight * values * SCORE_SCALE).astype(np.int64)


def _sparse_score_matrix(block: MenteeBlock, index: MentorIndex, settings: ProgramSettings) -> sp.csr_matrix:
    """Nominations and repeat pairings: the components that are zero for almost every pair."""
    weights = settings.weights
    shape = (len(block), len(index))
    parts: list[tuple[IntArray, IntArray, IntArray]] = []
    noms = block.nominations
    if weights.nomination and noms.rows.size:
        values = (MAX_NOMINATIONS - noms.values) / MAX_NOMINATIONS
        parts.append((noms.rows, noms.cols, _units(weights.nomination, values)))
    repeats = block.repeats
    if weights.repeat_pairing and repeats.rows.size:
        penalty = _units(weights.repeat_pairing, np.ones(repeats.rows.size))
        parts.append((repeats.rows, repeats.cols, -penalty))
    if not parts:
        return sp.csr_matrix(shape, dtype=np.int32)
    rows, cols, data = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return sp.coo_matrix((data.astype(np.int32), (rows, cols)), shape=shape).tocsr()  # duplicates summed


def _per_item_units(weight: float, sizes: IntArray) -> IntArray:
    """Vector twin of ``scoring.per_item_units``."""
    return np.where(sizes > 0, np.floor(weight * SCORE_SCALE / np.maximum(sizes, 1)), 0).astype(np.int64)


def _gap_table(block: MenteeBlock, index: MentorIndex, settings: ProgramSettings) -> tuple[Int32Array, int]:
    """Seniority-gap points for every possible grade difference (mentor - mentee), and the offset."""
    if not len(block) or not len(index):
        return np.zeros(1, dtype=np.int32), 0
    low = int(index.grade.min()) - int(block.grade.max())
    high = int(index.grade.max()) - int(block.grade.min())
    table = np.fromiter(
        (
            component_units(settings.weights.seniority_gap, seniority_gap_value(diff, 0, settings))
            for diff in range(low, high + 1)
        ),
        np.int32,
        high - low + 1,
    )
    return table, -low


def _overlap_ok_table(block: MenteeBlock, index: MentorIndex, settings: ProgramSettings) -> BoolArray:
    """Whether each distinct mentee working interval overlaps each distinct mentor one long enough."""
    table = np.zeros((len(block.interval_table), len(index.interval_table)), dtype=np.bool_)
    for row, mentee_interval in enumerate(block.interval_table):
        for col, mentor_interval in enumerate(index.interval_table):
            minutes = overlap_minutes(
                (int(mentee_interval[0]), int(mentee_interval[1])),
                (int(mentor_interval[0]), int(mentor_interval[1])),
            )
            table[row, col] = minutes >= settings.min_overlap_minutes
    return table


@dataclass(frozen=True, slots=True)
class _ClassTable:
    """A value that depends on one mentee attribute, for every class of that attribute x every mentor.

    A few dozen classes (grades, timezones, language sets...) stand for thousands of mentees, so a chunk
    of the full matrix is a row copy (``numpy.take``) instead of a broadcast computation or a gather.
    """

    class_of: IntArray
    rows: npt.NDArray[Any]

    @staticmethod
    def build(
        keys: npt.NDArray[np.generic], compute: Callable[[IntArray], npt.NDArray[np.generic]]
    ) -> _ClassTable:
        if keys.shape[0] == 0:
            return _ClassTable(np.zeros(0, dtype=np.int64), compute(np.zeros(0, dtype=np.int64)))
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        return _ClassTable(inverse.ravel().astype(np.int64), compute(first.astype(np.int64)))

    def take(self, rows: IntArray, cols: IntArray | None) -> npt.NDArray[Any]:
        table = self.rows if cols is None else self.rows[:, cols]
        return np.take(table, self.class_of[rows], axis=0)


def _local_positions(
    pairs: SparsePairs, rows: IntArray, cols: IntArray, n_rows: int, n_cols: int
) -> tuple[IntArray, IntArray]:
    """Positions, inside the rows x cols sub-matrix, of the pairs that fall in it."""
    row_at = np.full(n_rows, -1, dtype=np.int64)
    row_at[rows] = np.arange(rows.size)
    col_at = np.full(n_cols, -1, dtype=np.int64)
    col_at[cols] = np.arange(cols.size)
    local_rows, local_cols = row_at[pairs.rows], col_at[pairs.cols]
    inside = (local_rows >= 0) & (local_cols >= 0)
    return local_rows[inside], local_cols[inside]


class CandidateEvaluator:
    """Rule masks and scores of (mentee, mentor) sub-matrices; build once per (block, index).

    ``mentor_loads`` (mentees already held in this program, per mentor) narrow the capacity rule, for
    late mentees and manual matches.
    """

    def __init__(
        self,
        block: MenteeBlock,
        index: MentorIndex,
        settings: ProgramSettings,
        *,
        mentor_loads: IntArray | None = None,
    ) -> None:
        self.block = block
        self.index = index
        self.settings = settings
        weights = settings.weights
        self.mentor_capacity_ok = index.capacity_ok(mentor_loads)
        self.sparse_scores = _sparse_score_matrix(block, index, settings)
        # Skills and goals: each covered item is worth a fixed number of milli-points for that mentee, so
        # one sparse x dense product (mentee items weighted, mentor offers) gives both components exactly.
        self.skill_unit = _per_item_units(weights.skills, block.wanted_size)
        self.goal_unit = _per_item_units(weights.goals, block.goal_size)
        weighted = sp.diags(self.skill_unit.astype(np.float32)) @ block.wanted.astype(np.float32)
        weighted = weighted + sp.diags(self.goal_unit.astype(np.float32)) @ block.goals.astype(np.float32)
        self.item_points = sp.csr_matrix(weighted, dtype=np.float32)
        self.offered_dense = index.offered.T.toarray().astype(np.float32)
        self.diversity_units = component_units(weights.diversity, 1.0)
        self._build_tables()

    def _build_tables(self) -> None:
        block, index, settings = self.block, self.index, self.settings
        gap_table, gap_offset = _gap_table(block, index, settings)

        def difference(reps: IntArray) -> Int32Array:
            return index.grade[None, :] - block.grade[reps][:, None]

        def seniority(reps: IntArray) -> BoolArray:
            diff = difference(reps)
            if settings.format is ProgramFormat.PEER:
                return np.abs(diff) <= settings.peer_grade_tolerance
            return diff < 0 if settings.format is ProgramFormat.REVERSE else diff > 0

        def diversity(reps: IntArray) -> Int32Array:
            mentee_department, mentor_department = block.department[reps], index.department
            diverse = (mentee_department[:, None] != mentor_department[None, :]) & (
                (mentee_department >= 0)[:, None] & (mentor_department >= 0)[None, :]
            )
            diverse &= block.prefers_other[reps][:, None] | index.prefers_other[None, :]
            points: Int32Array = diverse.astype(np.int32) * np.int32(self.diversity_units)
            return points

        overlap_ok = _overlap_ok_table(block, index, settings)
        self.seniority = _ClassTable.build(block.grade, seniority)
        self.gap_points = _ClassTable.build(
            block.grade, lambda reps: gap_table[difference(reps) + gap_offset]
        )
        self.diversity = _ClassTable.build(
            np.stack([block.department, block.prefers_other], axis=1), diversity
        )
        self.overlap = _ClassTable.build(
            block.interval_class, lambda reps: overlap_ok[block.interval_class[reps]][:, index.interval_class]
        )
        self.same_location = _ClassTable.build(
            block.location, lambda reps: block.location[reps][:, None] == index.location[None, :]
        )
        self.languages = _ClassTable.build(
            block.language_bits, lambda reps: any_shared(block.language_bits[reps], index.language_bits)
        )
        self.reverse_skill = _ClassTable.build(
            block.reverse_bits, lambda reps: any_shared(block.reverse_bits[reps], index.reverse_bits)
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.block), len(self.index)

    def _rows_cols(self, rows: IntArray | None, cols: IntArray | None) -> tuple[IntArray, IntArray]:
        n_rows, n_cols = self.shape
        return (
            np.arange(n_rows, dtype=np.int64) if rows is None else rows,
            np.arange(n_cols, dtype=np.int64) if cols is None else cols,
        )

    def _dense_rules(
        self, r: IntArray, c: IntArray, cols: IntArray | None
    ) -> Iterator[tuple[HardRule, BoolArray]]:
        """The rules that depend on attributes, as 'satisfied' masks (capacity: broadcastable)."""
        settings = self.settings
        yield HardRule.CAPACITY, self.block.capacity_ok[r][:, None] & self.mentor_capacity_ok[c][None, :]
        grade_rule = HardRule.PEER_GRADE if settings.format is ProgramFormat.PEER else HardRule.SENIORITY
        yield grade_rule, self.seniority.take(r, cols)
        if settings.format is ProgramFormat.REVERSE:
            yield HardRule.REVERSE_SKILL, self.reverse_skill.take(r, cols)
        if settings.delivery is Delivery.IN_PERSON:
            yield HardRule.LOCATION, self.same_location.take(r, cols)
        elif settings.delivery is Delivery.REMOTE:
            yield HardRule.TIMEZONE_OVERLAP, self.overlap.take(r, cols)
        else:
            either = self.overlap.take(r, cols) | self.same_location.take(r, cols)
            yield HardRule.LOCATION, either
            yield HardRule.TIMEZONE_OVERLAP, either
        yield HardRule.LANGUAGE, self.languages.take(r, cols)

    def _sparse_rules(self) -> tuple[tuple[HardRule, SparsePairs], ...]:
        return (
            (HardRule.SELF, self.block.excluded_self),
            (HardRule.MANAGEMENT_CHAIN, self.block.excluded_chain),
            (HardRule.DECLINED, self.block.excluded_declined),
            (HardRule.DO_NOT_PAIR, self.block.excluded_do_not_pair),
            (HardRule.MUST_HAVE_SKILL, self.block.excluded_must_haves["skill"]),
            (HardRule.MUST_HAVE_LANGUAGE, self.block.excluded_must_haves["language"]),
            (HardRule.MUST_HAVE_LOCATION, self.block.excluded_must_haves["location"]),
            (HardRule.MUST_HAVE_GRADE, self.block.excluded_must_haves["grade"]),
        )

    def rule_checks(
        self, rows: IntArray | None = None, cols: IntArray | None = None
    ) -> list[tuple[HardRule, BoolArray]]:
        """Every pair rule with its full 'satisfied' mask over rows x cols. Eligibility and roles are
        settled before encoding, so they are not pair rules here."""
        r, c = self._rows_cols(rows, cols)
        shape = (r.size, c.size)
        checks: list[tuple[HardRule, BoolArray]] = []
        for rule, pairs in self._sparse_rules():
            mask = np.ones(shape, dtype=np.bool_)
            mask[_local_positions(pairs, r, c, *self.shape)] = False
            checks.append((rule, mask))
        for rule, satisfied in self._dense_rules(r, c, cols):
            checks.append((rule, np.broadcast_to(satisfied, shape)))
        return checks

    def feasible(self, rows: IntArray | None = None, cols: IntArray | None = None) -> BoolArray:
        r, c = self._rows_cols(rows, cols)
        mask = np.ones((r.size, c.size), dtype=np.bool_)
        for _, satisfied in self._dense_rules(r, c, cols):
            mask &= satisfied
        for _, pairs in self._sparse_rules():
            mask[_local_positions(pairs, r, c, *self.shape)] = False
        return mask

    def rule_counts(
        self, rows: IntArray | None = None, cols: IntArray | None = None, *, axis: int
    ) -> tuple[dict[str, IntArray], dict[str, IntArray]]:
        """Per rule: how many counterparts it excludes, and how many pairs relaxing it alone would open
        (per row when ``axis`` = 1, per column when ``axis`` = 0).

        Failures are counted per condition, not per rule name: hybrid delivery's "same location or
        enough overlap" is one condition that both ``location`` and ``timezone_overlap`` name, so a pair
        it alone blocks opens when either rule is relaxed."""
        checks = self.rule_checks(rows, cols)
        r, c = self._rows_cols(rows, cols)
        shared = self.settings.delivery is Delivery.HYBRID
        failures = np.zeros((r.size, c.size), dtype=np.int16)
        for rule, satisfied in checks:
            if not (shared and rule is HardRule.TIMEZONE_OVERLAP):  # counted once, with LOCATION
                failures += ~satisfied
        totals: dict[str, IntArray] = {}
        alone: dict[str, IntArray] = {}
        for rule, satisfied in checks:
            totals[rule] = (~satisfied).sum(axis=axis)
            alone[rule] = (~satisfied & (failures == 1)).sum(axis=axis)
        return totals, alone

    def scores(self, rows: IntArray | None = None, cols: IntArray | None = None) -> Int32Array:
        """Score in milli-points of every pair of the sub-matrix (hard rules ignored)."""
        r, c = self._rows_cols(rows, cols)
        total = self.gap_points.take(r, cols).astype(np.int32, copy=False)
        if self.diversity_units:
            total += self.diversity.take(r, cols)
        if self.item_points.nnz:
            offered = self.offered_dense if cols is None else self.offered_dense[:, c]
            total += np.asarray(self.item_points[r] @ offered).astype(np.int32)
        sub = self.sparse_scores[r] if cols is None else self.sparse_scores[r][:, c]
        sub_rows = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
        total[sub_rows, sub.indices] += sub.data.astype(np.int32)
        return total

    def masked_scores(self, rows: IntArray | None = None, cols: IntArray | None = None) -> Int32Array:
        """Scores of rows x cols, ``INFEASIBLE`` where a hard rule forbids the pair."""
        total = self.scores(rows, cols)
        np.copyto(total, INFEASIBLE, where=~self.feasible(rows, cols))
        return total

    def breakdowns(self, rows: IntArray, cols: IntArray) -> list[ScoreBreakdown]:
        """Per-component points of the pairs (rows[k], cols[k]), computed pair by pair."""
        block, index, weights = self.block, self.index, self.settings.weights
        n = rows.size
        width = max(len(index), 1)
        parts: dict[str, IntArray] = {}
        for name, incidence, unit in (
            ("skills", block.wanted, self.skill_unit),
            ("goals", block.goals, self.goal_unit),
        ):
            shared = np.asarray(incidence[rows].multiply(index.offered[cols]).sum(axis=1)).ravel()
            parts[name] = shared.astype(np.int64) * unit[rows]
        keys = (rows * width + cols).tolist()
        noms = block.nominations
        rank_of = dict(zip((noms.rows * width + noms.cols).tolist(), noms.values.tolist(), strict=True))
        ranks = np.fromiter((rank_of.get(key, -1) for key in keys), np.int64, n)
        values = (MAX_NOMINATIONS - ranks) / MAX_NOMINATIONS
        parts["nomination"] = np.where(ranks >= 0, _units(weights.nomination, values), 0)
        mentee_department, mentor_department = block.department[rows], index.department[cols]
        diverse = (
            (mentee_department != mentor_department)
            & (mentee_department >= 0)
            & (mentor_department >= 0)
            & (block.prefers_other[rows] | index.prefers_other[cols])
        )
        parts["diversity"] = diverse * self.diversity_units
        gap_table, gap_offset = _gap_table(block, index, self.settings)
        parts["seniority_gap"] = gap_table[index.grade[cols] - block.grade[rows] + gap_offset]
        repeated = set((block.repeats.rows * width + block.repeats.cols).tolist())
        penalty = component_units(weights.repeat_pairing, 1.0)
        parts["repeat_pairing"] = np.fromiter(
            (-penalty if key in repeated else 0 for key in keys), np.int64, n
        )
        names = list(parts)
        stacked = np.stack([np.asarray(parts[name], dtype=np.int64) for name in names], axis=1).reshape(
            n, len(names)
        )
        return [
            ScoreBreakdown(units=int(row.sum()), component_units=dict(zip(names, map(int, row), strict=True)))
            for row in stacked
        ]


def candidate_matrix(evaluator: CandidateEvaluator, *, chunk: int = ROW_CHUNK) -> Int32Array:
    """Masked scores of all mentees x all mentors (``INFEASIBLE`` where a hard rule forbids the pair)."""
    n_rows, n_cols = evaluator.shape
    out = np.empty((n_rows, n_cols), dtype=np.int32)
    for start in range(0, n_rows, chunk):
        rows = np.arange(start, min(start + chunk, n_rows), dtype=np.int64)
        out[start : start + rows.size] = evaluator.masked_scores(rows)
    return out
