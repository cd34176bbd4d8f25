"""Workload benchmark: zipf users, 95% reads / 5% writes, hit ratios and stale reads.

A fixed, seeded list of operations runs from several connections against the cached
app. Every read is recorded with its start, end and what it showed; every write with its
start, acknowledgement and the truth right after it (read from the database while the
writer still holds that user's or symbol's lock, so writes to one key never overlap).
After the run, a read of a key is stale when it started after a write was acknowledged
and shows neither that write's value nor that of a write overlapping the read.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from bench.common import libpq_url
from bench.data import Plan
from bench.http import clear_prefix, mint_tokens, serving
from bench.loadgen import Connection, build_request
from bench.servers import server_env
from bench.workload_ops import (
    READS,
    WRITES,
    Op,
    load_context,
    observe,
    read_path,
    truth_after,
    write_request,
)

TARGETS = {"portfolio": 0.85, "notifications": 0.75, "public": 0.90, "user": 0.80}
WRITE_SHARE = 0.05
CONCURRENCY = 4


@dataclass
class Journal:
    """Everything the run saw, checked for staleness afterwards."""

    reads: list[tuple] = field(default_factory=list)  # (key, t0, t1, value, op, x_cache)
    writes: dict[tuple, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    # (seq, namespace, X-Cache, (path, owner)): the last item names the cache entry
    cache: list[tuple] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def plan_ops(scale: float, count: int, user_ids: set[int]) -> list[Op]:
    """The seeded operation list: users drawn with the data's zipf activity."""
    plan = Plan.build(scale)
    rng = random.Random(7)
    users = [u for u in plan.draw_users(rng, count) if u in user_ids] or sorted(user_ids)[:1]
    read_kinds, read_weights = zip(*READS.items(), strict=True)
    write_kinds, write_weights = zip(*WRITES.items(), strict=True)
    ops = []
    for seq in range(count):
        user = users[seq % len(users)]
        if rng.random() < WRITE_SHARE:
            kind = rng.choices(write_kinds, weights=write_weights)[0]
        else:
            kind = rng.choices(read_kinds, weights=read_weights)[0]
        ops.append(Op(seq, kind, user, rng.random()))
    return ops


class Runner:
    """Runs the ops from CONCURRENCY threads against one server."""

    def __init__(self, server, pg_url: str, ops: list[Op], tokens: dict, context: dict) -> None:
        self.server, self.pg_url, self.ops = server, pg_url, ops
        self.tokens, self.context = tokens, context
        self.hot = set(context["hot"])
        self.journal = Journal()
        self.next_index = 0
        self.index_lock = threading.Lock()
        self.key_locks: dict[tuple, threading.Lock] = defaultdict(threading.Lock)
        self.seen: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def _next(self) -> Op | None:
        with self.index_lock:
            if self.next_index >= len(self.ops):
                return None
            op = self.ops[self.next_index]
            self.next_index += 1
            return op

    def run(self) -> float:
        """Run every op; returns the wall time."""
        started = time.perf_counter()
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(CONCURRENCY)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        return time.perf_counter() - started

    def _worker(self) -> None:
        conn = Connection(*self.server.base)
        with psycopg.connect(libpq_url(self.pg_url), autocommit=True) as db:
            while (op := self._next()) is not None:
                if op.kind in WRITES:
                    self._write(conn, db, op)
                else:
                    self._read(conn, op)
        conn.close()

    def _send(self, conn: Connection, method: str, path: str, user: int, body=None):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        response = conn.request(build_request(method, path, headers, data))
        with self.journal.lock:
            self.journal.statuses[response.status] += 1
        return response

    def _read(self, conn: Connection, op: Op) -> None:
        method, path, namespace = read_path(op, self.context)
        t0 = time.perf_counter()
        response = self._send(conn, method, path, op.user)
        t1 = time.perf_counter()
        if response.status != 200:
            raise RuntimeError(f"{op.kind} answered {response.status}: {response.body[:200]!r}")
        payload = json.loads(response.body)
        x_cache = response.headers.get("x-cache", "-")
        observed = [
            (key, value)
            for key, value in observe(op, payload, self.seen[op.user])
            if key[0] != "price" or key[1] in self.hot
        ]
        with self.journal.lock:
            owner = None if namespace in {"public", "market"} else op.user
            self.journal.cache.append((op.seq, namespace, x_cache, (path, owner)))
            for key, value in observed:
                self.journal.reads.append((key, t0, t1, value, op.kind, x_cache))

    def _write(self, conn: Connection, db: psycopg.Connection, op: Op) -> None:
        method, path, body, keys, as_user = write_request(op, self.context, self.seen[op.user])
        locks = [self.key_locks[key] for key in sorted(keys, key=str)]
        for lock in locks:
            lock.acquire()
        try:
            t0 = time.perf_counter()
            response = self._send(conn, method, path, as_user, body)
            ack = time.perf_counter()
            if response.status >= 500:
                raise RuntimeError(f"{op.kind} answered {response.status}")
            for key in keys:
                value = truth_after(db, key, body)
                with self.journal.lock:
                    self.journal.writes[key].append((t0, ack, value))
        finally:
            for lock in reversed(locks):
                lock.release()


