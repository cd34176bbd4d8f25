"""What the workload journal shows: stale reads, hit ratios, latency and SQL per request.

Stale reads are counted over every read of the run (warm-up included). Hit ratios are
counted over a window of time (the measured phase), with each miss sorted into why it
missed: the entry's first read ever; its TTL ran out since it was last filled; it was
dropped before its TTL, with an accepted write of the entry's own user between its last
fill and this read (``own_write``), or else a quote batch there (``quote_update``, only for
the namespaces derived from the price book); ``other`` when neither; ``in_flight`` when an
earlier read of the same entry had not finished filling it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import NamedTuple

from bench.common import percentile
from bench.workload_ops import WRITE_CATEGORIES

TARGETS = {"portfolio": 0.85, "notifications": 0.75, "public": 0.90, "user": 0.80}
MISS_CAUSES = ("first_read", "expired", "own_write", "quote_update", "other", "in_flight")
# what each accepted write drops of its own user's entries (fynix/caching/events.py)
OWN_NAMESPACES = {
    "position write": ("portfolio",),
    "notification write": ("notifications",),
    "AI write": ("ai",),
}
# answers derived from the price book, which a quote batch moves
QUOTE_NAMESPACES = {"portfolio", "market", "public"}
UNKNOWN = "<unknown>"  # a write's value the run could not tell: reads it allows go unchecked


class Request(NamedTuple):
    """One request: what it was, how long it took, how many SQL statements it sent."""

    namespace: str  # "write" for a write
    t0: float
    t1: float
    x_cache: str
    sql: int | None


class CacheRead(NamedTuple):
    """One read as the cache saw it."""

    seq: int
    namespace: str
    x_cache: str
    entry: tuple  # (path, owner): names the cache entry
    kind: str
    t0: float
    t1: float


class SentWrite(NamedTuple):
    """One write as sent: its op, whose, status, times and, for a quote update, its symbol."""

    seq: int
    kind: str
    user: int
    status: int
    t0: float
    ack: float
    symbol: str | None


def find_stale(reads: list[tuple], writes: dict) -> tuple[int, int, list[dict], int]:
    """(checked reads, stale reads, first examples, reads left unchecked because a write's
    value was unknown) over every read of the run."""
    checked = stale = unknown = 0
    examples: list[dict] = []
    for key, t0, t1, value, kind, x_cache in reads:
        key_writes = writes.get(key)
        if not key_writes:
            continue
        before = [w for w in key_writes if w[1] < t0]
        if not before:  # the value before the first write is not known: nothing to hold to
            continue
        allowed = {w[2] for w in key_writes if w[0] < t1 and w[1] >= t0}
        allowed.add(max(before, key=lambda w: w[1])[2])
        if UNKNOWN in allowed:
            unknown += 1
            continue
        checked += 1
        if _normal(value) not in {_normal(v) for v in allowed}:
            stale += 1
            if len(examples) < 10:
                examples.append(
                    {"key": list(key), "read": kind, "x_cache": x_cache, "saw": str(value),
                     "expected": sorted(map(str, allowed))}
                )  # fmt: skip
    return checked, stale, examples, unknown


def _normal(value: object) -> object:
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    return value


def hit_ratios(
    cache: list[CacheRead],
    writes: list[SentWrite],
    ttls: dict[str, int],
    window: tuple[int, int],
) -> dict[str, dict]:
    """Per namespace over reads that started in [start, end): hits, misses by cause,
    bypasses, hit ratio, and the ceiling (the ratio if every miss but each entry's first
    read ever were a hit)."""
    start, end = window
    writers = _accepted_writes(writes)
    counts: dict[str, Counter] = defaultdict(Counter)
    fills: dict[tuple, list[tuple[float, float]]] = defaultdict(list)  # entry -> its misses
    for read in sorted(cache):
        key = (read.namespace, read.entry)
        first = key not in fills
        if start <= read.t0 < end:
            c = counts[read.namespace]
            c[read.x_cache] += 1
            if read.x_cache in {"HIT", "MISS"}:
                c["entries"] += first
            if read.x_cache == "MISS":
                c["first_read" if first else _miss_cause(fills[key], read, ttls, writers)] += 1
        if read.x_cache == "MISS":
            fills[key].append((read.t0, read.t1))
        else:
            fills.setdefault(key, [])
    return {namespace: _row(namespace, c) for namespace, c in sorted(counts.items())}


def _accepted_writes(writes: list[SentWrite]) -> dict[tuple, list[tuple[float, float]]]:
    """(namespace, user) or "quote" -> (start, ack) of each accepted write that drops it."""
    writers: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for write in writes:
        if write.status >= 400:
            continue
        category = WRITE_CATEGORIES[write.kind]
        if category == "quote batch":
            writers[("quote",)].append((write.t0, write.ack))
        for namespace in OWN_NAMESPACES.get(category, ()):
            writers[(namespace, write.user)].append((write.t0, write.ack))
    return writers


def _miss_cause(
    fill_times: list[tuple[float, float]], read: CacheRead, ttls: dict[str, int], writers: dict
) -> str:
    filled = [f for f in fill_times if f[1] <= read.t0]
    if not filled:
        return "in_flight"
    fill_start, _ = max(filled, key=lambda f: f[1])
    # The entry was stored between the fill's start and its answer: from start + TTL on it
    # may have expired (a busy box can take a while from the store to the answer).
    if read.t0 >= fill_start + ttls[read.kind]:
        return "expired"

    def between(key: tuple) -> bool:  # a write that may have bumped after the fill read
        return any(t0 < read.t0 and ack > fill_start for t0, ack in writers.get(key, ()))

    owner = read.entry[1]
    if owner is not None and between((read.namespace, owner)):
        return "own_write"
    if read.namespace in QUOTE_NAMESPACES and between(("quote",)):
        return "quote_update"
    return "other"


def _row(namespace: str, c: Counter) -> dict:
    looked_up = c["HIT"] + c["MISS"]
    return {
        "hits": c["HIT"],
        "misses": c["MISS"],
        **{cause: c[cause] for cause in MISS_CAUSES},
        "bypass": c["BYPASS"],
        "hit_ratio": c["HIT"] / looked_up if looked_up else None,
        "ceiling": 1 - c["entries"] / looked_up if looked_up else None,
        "target": TARGETS.get(namespace),
    }


def write_mix(writes: list[SentWrite], start: float, end: float) -> dict:
    """Per write category, writes started in [start, end): sent and 4xx answers."""
    mix = {name: Counter() for name in dict.fromkeys(WRITE_CATEGORIES.values())}
    for write in writes:
        if start <= write.t0 < end:
            c = mix[WRITE_CATEGORIES[write.kind]]
            c["sent"] += 1
            c["rejected"] += write.status >= 400
    return {name: dict(c) for name, c in mix.items()}


def request_figures(requests: list[Request], start: float, end: float) -> dict[str, dict]:
    """Per namespace (and "all reads", "write", "all") over requests started in [start, end):
    count, p50 and p99 latency in ms, SQL statements per request."""
    groups: dict[str, list[Request]] = defaultdict(list)
    for request in requests:
        if start <= request.t0 < end:
            groups[request.namespace].append(request)
            groups["all"].append(request)
            if request.namespace != "write":
                groups["all reads"].append(request)
    return {name: _figures(rows) for name, rows in sorted(groups.items())}


def _figures(rows: list[Request]) -> dict:
    latencies = [(r.t1 - r.t0) * 1000 for r in rows]
    counted = [r.sql for r in rows if r.sql is not None]
    return {
        "requests": len(rows),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "sql_per_request": sum(counted) / len(counted) if counted else None,
        "x_cache": dict(Counter(r.x_cache for r in rows)),
    }
