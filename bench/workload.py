"""Workload benchmark: sessions of returning users while the quote feed ticks, cached and not.

The session plan (bench/workload_sessions.py) runs against one gunicorn on PostgreSQL +
Redis while the real ``market feed`` moves the 50 most-held symbols, twice: with the cache
and with ``CACHE_ENABLED=false``, same plan, same compressed clock. The first WARMUP seconds
fill the cache and are not counted; figures are over the MEASURED seconds after them. Every
request records its latency, X-Cache and the SQL statements it sent (``X-Bench-SQL``, from
the bench app's hook). Every read records what it showed; every write the truth right after
it (read from the database while the writer holds that key's lock, so writes to one key
never overlap); quote batches are acknowledged as bench/workload_feed.py describes. After
the run, a read of a key is stale when it started after a write was acknowledged and shows
neither that write's value nor that of a write overlapping the read.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import psycopg

from bench.common import libpq_url
from bench.http import clear_prefix, mint_tokens, serving
from bench.loadgen import Connection, build_request
from bench.servers import server_env
from bench.workload_feed import PriceWatcher, start_feed, stop_feed
from bench.workload_ops import (
    READ_PATHS,
    WRITES,
    load_context,
    observe,
    remember_write,
    truth_after,
    ttl_environment,
    ttl_seconds,
    write_request,
)
from bench.workload_sessions import COMPRESSION, FEED_INTERVAL, SLOTS, Step, plan_slots
from bench.workload_stats import (
    CacheRead,
    Request,
    SentWrite,
    find_stale,
    hit_ratios,
    request_figures,
    write_mix,
)

# (warm-up, measured) wall seconds of each run
PHASES = {False: (60.0, 180.0), True: (4.0, 8.0)}
APP = "bench.peer_app:build_app()"


@dataclass
class Journal:
    """Everything one run saw, checked for staleness afterwards."""

    reads: list[tuple] = field(default_factory=list)  # (key, t0, t1, value, kind, x_cache)
    writes: dict[tuple, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    cache: list[CacheRead] = field(default_factory=list)
    sent: list[SentWrite] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Runner:
    """Runs every slot's steps on its own thread and connection, each at its time."""

    def __init__(self, server, pg_url: str, slots: list[list[Step]], tokens: dict, context: dict):
        self.server, self.pg_url, self.slots = server, pg_url, slots
        self.tokens, self.context = tokens, context
        self.journal = Journal()
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.key_locks: dict[tuple, threading.Lock] = defaultdict(threading.Lock)
        self.seen: dict[int, dict] = defaultdict(dict)
        self.seq = 0
        self.started = 0.0

    def run(self, seconds: float) -> float:
        """Run until every slot is done; returns when the run started (perf_counter)."""
        self.started = time.perf_counter()
        threads = [threading.Thread(target=self._slot, args=(steps,), daemon=True)
                   for steps in self.slots]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 120)
        if self.errors or any(t.is_alive() for t in threads):
            self.stop.set()
            raise RuntimeError(f"workload stopped: {self.errors[:3]}")
        return self.started

    def _slot(self, steps: list[Step]) -> None:
        conn = Connection(*self.server.base)
        try:
            with psycopg.connect(libpq_url(self.pg_url), autocommit=True) as db:
                for step in steps:
                    delay = self.started + step.at - time.perf_counter()
                    if self.stop.wait(max(0.0, delay)):
                        return
                    if step.kind in WRITES:
                        self._write(conn, db, step)
                    else:
                        self._read(conn, step)
        except Exception as exc:  # stop every slot: a run with a lost request counts nothing
            self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            self.stop.set()
        finally:
            conn.close()

    def _send(self, conn: Connection, method: str, path: str, user: int, body=None):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        t0 = time.perf_counter()
        response = conn.request(build_request(method, path, headers, data))
        return t0, time.perf_counter(), response

    def _record(self, namespace: str, t0: float, t1: float, response) -> tuple[int, str]:
        x_cache = response.headers.get("x-cache", "-")
        sql = response.headers.get("x-bench-sql")
        with self.journal.lock:
            self.seq += 1
            self.journal.requests.append(
                Request(namespace, t0, t1, x_cache, int(sql) if sql else None)
            )
            return self.seq, x_cache

    def _read(self, conn: Connection, step: Step) -> None:
        path, namespace = READ_PATHS[step.kind]
        t0, t1, response = self._send(conn, "GET", path, step.user)
        if response.status != 200:
            raise RuntimeError(f"{step.kind} answered {response.status}: {response.body[:200]!r}")
        seq, x_cache = self._record(namespace, t0, t1, response)
        observed = observe(step.kind, step.user, json.loads(response.body))
        owner = None if namespace == "public" else step.user
        with self.journal.lock:
            read = CacheRead(seq, namespace, x_cache, (path, owner), step.kind, t0, t1)
            self.journal.cache.append(read)
            for key, value in observed:
                self.journal.reads.append((key, t0, t1, value, step.kind, x_cache))

    def _write(self, conn: Connection, db: psycopg.Connection, step: Step) -> None:
        seen = self.seen[step.user]
        method, path, body, keys = write_request(step.kind, step.user, step.roll, self.context,
                                                 seen)  # fmt: skip
        locks = [self.key_locks[key] for key in sorted(keys, key=str)]
        for lock in locks:
            lock.acquire()
        try:
            t0, ack, response = self._send(conn, method, path, step.user, body)
            if response.status >= 500:
                raise RuntimeError(f"{step.kind} answered {response.status}")
            seq, _ = self._record("write", t0, ack, response)
            payload = json.loads(response.body) if response.body else None
            remember_write(step.kind, response.status, payload, seen)
            values = [(key, truth_after(db, key)) for key in keys]
            with self.journal.lock:
                self.journal.sent.append(
                    SentWrite(seq, step.kind, step.user, response.status, t0, ack, None)
                )
                for key, value in values:
                    self.journal.writes[key].append((t0, ack, value))
        finally:
            for lock in reversed(locks):
                lock.release()