def find_stale(journal: Journal) -> tuple[int, int, list[dict]]:
    """(checked reads, stale reads, first examples) over the whole journal."""
    checked = stale = 0
    examples: list[dict] = []
    for key, t0, t1, value, kind, x_cache in journal.reads:
        writes = journal.writes.get(key)
        if not writes:
            continue
        before = [w for w in writes if w[1] < t0]
        if not before:  # the value before the first write is not known: nothing to hold to
            continue
        overlapping = [w for w in writes if w[0] < t1 and w[1] >= t0]
        allowed = {w[2] for w in overlapping}
        if before:
            allowed.add(max(before, key=lambda w: w[1])[2])
        checked += 1
        if _normal(value) not in {_normal(v) for v in allowed}:
            stale += 1
            if len(examples) < 10:
                examples.append(
                    {"key": list(key), "read": kind, "x_cache": x_cache, "saw": str(value),
                     "expected": sorted(map(str, allowed))}
                )  # fmt: skip
    return checked, stale, examples


def _normal(value: object) -> object:
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    return value


def hit_ratios(cache: list[tuple], since: int = 0) -> dict[str, dict]:
    """Per namespace: hits, misses, bypasses, hit ratio of reads with seq >= since, and the
    best ratio a cold cache allows (every distinct entry's first read must miss)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    entries: dict[str, set] = defaultdict(set)
    first_seen: dict[tuple, int] = {}
    for seq, namespace, x_cache, entry in cache:
        first_seen.setdefault((namespace, entry), seq)
        if seq >= since:
            counts[namespace][x_cache] += 1
            if first_seen[(namespace, entry)] >= since:
                entries[namespace].add(entry)
            elif x_cache == "MISS":
                counts[namespace]["repeat_miss"] += 1
    table = {}
    for namespace, c in sorted(counts.items()):
        looked_up = c["HIT"] + c["MISS"]
        table[namespace] = {
            "hits": c["HIT"],
            "misses": c["MISS"],
            "repeat_misses": c["repeat_miss"],
            "bypass": c["BYPASS"],
            "hit_ratio": c["HIT"] / looked_up if looked_up else None,
            "cold_ceiling": 1 - len(entries[namespace]) / looked_up if looked_up else None,
            "target": TARGETS.get(namespace),
        }
    return table


def run_workload(pg_url: str, redis_url: str, scale: float, quick: bool = False) -> dict:
    """Run the workload against a fresh cache; returns ratios, stale reads and throughput."""
    context = load_context(pg_url)
    count = 600 if quick else 4_000
    ops = plan_ops(scale, count, context["user_ids"])
    users = sorted({op.user for op in ops} | {context["admin_id"]})
    tokens = mint_tokens(pg_url, users)
    clear_prefix(redis_url)
    with serving("wsgi:app", server_env(pg_url, redis_url, cache_enabled=True), "workload") as s:
        runner = Runner(s, pg_url, ops, tokens, context)
        seconds = runner.run()
    clear_prefix(redis_url)
    journal = runner.journal
    checked, stale, examples = find_stale(journal)
    return {
        "requests": len(ops),
        "writes": sum(1 for op in ops if op.kind in WRITES),
        "distinct_users": len(users) - 1,
        "seconds": round(seconds, 1),
        "rps": round(len(ops) / seconds, 1),
        "statuses": {str(k): v for k, v in journal.statuses.items()},
        "hit_ratio_all": hit_ratios(journal.cache),
        "hit_ratio_steady": hit_ratios(journal.cache, since=len(ops) // 2),
        "checked_reads": checked,
        "stale_reads": stale,
        "stale_examples": examples,
    }
