"""The real quote feed beside the workload, and the truth of its writes for the stale check.

The feed runs as ``flask --app wsgi market feed --provider simulated --most-held 50`` with
the server's environment. A quote batch is acknowledged when its new generation of the
price book is in Redis (the feed sets it right after its commit), so a watcher polls that
generation key every few milliseconds. When it moves, the watcher reads the fed symbols'
prices and the feed's batch count from PostgreSQL in one statement: a count one above the
last one means the prices are that batch's, and reads that start after the generation was
seen must show them (or a later batch's). A count that jumped by more (another batch
committed before the read) leaves the prices unknown until the next clean batch: those
reads are not checked, and their number is reported.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from decimal import Decimal

import psycopg
import redis

from bench.common import RESULTS_DIR, ROOT, libpq_url
from bench.workload_stats import UNKNOWN, SentWrite
from tests.processes import stop_process

FEED_NAME = "benchfeed"
WATCH_EVERY = 0.003
SNAPSHOT = (
    "SELECT (SELECT batches_total FROM market_feed_status WHERE name = %s), "
    "array_agg(symbol), array_agg(price) FROM market_quotes WHERE symbol = ANY(%s)"
)


def start_feed(env: dict, interval: float, symbols: int) -> subprocess.Popen:
    """The quote feed process, logging to bench/results/feed.log."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "market", "feed",
               "--provider", "simulated", "--interval", f"{interval:g}",
               "--most-held", str(symbols), "--name", FEED_NAME]  # fmt: skip
    log = (RESULTS_DIR / "feed.log").open("ab")
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    finally:
        log.close()


def stop_feed(process: subprocess.Popen) -> None:
    """SIGTERM (the feed finishes its batch), SIGKILL after 10 s."""
    stop_process(process, timeout=10)


class PriceWatcher(threading.Thread):
    """Records each acknowledged quote batch as writes of the fed symbols' prices."""

    def __init__(self, redis_url: str, gen_key: str, pg_url: str, symbols: list[str]) -> None:
        super().__init__(daemon=True)
        self.redis = redis.Redis.from_url(redis_url)
        self.gen_key, self.pg_url, self.symbols = gen_key, pg_url, symbols
        self.writes: list[tuple[float, float, dict[str, object]]] = []  # (t0, ack, prices)
        self.batches: list[SentWrite] = []
        self.unknown = 0
        self.stopped = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        """Poll until stopped."""
        try:
            with psycopg.connect(libpq_url(self.pg_url), autocommit=True) as db:
                self._watch(db)
        except Exception as exc:  # reported with the results; the run itself goes on
            self.error = f"{type(exc).__name__}: {exc}"[:300]

    def _watch(self, db: psycopg.Connection) -> None:
        generation = self.redis.get(self.gen_key)
        count, _ = self._snapshot(db)
        # A batch commits after the previous batch's generation was set, which was after the
        # last poll that still saw the older one: the start of the first is not known (0).
        lower = before_change = 0.0
        while not self.stopped.wait(WATCH_EVERY):
            polled = time.perf_counter()
            current = self.redis.get(self.gen_key)
            seen = time.perf_counter()
            if current == generation:
                before_change = polled
                continue
            generation = current
            new_count, prices = self._snapshot(db)
            if new_count == count:
                continue  # the book moved without a batch (nothing else writes quotes here)
            clean = new_count == count + 1
            self.unknown += not clean
            values = prices if clean else dict.fromkeys(self.symbols, UNKNOWN)
            self.writes.append((lower, seen, values))
            self.batches.append(SentWrite(-1, "feed_batch", 0, 200, lower, seen, None))
            count, lower = new_count, before_change

    def _snapshot(self, db: psycopg.Connection) -> tuple[int, dict[str, object]]:
        count, symbols, prices = db.execute(SNAPSHOT, (FEED_NAME, self.symbols)).fetchone()
        pairs = zip(symbols or [], prices or [], strict=True)
        return count or 0, {symbol: str(Decimal(price)) for symbol, price in pairs}

    def journal_writes(self) -> dict[tuple, list[tuple]]:
        """(("price", symbol)) -> [(t0, ack, value)], as the stale check reads writes."""
        writes: dict[tuple, list[tuple]] = {}
        for start, ack, prices in self.writes:
            for symbol, value in prices.items():
                writes.setdefault(("price", symbol), []).append((start, ack, value))
        return writes
