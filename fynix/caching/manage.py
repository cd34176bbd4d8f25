"""Cache management: stats, health, clear, pattern clear and warming (admin API, pages, CLI).

Every function that needs the shared backend raises ``Bypass`` when it is unreachable:
the API answers 503, the admin pages show a degraded view, never a 500.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from fynix.caching import keys
from fynix.caching.manager import Bypass, get_manager, new_token
from fynix.caching.namespaces import NAMESPACES
from fynix.caching.warming import warm_cache

SCAN_LIMIT = 20_000
MEMORY_SAMPLE = 200
PATTERN_RE = re.compile(r"^[\x21-\x7e]{1,200}$")
COUNTER_KINDS = ("hits", "misses", "bypasses", "errors")


def health() -> dict:
    """``{status: ok|degraded|down, backend, latency_ms, breaker, pending, process}``.

    ``breaker`` and ``pending`` are the answering process's state as the request found it
    (before this request's own PING could change them).
    """
    manager = get_manager()
    state = {
        "backend": manager.backend,
        "process": os.getpid(),
        "breaker": manager.breaker.state,
        "pending": manager.pending_invalidations,
    }
    if not manager.enabled:
        return {**state, "status": "ok", "latency_ms": None}
    try:
        latency = round(manager.call("ping"), 3)
        status = "degraded" if manager.pending_invalidations else "ok"
    except Bypass:
        latency, status = None, "down"
    return {**state, "status": status, "latency_ms": latency}


def ttl_table() -> dict[str, int]:
    """TTL in force per namespace, plus per-endpoint overrides."""
    manager = get_manager()
    return {**manager.ttls, **{k.lower(): v for k, v in manager.settings.items()}}


def _app_keys(match: str, limit: int | None = None) -> list[bytes]:
    """This application's entry and lock keys matching ``match`` (after the prefix).

    Generation keys and counters are never listed, counted or deleted: deleting a
    generation could let a slow reader that read "no generation" store a stale entry
    that would then look current. The cache page and pattern previews count with this
    same rule, so their numbers agree.
    """
    manager = get_manager()
    stats = keys.stats_key(manager.prefix).encode()
    found = manager.call("scan", f"{manager.prefix}:{match}", limit)
    return [key for key in found if not key.endswith(b":gen") and key != stats]


def _namespace_entries(namespace: str) -> tuple[int, int]:
    found = _app_keys(f"{namespace}:*", SCAN_LIMIT)
    sample = found[:MEMORY_SAMPLE]
    sampled = get_manager().call("memory_usage", sample) if sample else 0
    return len(found), int(sampled * len(found) / len(sample)) if sample else 0


def _ratio(hits: int, misses: int) -> float | None:
    return round(hits / (hits + misses), 4) if hits + misses else None


def get_stats(strict: bool = True) -> dict:
    """Counters per namespace (shared by every worker and node), entries, memory, state.

    With ``strict`` an unreachable backend raises ``Bypass``; otherwise the answer holds
    this process's unflushed counters, no entry counts, and says the backend is down.
    """
    manager = get_manager()
    manager.flush_counts()
    try:
        counters = (
            manager.call("hgetall", keys.stats_key(manager.prefix)) if manager.enabled else {}
        )
        entries = {name: _namespace_entries(name) for name in NAMESPACES} if manager.enabled else {}
        used = manager.call("used_memory") if manager.enabled else None
    except Bypass:
        if strict:
            raise
        counters, entries, used = manager.local_counts(), {}, None
    namespaces = {name: _namespace_row(name, counters, entries) for name in NAMESPACES}
    totals = {kind: sum(row[kind] for row in namespaces.values()) for kind in COUNTER_KINDS}
    totals["errors"] += counters.get("_backend:errors", 0)
    totals["hit_ratio"] = _ratio(totals["hits"], totals["misses"])
    state = health()
    return {
        "namespaces": namespaces,
        "totals": totals,
        "redis": {
            "status": state["status"],
            "backend": state["backend"],
            "latency_ms": state["latency_ms"],
            "used_memory_bytes": used,
        },
        "breaker": {
            "state": manager.breaker.state,
            "failures": manager.breaker.failures,
            "pending_invalidations": manager.pending_invalidations,
        },
    }


def _namespace_row(name: str, counters: dict, entries: dict) -> dict:
    manager = get_manager()
    row = {kind: counters.get(f"{name}:{kind}", 0) for kind in COUNTER_KINDS}
    row["keys"], row["memory_bytes"] = entries.get(name, (None, None))
    if not manager.enabled:
        row["keys"], row["memory_bytes"] = 0, 0
    row.update(
        hit_ratio=_ratio(row["hits"], row["misses"]),
        target_hit_ratio=NAMESPACES[name].target_hit_ratio,
        ttl=manager.ttls[name],
    )
    return row


def _validated(pattern: str) -> str:
    if not PATTERN_RE.fullmatch(pattern or ""):
        raise ValueError("A pattern is 1-200 printable characters without spaces.")
    return pattern


def count_pattern(pattern: str) -> int:
    """How many of this application's entries match ``pattern`` (a preview)."""
    return len(_app_keys(_validated(pattern)))


def clear_pattern(pattern: str) -> int:
    """UNLINK this application's entries matching ``pattern``; returns how many."""
    manager = get_manager()
    found = _app_keys(_validated(pattern))
    deleted = 0
    for start in range(0, len(found), 500):
        deleted += manager.call("unlink", found[start : start + 500])
    return deleted


def clear_all() -> int:
    """Drop every entry of this application (and nothing else in the database).

    Without Redis this also starts a new host-wide epoch, so every process on the host,
    not only this one, drops its entries (e.g. ``flask cache clear`` after a restore). The
    shared sources (the price book) get new generations, so no process keeps serving its
    own decoded copy either.
    """
    manager = get_manager()
    deleted = clear_pattern("*")
    if hasattr(manager.store, "clear_host"):
        manager.store.clear_host()
    token = new_token().encode()
    shared = {copy.gen_key(manager): token for copy in manager.shared.values()}
    if shared:
        manager.call("set_many", shared, manager.gen_ttl)
    return deleted


def warm(limit_users: int | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Pre-populate shared data and the most recently active users' hot entries."""
    get_manager().call("ping")  # Bypass (503) when there is no cache to warm
    return warm_cache(limit_users, progress)
