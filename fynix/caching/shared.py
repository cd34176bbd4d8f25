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
from fynix.caching.entries import Entry, make_etag
from fynix.caching.hooks import SharedSource
from fynix.caching.lookup import Lookup
from fynix.caching.manager import Bypass, CacheManager, new_token

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

    def publish(self, manager: CacheManager) -> bool:
        """After a write committed: load the source and set a new generation together with
        it (one script), so no reader ever finds a generation without its snapshot. Only if
        the generation is still the one read before loading (else another writer published
        meanwhile, and False: the caller starts a plain new generation instead)."""
        gen_key, entry_key = self.gen_key(manager), self.entry_key(manager)
        with self._lock:  # this process's readers wait for the new copy instead of loading
            (expected,) = manager.call("mget", [gen_key])
            read_at, value = time.time(), self.source.load()
            body, token = self.source.encode(value), new_token()
            ttl = manager.ttl_for(self.source.namespace)
            entry = Entry(token, None, read_at, ttl, make_etag(body), "", body)
            published = manager.call(
                "publish", gen_key, expected, token.encode(), entry_key, entry.encode(),
                ttl, manager.gen_ttl,
            )  # fmt: skip
            if published:
                self._snapshot = Snapshot(value, token, read_at)
            return published

    def _valid(self, manager: CacheManager, snapshot: Snapshot, generation: str | None) -> bool:
        # Within the namespace's TTL, as a stored entry would be (writes that bypass Fynix
        # show within it), and never for "no generation" (Redis lost it: see establish).
        if generation is None or snapshot.generation != generation:
            return False
        distrust = manager.distrust_before()
        if distrust is not None and snapshot.cached_at < distrust:
            return False
        return time.time() - snapshot.cached_at < manager.ttl_for(self.source.namespace)


def publish_after_write(manager: CacheManager, copy: SharedCopy) -> None:
    """A write changed the source: publish it with a new generation, or, when another writer
    published meanwhile, Redis fails or loading fails (the write is committed all the same),
    start a plain new generation (replayed by the manager if Redis cannot be told): readers
    then load it themselves."""
    published = False
    try:
        with suppress(Bypass):
            published = copy.publish(manager)
    finally:
        if not published:
            manager.bump([copy.gen_key(manager)])
