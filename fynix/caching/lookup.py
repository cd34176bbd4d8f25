"""Lookup: one request's conversation with the store about one entry (generation read,
stampede lock, stamped store), shared by cached views, derived views and the price book."""

from __future__ import annotations

import time
import uuid
from contextlib import suppress

from flask import Response

from fynix.caching import keys
from fynix.caching.entries import Entry, decode, make_etag
from fynix.caching.manager import Bypass, CacheManager, new_token
from fynix.caching.responses import respond
from fynix.caching.tokens import TokenGate

LOCK_POLL_SECONDS = 0.02


class Lookup:
    """One request's conversation with the store about one entry."""

    def __init__(self, manager: CacheManager, gen_key: str, entry_key: str, owner: str | None):
        self.manager = manager
        self.gen_key = gen_key
        self.entry_key = entry_key
        self.lock_key = keys.lock_key(entry_key)
        self.owner = owner
        self.generation: str | None = None
        self.lock_token: bytes | None = None

    def valid(self, gen_raw: bytes | None, raw: bytes | None) -> Entry | None:
        """The entry when it is current and this caller's; remembers the generation read."""
        # A tampered, non-UTF-8 generation must be a miss, not a 500.
        self.generation = gen_raw.decode("utf-8", "replace") if gen_raw else None
        entry = decode(raw)
        if entry is None or entry.generation != self.generation or entry.owner != self.owner:
            return None
        distrust = self.manager.distrust_before()
        if distrust is not None and entry.cached_at < distrust:
            return None
        return entry

    def fetch(self) -> Entry | None:
        """MGET generation + entry; None when absent or stale."""
        return self.valid(*self.manager.call("mget", [self.gen_key, self.entry_key]))

    def first_read(self, gate: TokenGate | None) -> tuple[Entry | None, bool]:
        """The one round trip of a hit: generation, entry and, for a login-only answer, the
        token's marker and generation; (entry or None, whether the token is admitted)."""
        if gate is None:
            return self.fetch(), True
        if keys.hash_tag(self.gen_key) == keys.hash_tag(gate.keys[0]):
            groups = [[self.gen_key, self.entry_key, *gate.keys]]
        else:
            groups = [[self.gen_key, self.entry_key], gate.keys]
        values = [value for group in self.manager.call("mget_groups", groups) for value in group]
        return self.valid(values[0], values[1]), gate.admits(values[2], values[3])

    def wait_for_peer(self) -> Entry | None:
        """Take the stampede lock, or wait (bounded) while its holder computes.

        Waiters read the lock with the entry: once it is gone without a fresh entry (the
        holder answered a 404, failed, or its lock expired) they stop waiting at once.
        """
        token = uuid.uuid4().hex.encode()
        if self.manager.call("add", self.lock_key, token, self.manager.lock_ttl_ms):
            self.lock_token = token
            # The previous holder may have stored and released between our MGET and SET NX.
            entry = self.fetch()
            if entry is not None:
                self.release()
            elif self.generation is None:
                self.establish()
            return entry
        deadline = time.monotonic() + self.manager.lock_wait
        while time.monotonic() < deadline:
            time.sleep(LOCK_POLL_SECONDS)
            gen_raw, raw, lock = self.manager.call(
                "mget", [self.gen_key, self.entry_key, self.lock_key]
            )
            entry = self.valid(gen_raw, raw)
            if entry is not None or lock is None:
                return entry
        return None

    def establish(self) -> None:
        """Give a scope without a generation (new, or Redis restarted empty) one before
        computing, so that no entry is ever stamped "no generation": such an entry, or a
        process's copy of one, would look current again whenever the generation is lost."""
        token = new_token().encode()
        established = self.manager.call("establish", self.gen_key, token, self.manager.gen_ttl)
        self.generation = established.decode("utf-8", "replace")

    def store(self, response: Response, ttl: int, headers: dict[str, str]) -> Response:
        """Keep a 200 JSON response, stamped with the generation read before computing."""
        if response.status_code != 200 or response.direct_passthrough:
            response.headers["X-Cache"] = "BYPASS"
            return response
        entry = self.keep(response.get_data(), time.time(), ttl, response.mimetype)
        return respond(entry.body, entry.etag, "MISS", headers, response.mimetype, None)

    def keep(self, body: bytes, read_at: float, ttl: int, mimetype: str = "") -> Entry:
        """Store ``body`` stamped with the generation read before computing it (not stored
        without one: see ``establish``)."""
        entry = Entry(self.generation, self.owner, read_at, ttl, make_etag(body), mimetype, body)
        if self.generation is not None:
            with suppress(Bypass):  # still served; the next request tries to store again
                self.manager.call("set", self.entry_key, entry.encode(), ttl)
        return entry

    def release(self) -> None:
        """Release the stampede lock if this request holds it."""
        if self.lock_token is not None:
            token, self.lock_token = self.lock_token, None
            with suppress(Bypass):  # otherwise the lock expires by itself
                self.manager.call("release", self.lock_key, token)