def run_once(pg_url: str, redis_url: str, cached: bool, slots, tokens, context, quick) -> dict:
    """One run of the plan with the feed beside it; the figures of its measured phase."""
    from fynix.caching import keys

    warmup, measured = PHASES[quick]
    clear_prefix(redis_url)
    env = server_env(pg_url, redis_url, cache_enabled=cached, BENCH_SQL_HEADER="1",
                     **ttl_environment(COMPRESSION))  # fmt: skip
    gen_key = keys.gen_key("fynixbench", "market", keys.scope_of(None))
    with serving(APP, env, "workload-cached" if cached else "workload-uncached") as server:
        watcher = PriceWatcher(redis_url, gen_key, pg_url, context["fed"])
        watcher.start()
        feed = start_feed(env, FEED_INTERVAL / COMPRESSION, len(context["fed"]))
        try:
            runner = Runner(server, pg_url, slots, tokens, context)
            started = runner.run(warmup + measured)
        finally:
            stop_feed(feed)
            watcher.stopped.set()
            watcher.join(timeout=10)
    clear_prefix(redis_url)
    journal = runner.journal
    for key, writes in watcher.journal_writes().items():
        journal.writes[key].extend(writes)
    journal.sent.extend(watcher.batches)
    window = (started + warmup, started + warmup + measured)
    checked, stale, examples, unknown = find_stale(journal.reads, journal.writes)
    ttls = ttl_seconds(COMPRESSION)
    return {
        "cache_enabled": cached,
        "requests": request_figures(journal.requests, *window),
        "warmup_requests": request_figures(journal.requests, started, window[0])["all"],
        "hit_ratio": hit_ratios(journal.cache, journal.sent, ttls, window),
        "write_mix": write_mix(journal.sent, *window),
        "feed_batches": len(watcher.batches),
        "watcher_error": watcher.error,
        "checked_reads": checked,
        "stale_reads": stale,
        "stale_examples": examples,
        "unchecked_reads": unknown,
    }


def run_workload(pg_url: str, redis_url: str, scale: float, quick: bool = False) -> dict:
    """The session plan with the cache, then without it; hit ratios, SQL, latency, stale."""
    context = load_context(pg_url)
    warmup, measured = PHASES[quick]
    slots = plan_slots(scale, quick, warmup + measured, context["user_ids"])
    users = sorted({step.user for steps in slots for step in steps})
    tokens = mint_tokens(pg_url, users)
    runs = {
        name: run_once(pg_url, redis_url, cached, slots, tokens, context, quick)
        for name, cached in (("cached", True), ("uncached", False))
    }
    return {
        "compression": COMPRESSION,
        "slots": SLOTS[quick],
        "warmup_seconds": warmup,
        "measured_seconds": measured,
        "feed_interval": FEED_INTERVAL / COMPRESSION,
        "feed_symbols": len(context["fed"]),
        "seeded_users": len(context["user_ids"]),
        "session_users": len(users),
        "sessions": sum(step.kind == "me" for steps in slots for step in steps),  # opens only
        "ttls": ttl_seconds(COMPRESSION),
        "runs": runs,
    }
