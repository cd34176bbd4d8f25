"""The in-process store: entries in this process's SimpleCache (Flask-Caching), generations
and token markers in two tables every process of the host shares (``hostgens``), so a write
made anywhere on the host makes this process's entries stale too."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable
from typing import Any

from fynix.caching.hostgens import HostGenerations
from fynix.caching.keys import is_generation_key, is_marker_key


class LocalStore:
    """Entries in this process's SimpleCache; generations and token markers shared by the
    host's processes, in separate tables: a marker's value repeats (it is derived from the
    token), so a marker sharing a slot with a generation could set it back to an old value.

    An entry is stored with the host-wide *epoch* current when it was stored; clearing the
    cache bumps the epoch, so ``flask cache clear`` empties every process of the host.
    """

    backend = "SimpleCache"
    cluster = False

    def __init__(
        self, simple_cache: Any, generations: HostGenerations, markers: HostGenerations,
        epoch_key: str,
    ) -> None:  # fmt: skip
        self.cache = simple_cache
        self.generations = generations
        self.markers = markers
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

    def _table(self, key: str) -> HostGenerations | None:
        """The host table holding ``key``; None for this process's entries."""
        if is_generation_key(key):
            return self.generations
        return self.markers if is_marker_key(key) else None

    def mget(self, keys: list[str]) -> list[bytes | None]:
        """Generations and markers from the host tables, entries from this process."""
        epoch = self._epoch()
        values = []
        for key in keys:
            table = self._table(key)
            values.append(
                table.get(key) if table is not None else self._unwrap(self.cache.get(key), epoch)
            )
        return values

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
            table = self._table(key)
            if table is not None:
                table.set(key, value)
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
        table = self._table(key)
        if table is None:
            raise ValueError(f"not a host-wide key: {key}")
        return table.compare_and_set(key, expected, value)

    def establish(self, key: str, token: bytes, ttl: int) -> bytes:
        """The host-wide generation of ``key``: its current one, else ``token``, set now."""
        if self.generations.compare_and_set(key, None, token):
            return token
        return self.generations.get(key) or token  # a slot, once written, is never emptied

    def close(self) -> None:
        """Nothing to close: the host tables stay mapped for the process's other apps."""

    def publish(
        self, gen_key: str, expected: bytes | None, token: bytes, entry_key: str,
        entry: bytes, entry_ttl: int, gen_ttl: int,
    ) -> bool:  # fmt: skip
        """Set a new host-wide generation, if still ``expected``, then this process's entry."""
        if not self.generations.compare_and_set(gen_key, expected, token):
            return False
        self.set(entry_key, entry, entry_ttl)
        return True

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

    def server_ids(self) -> frozenset[str]:
        """No server: the host tables live as long as the host."""
        return frozenset({"local"})

    def used_memory(self) -> int | None:
        """Not measurable in-process."""
        return None
