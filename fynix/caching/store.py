"""Byte-level cache stores: Redis (single node, Sentinel, Cluster) and the in-process default.

The decorator never calls Flask-Caching's get/set (they pickle); it talks to the Redis
client through these few operations, each one round trip. Without Redis, entries live in
Flask-Caching's SimpleCache of this process and generations in a table shared by every
process of the host, so a write made anywhere on the host makes them stale here too.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis

from fynix.caching.hostgens import HostGenerations
from fynix.caching.keys import is_host_key

# Compare-and-delete: release a lock only if we still own it.
RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


# Compare-and-set: write ARGV[2] (with expiry ARGV[3]) only if the key holds ARGV[1]
# ("" meaning: the key does not exist).
COMPARE_AND_SET = """
local current = redis.call('get', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class StoreError(Exception):
    """The cache backend failed or timed out."""


class RedisStore:
    """Operations on a redis-py client (Redis, a Sentinel-managed master, or RedisCluster)."""

    def __init__(self, client: Any, backend: str) -> None:
        self.client = client
        self.backend = backend
        self.cluster = isinstance(client, redis.RedisCluster)
        self._release = client.register_script(RELEASE_LOCK)
        self._compare_and_set = client.register_script(COMPARE_AND_SET)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            raise StoreError(str(exc)) from exc

    def mget(self, keys: list[str]) -> list[bytes | None]:
        """Values of ``keys`` (all in one hash slot) in one round trip."""
        return self._call(self.client.mget, keys)

    def mget_groups(self, groups: list[list[str]]) -> list[list[bytes | None]]:
        """Values of several groups of keys (each group in one hash slot) in one round trip:
        one MGET on a single server; on a cluster one pipeline of GETs, which the client
        writes to every node concerned before reading any answer."""
        flat = [key for group in groups for key in group]
        if not self.cluster:
            values = iter(self._call(self.client.mget, flat))
        else:

            def run() -> list[bytes | None]:
                pipe = self.client.pipeline(transaction=False)
                for key in flat:
                    pipe.get(key)
                return pipe.execute()

            values = iter(self._call(run))
        return [[next(values) for _ in group] for group in groups]

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

    def cas(self, key: str, expected: bytes | None, value: bytes, ttl: int) -> bool:
        """Set ``value`` only if ``key`` still holds ``expected`` (None: absent)."""
        args = [expected or b"", value, max(1, int(ttl))]
        return bool(self._call(self._compare_and_set, keys=[key], args=args))

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

    def scan(self, match: str, limit: int | None = None) -> list[bytes]:
        """Keys matching ``match`` on every primary (at most ``limit``), read in full here so
        that a failure mid-scan is this call's failure, not its consumer's."""

        def run() -> list[bytes]:
            found: list[bytes] = []
            for node in self._primaries():
                for key in node.scan_iter(match=match, count=500):
                    found.append(key)
                    if limit is not None and len(found) >= limit:
                        return found
            return found

        return self._call(run)

    def unlink(self, keys: list[bytes]) -> int:
        """UNLINK keys (one command per key on a cluster, so slots never mix)."""
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

        def run() -> int:
            return sum(int(node.info("memory").get("used_memory", 0)) for node in self._primaries())

        return self._call(run)


class LocalStore:
    """Entries in this process's SimpleCache; generations and token markers shared by the
    host's processes.

    An entry is stored with the host-wide *epoch* current when it was stored; clearing the
    cache bumps the epoch, so ``flask cache clear`` empties every process of the host.
    """

    backend = "SimpleCache"
    cluster = False

    def __init__(self, simple_cache: Any, generations: HostGenerations, epoch_key: str) -> None:
        self.cache = simple_cache
        self.generations = generations
        self.epoch_key = epoch_key
        self._keys: set[str] = set()  # every key written (SimpleCache cannot list its keys)
        self._lock = threading.Lock()

    def _epoch(self) -> bytes:
        return self.generations.get(self.epoch_key) or b"-"

    def _wrap(self, value: bytes) -> tuple[bytes, bytes]:
        return (self._epoch(), value)

    def _unwrap(self, stored: Any, epoch: bytes) -> bytes | None:
        if isinstance(stored, tuple) and stored[0] == epoch:
            return stored[1]
        return None

    def mget(self, keys: list[str]) -> list[bytes | None]:
        """Generations from the shared table, entries from this process."""
        epoch = self._epoch()
        return [
            self.generations.get(key)
            if is_host_key(key)
            else self._unwrap(self.cache.get(key), epoch)
            for key in keys
        ]

    def mget_groups(self, groups: list[list[str]]) -> list[list[bytes | None]]:
        """Values of several groups of keys."""
        return [self.mget(group) for group in groups]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store with expiry."""
        self.set_many({key: value}, ttl)

    def set_many(self, mapping: dict[str, bytes], ttl: int) -> None:
        """Set generations host-wide (a new token); store entries in this process."""
        entries = {}
        for key, value in mapping.items():
            if is_host_key(key):
                self.generations.set(key, value)
            else:
                entries[key] = self._wrap(value)
        if entries:
            with self._lock:
                self._keys.update(entries)
            self.cache.set_many(entries, timeout=max(1, int(ttl)))

    def add(self, key: str, value: bytes, ttl_ms: int) -> bool:
        """Create ``key`` unless it exists."""
        with self._lock:
            self._keys.add(key)
        timeout = max(1, -(-int(ttl_ms) // 1000))
        return bool(self.cache.add(key, self._wrap(value), timeout=timeout))

    def release(self, key: str, token: bytes) -> None:
        """Delete ``key`` if it still holds ``token``."""
        with self._lock:
            if self._unwrap(self.cache.get(key), self._epoch()) == token:
                self.cache.delete(key)

    def cas(self, key: str, expected: bytes | None, value: bytes, ttl: int) -> bool:
        """Compare-and-set a host-wide key."""
        return self.generations.compare_and_set(key, expected, value)

    def hincrby_many(self, key: str, counts: dict[str, int], ttl: int) -> None:
        """Add to this process's counters."""
        with self._lock:
            current = dict(self.cache.get(key) or {})
            for field, amount in counts.items():
                current[field] = current.get(field, 0) + amount
            self.cache.set(key, current, timeout=ttl)

    def hgetall(self, key: str) -> dict[str, int]:
        """This process's counters."""
        return dict(self.cache.get(key) or {})

    def scan(self, match: str, limit: int | None = None) -> list[bytes]:
        """Live entry keys of this process matching the glob ``match``."""
        with self._lock:
            known = list(self._keys)
        epoch, found = self._epoch(), []
        for key in known:
            if self._unwrap(self.cache.get(key), epoch) is None:
                with self._lock:
                    self._keys.discard(key)
            elif fnmatch.fnmatchcase(key, match):
                found.append(key.encode())
                if limit is not None and len(found) >= limit:
                    break
        return found

    def unlink(self, keys: Iterable[bytes]) -> int:
        """Delete entries of this process; returns how many existed."""
        count = 0
        for key in keys:
            name = key.decode() if isinstance(key, bytes) else key
            if self.cache.has(name):
                self.cache.delete(name)
                count += 1
        return count

    def clear_host(self) -> None:
        """Drop every process's entries on this host (a new epoch)."""
        self.generations.bump(self.epoch_key)

    def memory_usage(self, keys: list[bytes]) -> int:
        """Approximate bytes of the stored values."""
        values = self.mget([k.decode() for k in keys]) if keys else []
        return sum(len(v) for v in values if v is not None)

    def ping(self) -> float:
        """Always reachable."""
        return 0.0

    def used_memory(self) -> int | None:
        """Not measurable in-process."""
        return None
