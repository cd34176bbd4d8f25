"""CacheManager: one per app and process; owns the store, breaker, counters and replay."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections import Counter
from contextlib import suppress
from typing import Any

from flask import Flask, current_app

from fynix.caching.breaker import CircuitBreaker
from fynix.caching.hooks import CacheHooks
from fynix.caching.incarnation import ServerWatch
from fynix.caching.keys import stats_key
from fynix.caching.namespaces import EXTRA_TTL_SETTINGS, NAMESPACES
from fynix.caching.owed import CLEAR_ALL, OwedInvalidations
from fynix.caching.store import StoreError

log = logging.getLogger(__name__)

STATS_FLUSH_SECONDS = 1.0
RECOVERY_PROBE_SECONDS = 0.2
STATS_TTL = 7 * 24 * 3600


def new_token() -> str:
    """A new generation token: 16 random hex digits."""
    return uuid.uuid4().hex[:16]


class Bypass(Exception):
    """The cache cannot be used for this request (disabled, breaker open, or failing)."""


class CacheManager:
    """Runs every cache operation through the circuit breaker and counts the outcome.

    A background thread per process flushes the counters and, while Redis is unreachable
    or invalidations are owed, probes it every 0.2 s: an idle worker closes its breaker
    and replays what it owes as soon as Redis answers, without waiting for a request.
    """

    def __init__(self, config: Any, store: Any | None) -> None:
        self.store = store
        self.hooks = CacheHooks()  # replaced by init_cache with the app's own
        self.shared: dict[str, Any] = {}  # name -> SharedCopy, set by init_cache
        self.enabled = store is not None
        self.prefix = config["CACHE_KEY_PREFIX"]
        self.backend = store.backend if store is not None else "disabled"
        self.breaker = CircuitBreaker(
            config["CACHE_BREAKER_THRESHOLD"], config["CACHE_BREAKER_COOLDOWN"]
        )
        self.ttls = {name: int(config[ns.ttl_setting]) for name, ns in NAMESPACES.items()}
        self.settings = {key: int(config[key]) for key in EXTRA_TTL_SETTINGS}
        self.gen_ttl = 2 * max([*self.ttls.values(), *self.settings.values()]) + 60
        self.lock_ttl_ms = int(config["CACHE_LOCK_TTL_MS"])
        self.lock_wait = float(config["CACHE_LOCK_WAIT"])
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self.owed = OwedInvalidations()  # given its host file by init_cache
        self.server_watch = ServerWatch()  # likewise
        self._adopted = False  # whether this process has read the host's owed file yet
        self._worker_pid: int | None = None
        self._worker_started = False  # reset in a forked child (see _forget_threads)
        self.closed = False
        _MANAGERS.add(self)

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
            if not self._adopted:  # a new process first takes what the host owes
                self._adopted = True
                self.owed.adopt()
            if self.owed.count:
                self._replay_pending()
            result = getattr(self.store, operation)(*args, **kwargs)
        except StoreError as exc:
            self._failed(exc)
            raise Bypass(str(exc)) from exc
        except BaseException:
            self.breaker.release_probe()
            raise
        self._succeeded()
        return result

    def _failed(self, exc: StoreError) -> None:
        self.breaker.record_failure(exc)
        self.count("_backend", "errors")
        self._ensure_worker()

    def _succeeded(self) -> None:
        if self.breaker.record_success():
            log.warning("cache backend reachable again")

    def distrust_before(self) -> float | None:
        """Entries cached before the last outage may have missed an invalidation."""
        return self.breaker.outage_started

    # -- generations -----------------------------------------------------------------
    def bump(self, gen_keys: list[str]) -> str | None:
        """Give each scope a new generation; remember the keys if Redis cannot be told.

        Returns the new token once it is stored, else None.
        """
        if not gen_keys or not self.enabled:
            return None
        token = new_token()
        try:
            self.call("set_many", dict.fromkeys(gen_keys, token.encode()), self.gen_ttl)
        except Bypass:
            self._owe(gen_keys)
            return None
        return token

    def _owe(self, gen_keys: list[str]) -> None:
        self.owed.add(gen_keys)
        self._ensure_worker()

    def _replay_pending(self) -> None:
        """Bump every generation whose invalidation was lost; StoreError if Redis still fails.

        A key stays owed until Redis has acknowledged its replay (and is owed again if a
        write owed it meanwhile), so no other thread, e.g. a command's ``deliver_pending``
        while the background thread's replay hangs, can take a replay in flight for done.
        """
        pending = self.owed.due()
        if not pending:
            return
        if CLEAR_ALL in pending:
            self._delete_all_entries()
        else:
            self.store.set_many(dict.fromkeys(pending, new_token().encode()), self.gen_ttl)
        self.owed.settle(pending)
        log.warning("replayed %d lost cache invalidations", len(pending))

    def _delete_all_entries(self) -> None:
        found = [k for k in self.store.scan(f"{self.prefix}:*") if not k.endswith(b":stats")]
        for start in range(0, len(found), 500):
            self.store.unlink(found[start : start + 500])

    @property
    def pending_invalidations(self) -> int:
        """How many invalidations wait for Redis to come back."""
        return self.owed.count

    def recover(self) -> bool:
        """Probe Redis now (whatever the breaker says) and replay what is owed; True when
        nothing is owed any more. Used by the background thread and by CLI commands."""
        if not self.enabled:
            return True
        try:
            if self.owed.count:
                self._replay_pending()
            else:
                self.store.ping()
        except StoreError as exc:
            self.breaker.record_failure(exc)
            return False
        self._succeeded()
        return not self.owed.count

    def deliver_pending(self, timeout: float) -> bool:
        """Retry owed invalidations with backoff for up to ``timeout`` seconds."""
        deadline, delay = time.monotonic() + timeout, 0.05
        while self.owed.count:
            if self.recover() or time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        return not self.owed.count

    # -- stats -----------------------------------------------------------------------
    def count(self, namespace: str, kind: str, amount: int = 1) -> None:
        """Add to a shared counter (flushed to the store about once a second)."""
        with self._counts_lock:
            self._counts[f"{namespace}:{kind}"] += amount
        if not self._worker_started:
            self._ensure_worker()

    def flush_counts(self) -> None:
        """Push buffered counters to the store now (skipped while the breaker is not closed)."""
        with self._counts_lock:
            counts, self._counts = self._counts, Counter()
        if not counts or not self.enabled:
            return
        try:
            if self.breaker.state != "closed":
                raise Bypass("circuit open")
            self.store.hincrby_many(stats_key(self.prefix), dict(counts), STATS_TTL)
        except (StoreError, Bypass) as exc:
            if isinstance(exc, StoreError):
                self.breaker.record_failure(exc)
            with self._counts_lock:
                self._counts.update(counts)

    def local_counts(self) -> dict[str, int]:
        """Counters not yet flushed (used when the store is unreachable)."""
        with self._counts_lock:
            return dict(self._counts)

    def maintain(self) -> float:
        """One round of background work; returns how long to sleep before the next."""
        self.owed.adopt()  # what other processes of the host owe
        troubled = bool(self.owed.count) or self.breaker.state != "closed"
        if troubled:
            troubled = not self.recover()
        if not troubled:
            self.flush_counts()
            self.server_watch.check(self)
        return RECOVERY_PROBE_SECONDS if troubled else STATS_FLUSH_SECONDS

    def close(self) -> None:
        """Stop the background thread and close the store's connections (the app is being
        torn down, e.g. at the end of a test)."""
        self.closed = True
        if self.store is not None:
            with suppress(StoreError):
                self.store.close()

    def _ensure_worker(self) -> None:
        # One daemon thread per process (started lazily, so it survives gunicorn's fork).
        if self._worker_pid == os.getpid() or not self.enabled or self.closed:
            return
        self._worker_pid = os.getpid()
        self._worker_started = True
        thread = threading.Thread(
            target=_maintain_forever, args=(weakref.ref(self),), name="fynix-cache", daemon=True
        )
        thread.start()


_MANAGERS: weakref.WeakSet[CacheManager] = weakref.WeakSet()


def _forget_threads() -> None:
    """In a forked child (a gunicorn worker) no maintenance thread runs yet."""
    for manager in list(_MANAGERS):
        manager._worker_started = False
        manager._adopted = False


os.register_at_fork(after_in_child=_forget_threads)


def _maintain_forever(manager_ref: weakref.ref) -> None:
    """Flush counters and recover from outages until the manager (and its app) is gone."""
    while True:
        manager = manager_ref()
        if manager is None or manager.closed:
            return
        try:
            pause = manager.maintain()
        except Exception:  # never let the maintenance thread die
            log.exception("cache maintenance failed")
            pause = STATS_FLUSH_SECONDS
        del manager
        time.sleep(pause)


def get_manager(app: Flask | None = None) -> CacheManager:
    """The CacheManager of ``app`` (default: the current app)."""
    return (app or current_app).extensions["fynix_cache"]
