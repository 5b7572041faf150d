"""Benchmark of cadence plans: a cohort of 10,000 relationships starting on the same day is planned at
once, next to a baseline measured in the same run.

Run ``python -m benchmarks.session_plans`` (10,000 relationships) or ``--relationships 1000``.

The cohort runs from Monday 1 March to Tuesday 31 August 2027, across the US and EU daylight-saving
changes. Mentors take one to three mentees (so a mentor's relationships compete for the same hours);
people sit in fourteen time zones (most pairs in one region, some across), most work 09:00-17:00, some
08:00-16:00 or 10:00-18:00, a few a night shift. Cadences: weekly, every two weeks and monthly.

- **plan** (``propose_plan``, the service's own): each relationship in turn, around the slots already
  given to its people; every slot inside both people's working hours.
- **baseline** (no constraints): each occurrence at the cadence's date, booked at the first whole UTC hour
  of that day at which neither person is already booked, as a naive scheduler does.

Both are then checked against the same facts: a relationship *got every slot of its plan* when it has a
slot for every occurrence, each inside both people's working hours, none overlapping another of
either person's. Times are of planning alone (building the cohort is not counted): wall time, and the
process's CPU time, which a machine shared with others' work disturbs less.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.session.domain.plans import Cadence, propose_plan
from services.session.domain.slots import Interval, WorkingHours, shared_hours

START = datetime(2027, 3, 1, tzinfo=UTC)
END = datetime(2027, 9, 1, tzinfo=UTC)
REGIONS = (
    ("America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo"),
    ("Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Warsaw", "UTC"),
    ("Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney"),
)
CADENCES = ((Cadence(7, 60), 0.5), (Cadence(14, 60), 0.35), (Cadence(30, 45), 0.15))


@dataclass(frozen=True, slots=True)
class Pair:
    match_id: str
    mentor: str
    mentee: str
    cadence: Cadence


def _hours(rng: random.Random, zone: str) -> WorkingHours:
    roll = rng.random()
    if roll < 0.7:
        return WorkingHours(zone, 9, 17)
    if roll < 0.82:
        return WorkingHours(zone, 8, 16)
    if roll < 0.95:
        return WorkingHours(zone, 10, 18)
    return WorkingHours(zone, 22, 6)


def cohort(size: int, seed: int = 7) -> tuple[list[Pair], dict[str, WorkingHours]]:
    rng = random.Random(seed)
    people: dict[str, WorkingHours] = {}
    pairs: list[Pair] = []
    mentor_number = 0
    while len(pairs) < size:
        mentor_number += 1
        region = rng.randrange(len(REGIONS))
        mentor = f"M-{mentor_number}"
        people[mentor] = _hours(rng, rng.choice(REGIONS[region]))
        for _ in range(rng.choice((1, 2, 2, 3))):
            if len(pairs) == size:
                break
            mentee = f"E-{len(pairs) + 1}"
            mentee_region = region if rng.random() < 0.8 else rng.randrange(len(REGIONS))
            people[mentee] = _hours(rng, rng.choice(REGIONS[mentee_region]))
            cadence = rng.choices([c for c, _ in CADENCES], [w for _, w in CADENCES])[0]
            pairs.append(Pair(f"m-{len(pairs) + 1}", mentor, mentee, cadence))
    return pairs, people


def _overlaps(taken: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(a < end and start < b for a, b in taken)


def plan_all(pairs: Sequence[Pair], people: dict[str, WorkingHours]) -> dict[str, tuple[int, list[datetime]]]:
    """Per relationship: how many occurrences its cadence has, and the slots it got."""
    busy: dict[str, list[Interval]] = defaultdict(list)
    planned: dict[str, tuple[int, list[datetime]]] = {}
    for pair in pairs:
        others = busy[pair.mentor] + busy[pair.mentee]
        plan = propose_plan(
            pair.match_id, pair.cadence, [people[pair.mentor], people[pair.mentee]], others, START, END
        )
        if plan is None:
            planned[pair.match_id] = (len(occurrence_dates(pair.cadence)), [])
            continue
        starts = [slot.starts_at for slot in plan.slots if slot.starts_at is not None]
        for start in starts:
            for person in (pair.mentor, pair.mentee):
                busy[person].append((start, start + pair.cadence.duration))
        planned[pair.match_id] = (len(plan.slots), starts)
    return planned


def occurrence_dates(cadence: Cadence) -> list[datetime]:
    """The baseline's occurrences: the cadence's days from the start, in UTC."""
    step = timedelta(days=cadence.every_days)
    found, moment = [], START
    while moment + cadence.duration <= END:
        found.append(moment)
        moment += step
    return found


def baseline_all(pairs: Sequence[Pair]) -> dict[str, tuple[int, list[datetime]]]:
    busy: dict[str, list[Interval]] = defaultdict(list)
    planned: dict[str, tuple[int, list[datetime]]] = {}
    for pair in pairs:
        starts: list[datetime] = []
        days = occurrence_dates(pair.cadence)
        for day in days:
            for hour in range(24):
                start = day + timedelta(hours=hour)
                end = start + pair.cadence.duration
                if not _overlaps(busy[pair.mentor], start, end) and not _overlaps(
                    busy[pair.mentee], start, end
                ):
                    starts.append(start)
                    busy[pair.mentor].append((start, end))
                    busy[pair.mentee].append((start, end))
                    break
        planned[pair.match_id] = (len(days), starts)
    return planned


def _inside(hours: WorkingHours, start: datetime, end: datetime) -> bool:
    return any(
        lo <= start and end <= hi
        for lo, hi in hours.intervals(start - timedelta(days=1), end + timedelta(days=1))
    )


def verdict(
    pairs: Sequence[Pair], people: dict[str, WorkingHours], planned: dict[str, tuple[int, list[datetime]]]
) -> tuple[float, float, int]:
    """(share of relationships that got every slot, share of slots in both people's hours, overlaps)."""
    booked: dict[str, list[Interval]] = defaultdict(list)
    for pair in pairs:
        for start in planned[pair.match_id][1]:
            for person in (pair.mentor, pair.mentee):
                booked[person].append((start, start + pair.cadence.duration))
    overlaps = 0
    for intervals in booked.values():
        ordered = sorted(intervals)
        overlaps += sum(1 for (_, end), (start, _) in itertools.pairwise(ordered) if start < end)
    complete = inside = total = 0
    for pair in pairs:
        wanted, starts = planned[pair.match_id]
        good = [
            start
            for start in starts
            if _inside(people[pair.mentor], start, start + pair.cadence.duration)
            and _inside(people[pair.mentee], start, start + pair.cadence.duration)
        ]
        inside += len(good)
        total += len(starts)
        complete += wanted > 0 and len(good) == wanted
    return complete / len(pairs), inside / total if total else 0.0, overlaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relationships", type=int, default=10_000)
    args = parser.parse_args()
    pairs, people = cohort(args.relationships)
    apart = sum(
        1 for pair in pairs if not shared_hours((people[pair.mentor], people[pair.mentee]), START, END)
    )
    print(
        f"session plans: {len(pairs)} relationships, {len(people)} people, "
        f"{START:%Y-%m-%d} to {END:%Y-%m-%d}; {apart / len(pairs):.1%} of the relationships share no "
        "working hour at all (no plan can serve them)"
    )
    for name, run in (("plan", lambda: plan_all(pairs, people)), ("baseline", lambda: baseline_all(pairs))):
        began, began_cpu = time.perf_counter(), time.process_time()
        planned = run()
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        complete, inside, overlaps = verdict(pairs, people, planned)
        slots = sum(len(starts) for _, starts in planned.values())
        print(
            f"  {name:<8} {elapsed:7.2f} s wall  {cpu:7.2f} s cpu  "
            f"{len(pairs) / cpu:7.0f} relationships/cpu-s  slots {slots:7d}  got every slot {complete:6.1%}  "
            f"slots in both people's hours {inside:6.1%}  double bookings {overlaps}"
        )


if __name__ == "__main__":
    main()
