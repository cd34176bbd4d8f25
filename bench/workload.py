"""Workload benchmark: zipf users, 95% reads / 5% writes, hit ratios and stale reads.

One fixed, seeded list of operations runs in order from several connections against the
cached app, Redis emptied of the benchmark's keys first. The first WARMUP operations
(same distribution, same seed stream) warm the cache and are not counted in the hit
ratios; the next MEASURED operations are (the measured phase). Every read of both phases
is recorded with its start, end and what it showed; every write with its start,
acknowledgement and the truth right after it (read from the database while the writer
still holds that user's or symbol's lock, so writes to one key never overlap). After the
run, a read of a key is stale when it started after a write was acknowledged and shows
neither that write's value nor that of a write overlapping the read.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

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
    quote_symbol,
    read_path,
    truth_after,
    ttl_seconds,
    write_request,
)
from bench.workload_stats import CacheRead, SentWrite, find_stale, hit_ratios, write_mix

WRITE_SHARE = 0.05
CONCURRENCY = 4
# (warm-up, measured) operations; the quick run is a smoke test at a tiny scale
PHASES = {False: (6_000, 3_000), True: (600, 600)}


@dataclass
class Journal:
    """Everything the run saw, checked for staleness afterwards."""

    reads: list[tuple] = field(default_factory=list)  # (key, t0, t1, value, op, x_cache)
    writes: dict[tuple, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    cache: list[CacheRead] = field(default_factory=list)
    sent: list[SentWrite] = field(default_factory=list)
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
        self.handed_out: dict[int, float] = {}  # seq -> when a worker took it
        self.errors: list[str] = []
        self.key_locks: dict[tuple, threading.Lock] = defaultdict(threading.Lock)
        self.seen: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def _next(self) -> Op | None:
        with self.index_lock:
            if self.next_index >= len(self.ops):
                return None
            op = self.ops[self.next_index]
            self.next_index += 1
            self.handed_out[op.seq] = time.perf_counter()
            return op

    def run(self) -> tuple[float, float]:
        """Run every op; returns (when it started, when the last op finished)."""
        started = time.perf_counter()
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(CONCURRENCY)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        if self.errors or any(t.is_alive() for t in threads):
            raise RuntimeError(f"workload stopped after {self.next_index} ops: {self.errors[:3]}")
        return started, time.perf_counter()

    def _worker(self) -> None:
        conn = Connection(*self.server.base)
        try:
            with psycopg.connect(libpq_url(self.pg_url), autocommit=True) as db:
                while (op := self._next()) is not None:
                    if op.kind in WRITES:
                        self._write(conn, db, op)
                    else:
                        self._read(conn, op)
        except Exception as exc:  # stop every worker: a run with a lost op counts nothing
            with self.index_lock:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                self.next_index = len(self.ops)
        finally:
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
            entry = (path, owner)
            self.journal.cache.append(CacheRead(op.seq, namespace, x_cache, entry, op.kind, t0, t1))
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
            symbol = quote_symbol(op, self.context) if op.kind == "put_quote" else None
            sent = SentWrite(op.seq, op.kind, op.user, response.status, t0, ack, symbol)
            with self.journal.lock:
                self.journal.sent.append(sent)
            for key in keys:
                value = truth_after(db, key, body)
                with self.journal.lock:
                    self.journal.writes[key].append((t0, ack, value))
        finally:
            for lock in reversed(locks):
                lock.release()


def run_workload(pg_url: str, redis_url: str, scale: float, quick: bool = False) -> dict:
    """Warm the cache, then measure: ratios per phase, stale reads over both, the write mix."""
    context = load_context(pg_url)
    warmup, measured = PHASES[quick]
    ops = plan_ops(scale, warmup + measured, context["user_ids"])
    tokens = mint_tokens(pg_url, sorted({op.user for op in ops} | {context["admin_id"]}))
    clear_prefix(redis_url)
    with serving("wsgi:app", server_env(pg_url, redis_url, cache_enabled=True), "workload") as s:
        runner = Runner(s, pg_url, ops, tokens, context)
        started, finished = runner.run()
    clear_prefix(redis_url)
    journal, ttls, total = runner.journal, ttl_seconds(), warmup + measured
    checked, stale, examples = find_stale(journal.reads, journal.writes)
    boundary = runner.handed_out[warmup] if measured else finished
    return {
        **_shape(ops, warmup, context),
        "write_mix_warmup": write_mix(journal.sent, context["holders"], 0, warmup),
        "write_mix_measured": write_mix(journal.sent, context["holders"], warmup, total),
        "ttls": ttls,
        "seconds": round(finished - started, 1),
        "warmup_seconds": round(boundary - started, 1),
        "measured_seconds": round(finished - boundary, 1),
        "rps": round(total / (finished - started), 1),
        "measured_rps": round(measured / max(finished - boundary, 1e-9), 1),
        "statuses": {str(k): v for k, v in sorted(journal.statuses.items())},
        "hit_ratio_warmup": hit_ratios(journal.cache, journal.sent, ttls, (0, warmup)),
        "hit_ratio_measured": hit_ratios(journal.cache, journal.sent, ttls, (warmup, total)),
        "checked_reads": checked,
        "stale_reads": stale,
        "stale_examples": examples,
    }


def _shape(ops: list[Op], warmup: int, context: dict) -> dict:
    """The run's shape: phase lengths, users per phase, writes, the hot symbols' holders."""
    warm_users = {op.user for op in ops[:warmup]}
    measured_users = {op.user for op in ops[warmup:]}
    return {
        "requests": len(ops),
        "warmup_requests": warmup,
        "measured_requests": len(ops) - warmup,
        "concurrency": CONCURRENCY,
        "write_share": WRITE_SHARE,
        "seeded_users": len(context["user_ids"]),
        "distinct_users": len(warm_users | measured_users),
        "warmup_users": len(warm_users),
        "measured_users": len(measured_users),
        "measured_new_users": len(measured_users - warm_users),
        "writes": sum(1 for op in ops if op.kind in WRITES),
        "hot_symbols": len(context["hot"]),
        "hot_holders": sorted(context["holders"].values()),
    }
