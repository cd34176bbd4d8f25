"""The Redis store: byte-level operations on the redis-py client (single node, Sentinel,
Cluster), each one round trip.

The decorator never calls Flask-Caching's get/set (they pickle); it talks to the Redis
client through these few operations. ``fynix.caching.local`` has the same operations
without Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

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


# Publish: set a new generation and its entry together, only if the generation still holds
# ARGV[1] ("" meaning: absent). KEYS: generation, entry. ARGV: expected, token, entry,
# entry TTL, generation TTL.
PUBLISH = """
local current = redis.call('get', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[5])
  redis.call('set', KEYS[2], ARGV[3], 'EX', ARGV[4])
  return 1
end
return 0
"""


# Establish: the key's value, after setting it to ARGV[1] (expiry ARGV[2]) if it had none.
ESTABLISH = """
local current = redis.call('get', KEYS[1])
if current then return current end
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
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
        self._publish = client.register_script(PUBLISH)
        self._establish = client.register_script(ESTABLISH)

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

    def publish(
        self, gen_key: str, expected: bytes | None, token: bytes, entry_key: str,
        entry: bytes, entry_ttl: int, gen_ttl: int,
    ) -> bool:  # fmt: skip
        """Set a new generation and its entry at once, if the generation is still
        ``expected`` (both keys share a slot)."""
        args = [expected or b"", token, entry, max(1, int(entry_ttl)), max(1, int(gen_ttl))]
        return bool(self._call(self._publish, keys=[gen_key, entry_key], args=args))

    def establish(self, key: str, token: bytes, ttl: int) -> bytes:
        """The generation of ``key``: its current one, else ``token``, set now."""
        return self._call(self._establish, keys=[key], args=[token, max(1, int(ttl))])

    def close(self) -> None:
        """Close the client's connections (the app is being torn down)."""
        self._call(self.client.close)

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

    def server_ids(self) -> frozenset[str]:
        """The run ids of the servers (every primary of a cluster): new after a restart."""

        def run() -> frozenset[str]:
            return frozenset(str(node.info("server")["run_id"]) for node in self._primaries())

        return self._call(run)

    def used_memory(self) -> int | None:
        """used_memory of the server (summed over primaries for a cluster)."""

        def run() -> int:
            return sum(int(node.info("memory").get("used_memory", 0)) for node in self._primaries())

        return self._call(run)
