"""Cache management: stats, health, clear, pattern clear and warming (admin API, pages, CLI)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fynix.caching import keys
from fynix.caching.manager import Bypass, get_manager
from fynix.caching.namespaces import NAMESPACES

SCAN_LIMIT = 20_000
MEMORY_SAMPLE = 200
PATTERN_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


def health() -> dict:
    """``{status: ok|degraded|down, backend, latency_ms, breaker}``."""
    manager = get_manager()
    if not manager.enabled:
        return {"status": "ok", "backend": "disabled", "latency_ms": None, "breaker": "closed"}
    try:
        latency = manager.call("ping")
        status = "ok"
    except Bypass:
        latency, status = None, "down"
    if status == "ok" and manager.pending_invalidations:
        status = "degraded"
    return {
        "status": status,
        "backend": manager.backend,
        "latency_ms": round(latency, 3) if latency is not None else None,
        "breaker": manager.breaker.state,
    }


def ttl_table() -> dict[str, int]:
    """TTL in force per namespace, plus per-endpoint overrides."""
    manager = get_manager()
    return {**manager.ttls, **{k.lower(): v for k, v in manager.settings.items()}}


def _scan_namespace(namespace: str) -> tuple[int, int]:
    manager = get_manager()
    found = list(manager.call("scan", f"{manager.prefix}:{namespace}:*", SCAN_LIMIT))
    sample = found[:MEMORY_SAMPLE]
    sampled = manager.call("memory_usage", sample) if sample else 0
    memory = int(sampled * len(found) / len(sample)) if sample else 0
    return len(found), memory


def _ratio(hits: int, misses: int) -> float | None:
    return round(hits / (hits + misses), 4) if hits + misses else None


def get_stats() -> dict:
    """Counters per namespace (shared by every worker and node), keys, memory, Redis state."""
    manager = get_manager()
    manager.flush_counts()
    try:
        counters = (
            manager.call("hgetall", keys.stats_key(manager.prefix)) if manager.enabled else {}
        )
    except Bypass:
        counters = manager.local_counts()
    namespaces, totals = {}, dict.fromkeys(("hits", "misses", "bypasses", "errors"), 0)
    for name, ns in NAMESPACES.items():
        row = {kind: counters.get(f"{name}:{kind}", 0) for kind in totals}
        try:
            row["keys"], row["memory_bytes"] = _scan_namespace(name) if manager.enabled else (0, 0)
        except Bypass:
            row["keys"], row["memory_bytes"] = None, None
        row.update(
            hit_ratio=_ratio(row["hits"], row["misses"]),
            target_hit_ratio=ns.target_hit_ratio,
            ttl=manager.ttls[name],
        )
        namespaces[name] = row
        for kind in totals:
            totals[kind] += row[kind]
    totals["errors"] += counters.get("_backend:errors", 0)
    totals["hit_ratio"] = _ratio(totals["hits"], totals["misses"])
    return {
        "namespaces": namespaces,
        "totals": totals,
        "redis": _redis_state(),
        "breaker": {
            "state": manager.breaker.state,
            "failures": manager.breaker.failures,
            "pending_invalidations": manager.pending_invalidations,
        },
    }


def _redis_state() -> dict:
    manager = get_manager()
    state = health()
    try:
        used = manager.call("used_memory") if manager.enabled else None
    except Bypass:
        used = None
    return {
        "status": state["status"],
        "backend": state["backend"],
        "latency_ms": state["latency_ms"],
        "used_memory_bytes": used,
    }


def _validated(pattern: str) -> str:
    if not PATTERN_RE.match(pattern or ""):
        raise ValueError("A pattern is 1-200 printable characters without spaces.")
    return pattern


def _matching(pattern: str) -> list[bytes]:
    """Entries and locks of this application matching ``pattern``; the prefix pins the match.

    Generation keys and counters are kept: deleting a generation could let a slow
    reader that read "no generation" store a stale entry that would then look current.
    """
    manager = get_manager()
    stats = keys.stats_key(manager.prefix).encode()
    found = manager.call("scan", f"{manager.prefix}:{_validated(pattern)}")
    return [key for key in found if not key.endswith(b":gen") and key != stats]


def count_pattern(pattern: str) -> int:
    """How many of this application's keys match ``pattern`` (a preview)."""
    return len(_matching(pattern))


def clear_pattern(pattern: str) -> int:
    """UNLINK this application's keys matching ``pattern``; returns how many."""
    manager = get_manager()
    found = _matching(pattern)
    deleted = 0
    for start in range(0, len(found), 500):
        deleted += manager.call("unlink", found[start : start + 500])
    return deleted


def clear_all() -> int:
    """UNLINK every key of this application (and nothing else in the database)."""
    return clear_pattern("*")


def warm(limit_users: int | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Pre-populate shared data and the most recently active users' hot entries."""
    from fynix.caching.warming import warm_cache

    return warm_cache(limit_users, progress)
