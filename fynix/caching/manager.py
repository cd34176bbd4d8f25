"""CacheManager: one per app and process; owns the store, breaker, counters and replay."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections import Counter
from typing import Any

from flask import Flask, current_app

from fynix.caching.breaker import CircuitBreaker
from fynix.caching.keys import stats_key
from fynix.caching.namespaces import EXTRA_TTL_SETTINGS, NAMESPACES
from fynix.caching.store import MemoryStore, RedisStore, StoreError

log = logging.getLogger(__name__)

STATS_FLUSH_SECONDS = 1.0
STATS_TTL = 7 * 24 * 3600
MAX_PENDING = 10_000


class Bypass(Exception):
    """The cache cannot be used for this request (disabled, breaker open, or failing)."""


class CacheManager:
    """Runs every cache operation through the circuit breaker and counts the outcome."""

    def __init__(self, app: Flask, store: Any | None) -> None:
        config = app.config
        self.store = store
        self.enabled = store is not None
        self.prefix = config["CACHE_KEY_PREFIX"]
        self.backend = store.backend if store is not None else "disabled"
        self.breaker = CircuitBreaker(
            config["CACHE_BREAKER_THRESHOLD"], config["CACHE_BREAKER_COOLDOWN"]
        )
        self.ttls = {name: int(config[ns.ttl_setting]) for name, ns in NAMESPACES.items()}
        self.settings = {key: int(config[key]) for key in EXTRA_TTL_SETTINGS}
        self.gen_ttl = 2 * max([*self.ttls.values(), *self.settings.values()]) + 60
        self.lock_ttl_ms = int(config.get("CACHE_LOCK_TTL_MS", 5000))
        self.lock_wait = float(config.get("CACHE_LOCK_WAIT", 2.0))
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._flusher_pid: int | None = None

    def ttl_for(self, namespace: str, setting: str | None = None) -> int:
        """TTL of an endpoint: its own setting when it names one, else its namespace's."""
        return self.settings[setting] if setting else self.ttls[namespace]

    # -- guarded calls ---------------------------------------------------------------
    def call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``store.<operation>`` unless the breaker is open; failures become Bypass.

        Invalidations lost during an outage are replayed before anything else is
        read, so a Redis that resumes with old entries cannot serve them.
        """
        if not self.enabled:
            raise Bypass("cache disabled")
        if not self.breaker.allow():
            raise Bypass("circuit open")
        try:
            if self._pending:
                self._replay_pending()
            result = getattr(self.store, operation)(*args, **kwargs)
        except StoreError as exc:
            self.breaker.record_failure(exc)
            self.count("_backend", "errors")
            raise Bypass(str(exc)) from exc
        if self.breaker.record_success():
            log.warning("cache backend reachable again")
        return result

    def distrust_before(self) -> float | None:
        """Entries cached before the last outage may have missed an invalidation."""
        return self.breaker.outage_started

    # -- generations -----------------------------------------------------------------
    def bump(self, gen_keys: list[str]) -> None:
        """Give each scope a new generation; remember the keys if Redis cannot be told."""
        if not gen_keys or not self.enabled:
            return
        token = uuid.uuid4().hex[:16].encode()
        try:
            self.call("set_many", dict.fromkeys(gen_keys, token), self.gen_ttl)
        except Bypass:
            with self._pending_lock:
                if len(self._pending) + len(gen_keys) > MAX_PENDING:
                    log.error("too many lost invalidations; the cache will be cleared on recovery")
                    self._pending = {"*"}
                else:
                    self._pending.update(gen_keys)

    def _replay_pending(self) -> None:
        """Bump every generation whose invalidation was lost; StoreError if Redis still fails."""
        with self._pending_lock:
            pending, self._pending = self._pending, set()
        try:
            if "*" in pending:
                self._delete_all_entries()
            else:
                token = uuid.uuid4().hex[:16].encode()
                self.store.set_many(dict.fromkeys(pending, token), self.gen_ttl)
        except StoreError:
            with self._pending_lock:
                self._pending |= pending
            raise
        log.warning("replayed %d lost cache invalidations", len(pending))

    def _delete_all_entries(self) -> None:
        found = [k for k in self.store.scan(f"{self.prefix}:*") if not k.endswith(b":stats")]
        for start in range(0, len(found), 500):
            self.store.unlink(found[start : start + 500])

    @property
    def pending_invalidations(self) -> int:
        """How many invalidations wait for Redis to come back."""
        return len(self._pending)

    # -- stats -----------------------------------------------------------------------
    def count(self, namespace: str, kind: str, amount: int = 1) -> None:
        """Add to a shared counter (flushed to the store about once a second)."""
        with self._counts_lock:
            self._counts[f"{namespace}:{kind}"] += amount
        self._ensure_flusher()

    def flush_counts(self) -> None:
        """Push buffered counters to the store now."""
        with self._counts_lock:
            counts, self._counts = self._counts, Counter()
        if not counts or not self.enabled:
            return
        try:
            if not self.breaker.allow():
                raise Bypass("circuit open")
            self.store.hincrby_many(stats_key(self.prefix), dict(counts), STATS_TTL)
        except (StoreError, Bypass):
            with self._counts_lock:
                self._counts.update(counts)

    def local_counts(self) -> dict[str, int]:
        """Counters not yet flushed (used when the store is unreachable)."""
        with self._counts_lock:
            return dict(self._counts)

    def _ensure_flusher(self) -> None:
        # One daemon thread per process (started lazily, so it survives gunicorn's fork).
        if self._flusher_pid == os.getpid() or not self.enabled:
            return
        self._flusher_pid = os.getpid()
        thread = threading.Thread(
            target=_flush_forever, args=(weakref.ref(self),), name="fynix-cache-stats", daemon=True
        )
        thread.start()


def _flush_forever(manager_ref: weakref.ref) -> None:
    """Flush counters every second until the manager (and its app) is gone."""
    while True:
        time.sleep(STATS_FLUSH_SECONDS)
        manager = manager_ref()
        if manager is None:
            return
        try:
            manager.flush_counts()
        except Exception:  # never let the flusher die
            log.exception("cache stats flush failed")
        del manager


def build_store(app: Flask) -> Any | None:
    """Bind Flask-Caching's backend for this config and wrap it in a byte-level store.

    Precedence: REDIS_CLUSTER_NODES, then REDIS_SENTINELS, then REDIS_URL, else in-process.
    """
    from fynix.extensions import cache

    config = app.config
    if not config["CACHE_ENABLED"]:
        cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})
        return None
    options = _redis_options(config)
    if config.get("REDIS_CLUSTER_NODES"):
        options.pop("max_connections")  # RedisCluster keeps one pool per node itself
        backend = {
            "CACHE_TYPE": "RedisClusterCache",
            "CACHE_REDIS_CLUSTER": config["REDIS_CLUSTER_NODES"],
        }
    elif config.get("REDIS_SENTINELS"):
        # sentinel_* options apply to the connections to the sentinels themselves.
        options["sentinel_socket_timeout"] = options["socket_timeout"]
        options["sentinel_socket_connect_timeout"] = options["socket_connect_timeout"]
        backend = {
            "CACHE_TYPE": "RedisSentinelCache",
            "CACHE_REDIS_SENTINELS": parse_hostports(config["REDIS_SENTINELS"]),
            "CACHE_REDIS_SENTINEL_MASTER": config["REDIS_SENTINEL_MASTER"],
        }
    elif config.get("REDIS_URL"):
        backend = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": config["REDIS_URL"]}
    else:
        cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 100_000})
        return MemoryStore(_backend(app))
    cache.init_app(app, config={**backend, "CACHE_OPTIONS": options})
    return RedisStore(_backend(app)._write_client, backend["CACHE_TYPE"])


def _redis_options(config: Any) -> dict[str, Any]:
    """Client options shared by every Redis topology: short timeouts, no retry storm."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_timeout": config["REDIS_SOCKET_TIMEOUT"],
        "socket_connect_timeout": config["REDIS_CONNECT_TIMEOUT"],
        "retry": Retry(NoBackoff(), 0),  # fail fast: the breaker decides when to retry
        "max_connections": config["REDIS_MAX_CONNECTIONS"],
        "health_check_interval": 0,
    }


def parse_hostports(spec: str) -> list[tuple[str, int]]:
    """``"host:port,host:port"`` -> ``[(host, port), ...]`` (REDIS_SENTINELS)."""
    pairs = []
    for item in spec.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"expected host:port in {spec!r}, got {item.strip()!r}")
        pairs.append((host, int(port)))
    return pairs


def _backend(app: Flask) -> Any:
    from fynix.extensions import cache

    return app.extensions["cache"][cache]


def get_manager(app: Flask | None = None) -> CacheManager:
    """The CacheManager of ``app`` (default: the current app)."""
    return (app or current_app).extensions["fynix_cache"]
