"""Sessions of returning users, planned ahead from one seed, on a compressed clock.

``SLOTS`` sessions run at once; when one ends, its slot starts the next after a short pause.
Each session belongs to a user drawn with the data's zipf(1.0) activity, so popular users
come back often. A session opens the app (summary, notifications page, unread count,
profile, market overview), then polls the unread count every 30 s and the summary every
60 s (each +-10%), and now and then writes: opens or closes a position, marks everything
read or asks the AI, each followed by the reads that show it. Every duration, the server's
TTLs and the feed's interval are divided by ``COMPRESSION`` alike, so a run of minutes
stands for ten times as long.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.data import Plan

COMPRESSION = 10.0
OPEN = ("summary", "notifications", "unread_count", "me", "public")
POLLS = {"unread_count": 30.0, "summary": 60.0}  # seconds of simulated time
SESSION_MEAN, SESSION_MIN = 360.0, 60.0
PAUSE_MEAN = 30.0  # between two sessions of one slot
WRITE_EVERY = 300.0  # mean simulated seconds between two writes of a session
WRITE_WEIGHTS = {"add_position": 30, "delete_position": 20, "read_all": 30, "ask_ai": 20}
AFTER_WRITE = {
    "add_position": ("summary",),
    "delete_position": ("summary",),
    "read_all": ("unread_count", "notifications"),
    "ask_ai": ("threads",),
}
SLOTS = {False: 60, True: 12}
FEED_INTERVAL = 2.0  # simulated seconds between two quote batches


@dataclass(frozen=True)
class Step:
    """One request of a session: when (wall seconds after the run starts), what, whose."""

    at: float
    kind: str
    user: int
    roll: float


def plan_slots(scale: float, quick: bool, seconds: float, user_ids: set[int]) -> list[list[Step]]:
    """Each slot's steps in order, for a run of ``seconds`` wall seconds."""
    plan = Plan.build(scale)
    rng = random.Random(11)
    slots = []
    for _ in range(SLOTS[quick]):
        steps: list[Step] = []
        start = rng.uniform(0, min(SESSION_MEAN / COMPRESSION, seconds / 4))  # staggered
        while start < seconds:
            user = _draw_user(plan, rng, user_ids)
            length = max(SESSION_MIN, rng.expovariate(1 / SESSION_MEAN)) / COMPRESSION
            steps += session_steps(rng, user, start, min(start + length, seconds))
            start += length + rng.expovariate(1 / PAUSE_MEAN) / COMPRESSION
        slots.append(steps)
    return slots


def _draw_user(plan: Plan, rng: random.Random, user_ids: set[int]) -> int:
    for _ in range(100):
        user = plan.draw_users(rng, 1)[0]
        if user in user_ids:
            return user
    return min(user_ids)


def session_steps(rng: random.Random, user: int, start: float, end: float) -> list[Step]:
    """One session: the opening reads, the polls and the writes, ordered by time."""
    steps = [Step(start, kind, user, rng.random()) for kind in OPEN]
    for kind, every in POLLS.items():
        at = start + every * rng.uniform(0.9, 1.1) / COMPRESSION
        while at < end:
            steps.append(Step(at, kind, user, rng.random()))
            at += every * rng.uniform(0.9, 1.1) / COMPRESSION
    at = start + rng.expovariate(1 / WRITE_EVERY) / COMPRESSION
    kinds, weights = zip(*WRITE_WEIGHTS.items(), strict=True)
    while at < end:
        kind = rng.choices(kinds, weights=weights)[0]
        steps.append(Step(at, kind, user, rng.random()))
        steps += [Step(at, read, user, rng.random()) for read in AFTER_WRITE[kind]]
        at += rng.expovariate(1 / WRITE_EVERY) / COMPRESSION
    return sorted(steps, key=lambda step: step.at)
