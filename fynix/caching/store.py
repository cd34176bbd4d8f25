"""Byte-level cache stores behind Flask-Caching's backends: Redis, Redis Cluster, in-process.

The decorator never calls Flask-Caching's get/set (they pickle); it talks to the
backend's client through these few operations, each one Redis round trip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# Compare-and-delete: release a lock only if we still own it.
RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class StoreError(Exception):
    """The cache backend failed or timed out."""


class RedisStore:
    """Operations on a redis-py client (Redis or RedisCluster)."""

    def __init__(self, client: Any, backend: str) -> None:
        self.client = client
        self.backend = backend
        self.cluster = backend == "RedisClusterCache"
        self._release = client.register_script(RELEASE_LOCK)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return fn(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            raise StoreError(str(exc)) from exc

    def mget(self, keys: list[str]) -> list[bytes | None]:
        """Values of ``keys`` (all in one hash slot) in one round trip."""
        return self._call(self.client.mget, keys)

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """SET with expiry."""
        self._call(self.client.set, key, value, ex=max(1, int(ttl)))

    def set_many(self, mapping: dict[str, bytes], ttl: int) -> None:
        """SET several keys with expiry in one pipeline (no transaction across slots)."""

        def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            for key, value in mapping.items():
                pipe.set(key, value, ex=max(1, int(ttl)))
            pipe.execute()

        self._call(run)

    def add(self, key: str, value: bytes, ttl_ms: int) -> bool:
        """SET NX PX: True when the key was created (a lock acquired)."""
        return bool(self._call(self.client.set, key, value, nx=True, px=max(1, int(ttl_ms))))

    def release(self, key: str, token: bytes) -> None:
        """Delete ``key`` only if it still holds ``token``."""
        self._call(self._release, keys=[key], args=[token])

    def hincrby_many(self, key: str, counts: dict[str, int], ttl: int) -> None:
        """Add ``counts`` to hash fields and refresh the hash's expiry."""

        def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            for field, amount in counts.items():
                pipe.hincrby(key, field, amount)
            pipe.expire(key, ttl)
            pipe.execute()

        self._call(run)

    def hgetall(self, key: str) -> dict[str, int]:
        """A counters hash as ints."""
        raw = self._call(self.client.hgetall, key)
        return {k.decode(): int(v) for k, v in raw.items()}

    def _primaries(self) -> list[Any]:
        if not self.cluster:
            return [self.client]
        return [self.client.get_redis_connection(node) for node in self.client.get_primaries()]

    def scan(self, match: str, limit: int | None = None) -> Iterator[bytes]:
        """SCAN every primary for ``match`` (optionally stopping after ``limit`` keys)."""
        seen = 0
        for node in self._call(self._primaries):
            cursor = 0
            while True:
                cursor, keys = self._call(node.scan, cursor=cursor, match=match, count=500)
                for key in keys:
                    yield key
                    seen += 1
                    if limit is not None and seen >= limit:
                        return
                if cursor == 0:
                    break

    def unlink(self, keys: list[bytes]) -> int:
        """UNLINK keys (grouped per key so cluster slots never mix)."""
        if not keys:
            return 0
        if not self.cluster:
            return int(self._call(self.client.unlink, *keys))

        def run() -> int:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.unlink(key)
            return sum(int(n) for n in pipe.execute())

        return self._call(run)

    def memory_usage(self, keys: list[bytes]) -> int:
        """Approximate bytes used by ``keys``."""

        def run() -> int:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.memory_usage(key)
            return sum(int(n or 0) for n in pipe.execute())

        return self._call(run) if keys else 0

    def ping(self) -> float:
        """Round-trip time of PING in milliseconds."""
        start = time.perf_counter()
        self._call(self.client.ping)
        return (time.perf_counter() - start) * 1000

    def used_memory(self) -> int | None:
        """used_memory of the server (summed over primaries for a cluster)."""
        total = 0
        for node in self._call(self._primaries):
            total += int(self._call(node.info, "memory").get("used_memory", 0))
        return total

    def ttl(self, key: str) -> int:
        """Seconds to live of ``key`` (-1 none, -2 missing)."""
        return int(self._call(self.client.ttl, key))


class MemoryStore:
    """The same operations on Flask-Caching's in-process SimpleCache (one process only)."""

    backend = "SimpleCache"
    cluster = False

    def __init__(self, simple_cache: Any) -> None:
        self.cache = simple_cache
        self._lock = threading.Lock()

    def mget(self, keys: list[str]) -> list[bytes | None]:
        """Values of ``keys``."""
        return list(self.cache.get_many(*keys))

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store with expiry."""
        self.cache.set(key, value, timeout=max(1, int(ttl)))

    def set_many(self, mapping: dict[str, bytes], ttl: int) -> None:
        """Store several keys."""
        self.cache.set_many(mapping, timeout=max(1, int(ttl)))

    def add(self, key: str, value: bytes, ttl_ms: int) -> bool:
        """Create ``key`` unless it exists."""
        return bool(self.cache.add(key, value, timeout=max(1, int(ttl_ms) // 1000 or 1)))

    def release(self, key: str, token: bytes) -> None:
        """Delete ``key`` if it still holds ``token``."""
        with self._lock:
            if self.cache.get(key) == token:
                self.cache.delete(key)

    def hincrby_many(self, key: str, counts: dict[str, int], ttl: int) -> None:
        """Add to a dict of counters."""
        with self._lock:
            current = self.cache.get(key) or {}
            for field, amount in counts.items():
                current[field] = current.get(field, 0) + amount
            self.cache.set(key, current, timeout=ttl)

    def hgetall(self, key: str) -> dict[str, int]:
        """A dict of counters."""
        return dict(self.cache.get(key) or {})

    def _live_keys(self) -> list[str]:
        # cachelib's SimpleCache keeps (expires, value) in _cache; expired ones are skipped.
        now = time.time()
        return [
            k
            for k, (expires, _) in list(self.cache._cache.items())
            if expires == 0 or expires > now
        ]

    def scan(self, match: str, limit: int | None = None) -> Iterator[bytes]:
        """Keys matching the glob ``match``."""
        from fnmatch import fnmatchcase

        seen = 0
        for key in self._live_keys():
            if fnmatchcase(key, match):
                yield key.encode()
                seen += 1
                if limit is not None and seen >= limit:
                    return

    def unlink(self, keys: Iterable[bytes]) -> int:
        """Delete keys; returns how many existed."""
        count = 0
        for key in keys:
            name = key.decode() if isinstance(key, bytes) else key
            if self.cache.has(name):
                self.cache.delete(name)
                count += 1
        return count

    def memory_usage(self, keys: list[bytes]) -> int:
        """Approximate bytes of the stored values."""
        values = self.cache.get_many(*[k.decode() for k in keys]) if keys else []
        return sum(len(v) for v in values if isinstance(v, bytes))

    def ping(self) -> float:
        """Always reachable."""
        return 0.0

    def used_memory(self) -> int | None:
        """Not measurable in-process."""
        return None

    def ttl(self, key: str) -> int:
        """Seconds to live of ``key``."""
        entry = self.cache._cache.get(key)
        if entry is None:
            return -2
        return -1 if entry[0] == 0 else max(0, int(entry[0] - time.time()))
