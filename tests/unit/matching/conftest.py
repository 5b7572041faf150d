"""Factories for matching tests: one readable participant builder and a small random pool generator."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from services.matching.domain import Participant, Pool, ProgramSettings, Role

WINTER = date(2025, 1, 15)

PersonFactory = Callable[..., Participant]
PoolFactory = Callable[..., Pool]
SettingsFactory = Callable[..., ProgramSettings]


@pytest.fixture
def make_person() -> PersonFactory:
    """``make_person("m1", Role.MENTOR, grade=7, ...)``: English speaker in UTC, 9-17, capacity 1."""

    def build(participant_id: str, role: Role = Role.MENTEE, **fields: Any) -> Participant:
        defaults: dict[str, Any] = {
            "employee_id": f"E-{participant_id}",
            "grade": 8 if role is Role.MENTOR else 4,
            "languages": frozenset({"english"}),
            "location": "berlin",
        }
        defaults.update(fields)
        return Participant(participant_id=participant_id, role=role, **defaults)

    return build


@pytest.fixture
def make_settings() -> SettingsFactory:
    def build(**fields: Any) -> ProgramSettings:
        base: dict[str, Any] = {
            "reference_date": WINTER,
            "candidates_per_mentee": 2,
            "candidates_per_mentor": 1,
        }
        base.update(fields)
        return ProgramSettings(**base)

    return build


SKILLS = ("python", "sql", "negotiation", "leadership", "design", "finance", "ml")
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
SITES = ("berlin", "london", "paris", "")


@pytest.fixture
def make_pool() -> PoolFactory:
    """A small pool where every hard rule bites sometimes: ``make_pool(seed, mentees, mentors)``."""

    def build(
        seed: int, mentees: int, mentors: int, *, peers: int = 0, max_capacity: int = 2, dense: bool = False
    ) -> Pool:
        """``dense``: everyone speaks English and has room, so most pairs pass the hard rules."""
        rng = random.Random(seed)
        ids = [f"E{k:03d}" for k in range(mentees + mentors + peers)]
        people: list[Participant] = []
        roles = [Role.MENTEE] * mentees + [Role.MENTOR] * mentors + [Role.PEER] * peers
        for k, role in enumerate(roles):
            others = [e for e in ids if e != ids[k]]
            start = rng.choice([0, 7 * 60, 9 * 60, 13 * 60, 22 * 60])
            people.append(
                Participant(
                    participant_id=f"P{k:03d}",
                    employee_id=ids[k],
                    role=role,
                    grade=rng.randint(1, 6) if role is Role.MENTEE else rng.randint(2, 9),
                    department=rng.choice(["ops", "sales", "it", ""]),
                    location=rng.choice(SITES),
                    timezone=rng.choice(ZONES),
                    work_start_minute=start,
                    work_end_minute=(start + rng.choice([6, 8, 10]) * 60) % 1440,
                    languages=frozenset(rng.sample(["english", "german", "french"], rng.randint(0, 2)))
                    | ({"english"} if dense else set()),
                    skills_offered=frozenset(rng.sample(SKILLS, rng.randint(0, 4))),
                    skills_wanted=frozenset(rng.sample(SKILLS, rng.randint(0, 3))),
                    goal_skill_tags=frozenset(rng.sample(SKILLS, rng.randint(0, 2))),
                    nominations=tuple(rng.sample(others, rng.randint(0, 3))),
                    management_chain=tuple(rng.sample(others, rng.randint(0, 1 if dense else 2))),
                    capacity=rng.randint(int(dense), max_capacity) if role is Role.MENTOR else 1,
                    load_elsewhere=0 if dense else rng.randint(0, 1),
                    global_cap=None if dense else rng.choice([None, 1, 2, 3]),
                    prefers_other_department=rng.random() < 0.4,
                    past_partner_ids=frozenset(rng.sample(others, rng.randint(0, 2))),
                    requested_skill_areas=tuple(rng.sample(SKILLS, rng.randint(0, 2))),
                )
            )
        return Pool(tuple(people))

    return build
