"""What the workload journal shows: stale reads, hit ratios per phase, the write mix.

Stale reads are counted over every read of the run (warm-up included). Hit ratios are
counted over a window of sequence numbers (the measured phase), with each miss sorted
into why it missed: the entry's first read ever; its TTL ran out since it was last
filled; it was dropped before its TTL, with an accepted write of the entry's own user
between its last fill and this read (``own_write``), or else a quote update there
(``quote_update``, only for the namespaces quote updates drop); ``other`` when neither;
``in_flight`` when an earlier read of the same entry had not finished filling it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import NamedTuple

from bench.workload_ops import WRITE_CATEGORIES

TARGETS = {"portfolio": 0.85, "notifications": 0.75, "public": 0.90, "user": 0.80}
MISS_CAUSES = ("first_read", "expired", "own_write", "quote_update", "other", "in_flight")
# what each accepted write drops, besides that user's entries (fynix/caching/events.py)
OWN_NAMESPACES = {
    "position write": ("portfolio", "ai"),
    "notification write": ("notifications",),
    "profile write": ("user",),
    "AI write": ("ai",),
}
QUOTE_NAMESPACES = {"portfolio", "ai", "market", "public"}


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


def find_stale(reads: list[tuple], writes: dict) -> tuple[int, int, list[dict]]:
    """(checked reads, stale reads, first examples) over every read of the run."""
    checked = stale = 0
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


def hit_ratios(
    cache: list[CacheRead],
    writes: list[SentWrite],
    ttls: dict[str, int],
    window: tuple[int, int],
) -> dict[str, dict]:
    """Per namespace over reads with start <= seq < end: hits, misses by cause, bypasses,
    hit ratio, and the ceiling (the ratio if every miss but each entry's first read ever
    were a hit)."""
    start, end = window
    writers = _accepted_writes(writes)
    counts: dict[str, Counter] = defaultdict(Counter)
    fills: dict[tuple, list[tuple[float, float]]] = defaultdict(list)  # entry -> its misses
    for read in sorted(cache):
        key = (read.namespace, read.entry)
        first = key not in fills
        if start <= read.seq < end:
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
        if category == "quote update":
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
    fill_start, fill_end = max(filled, key=lambda f: f[1])
    if read.t0 >= fill_end + ttls[read.kind]:
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


def write_mix(writes: list[SentWrite], holders: dict[str, int], start: int, end: int) -> dict:
    """Per write category in the window: sent, 4xx answers, and for quote updates how many
    portfolio namespaces (holders of the symbol) each one invalidated."""
    mix = {name: Counter() for name in dict.fromkeys(WRITE_CATEGORIES.values())}
    for write in writes:
        if not start <= write.seq < end:
            continue
        c = mix[WRITE_CATEGORIES[write.kind]]
        c["sent"] += 1
        c["rejected"] += write.status >= 400
        if write.symbol is not None:
            c["holders"] += holders.get(write.symbol, 0)
    return {name: dict(c) for name, c in mix.items()}
