"""Shared data (the price book) held by every process and checked against its generation.

A shared source changes for everyone at once, so it is stored once (an entry in its
namespace's shared scope, stamped with the generation read before it was loaded) and each
process keeps a decoded copy. A read compares the copy's generation with the current one,
which the request fetches in the same round trip as its own keys: while they match the copy
serves with no further I/O; when the generation moves the copy is refreshed from the store
(no SQL), or rebuilt from the database by the first reader after a write.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from fynix.caching import keys
from fynix.caching.decorator import Lookup
from fynix.caching.entries import Entry
from fynix.caching.hooks import SharedSource
from fynix.caching.manager import Bypass, CacheManager

SHARED_ENDPOINT = "shared"


@dataclass(frozen=True)
class Snapshot:
    """A decoded copy, the generation it belongs to and when it was loaded."""

    value: Any
    generation: str | None
    cached_at: float


class SharedCopy:
    """This process's copy of one source."""

    def __init__(self, source: SharedSource) -> None:
        self.source = source
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def gen_key(self, manager: CacheManager) -> str:
        """The generation key of the source's namespace (shared scope)."""
        return keys.gen_key(manager.prefix, self.source.namespace, keys.scope_of(None))

    def entry_key(self, manager: CacheManager) -> str:
        """Where the encoded source is stored."""
        scope = keys.scope_of(None)
        return keys.entry_key(
            manager.prefix, self.source.namespace, scope, SHARED_ENDPOINT, self.source.name
        )

    def current(self, manager: CacheManager, generation: str | None) -> Snapshot | None:
        """The snapshot of ``generation`` without SQL: this process's copy, else the stored
        one (one more round trip, once per process and generation); None when neither is."""
        snapshot = self._snapshot
        if snapshot is not None and self._valid(manager, snapshot, generation):
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and self._valid(manager, snapshot, generation):
                return snapshot
            lookup = Lookup(manager, self.gen_key(manager), self.entry_key(manager), None)
            entry = lookup.fetch()
            if entry is None or entry.generation != generation:
                return None
            return self._keep(entry)

    def obtain(self, manager: CacheManager, generation: str | None) -> tuple[Snapshot, bool]:
        """(snapshot for ``generation``, True when this call loaded it from the database).

        Without a current copy or stored snapshot, one thread of the process rebuilds it
        under the stampede lock, so concurrent readers of every process load it once.
        """
        snapshot = self.current(manager, generation)
        if snapshot is not None:
            return snapshot, False
        with self._lock:
            lookup = Lookup(manager, self.gen_key(manager), self.entry_key(manager), None)
            try:
                entry = lookup.fetch() or lookup.wait_for_peer()
                loaded = entry is None
                if loaded:
                    read_at = time.time()
                    body = self.source.encode(self.source.load())
                    ttl = manager.ttl_for(self.source.namespace)
                    entry = lookup.keep(body, read_at, ttl)
            finally:
                lookup.release()
            return self._keep(entry), loaded

    def _keep(self, entry: Entry) -> Snapshot:
        # The newest reader wins; a thread that saw an older generation can only cost the
        # next request one more fetch, never a stale answer (the generation is checked).
        snapshot = Snapshot(self.source.decode(entry.body), entry.generation, entry.cached_at)
        self._snapshot = snapshot
        return snapshot

    def store(self, manager: CacheManager, generation: str) -> None:
        """Load now and store stamped with ``generation``, a token the caller has just set
        after its write committed (so the load cannot predate the write)."""
        lookup = Lookup(manager, self.gen_key(manager), self.entry_key(manager), None)
        lookup.generation = generation
        read_at = time.time()
        value = self.source.load()
        lookup.keep(self.source.encode(value), read_at, manager.ttl_for(self.source.namespace))
        self._snapshot = Snapshot(value, generation, read_at)

    def _valid(self, manager: CacheManager, snapshot: Snapshot, generation: str | None) -> bool:
        distrust = manager.distrust_before()
        fresh_enough = distrust is None or snapshot.cached_at >= distrust
        return snapshot.generation == generation and fresh_enough


def refresh_after_bump(manager: CacheManager, copy: SharedCopy, token: str) -> None:
    """After a write bumped the source's generation to ``token``, store it at once so that
    readers find it instead of loading it from the database."""
    with suppress(Bypass):
        copy.store(manager, token)
