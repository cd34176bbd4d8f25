"""A per-process circuit breaker so a dead or hung Redis costs milliseconds, not seconds."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class CircuitBreaker:
    """closed -> (threshold failures) -> open -> (cooldown) -> half-open -> closed/open.

    Half-open lets one request at a time probe Redis; everyone else keeps bypassing until
    a probe succeeds. A probe that neither succeeds nor fails (its caller died) is given up
    after another cooldown, so the breaker can never stay half-open for good. The cache
    manager's background thread also closes it as soon as Redis answers again, so idle
    processes recover without traffic. Errors are logged once per opening.
    """

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self.first_failure_at: float | None = None
        # Wall-clock start of the last outage that opened the breaker: entries cached
        # before it may predate writes whose invalidation never reached Redis.
        self.outage_started: float | None = None
        self._probe_started: float | None = None
        self._lock = threading.Lock()

    def distrust_since(self, when: float) -> None:
        """Treat ``when`` (wall clock) as the start of an outage this process did not see."""
        with self._lock:
            self.outage_started = max(self.outage_started or 0.0, when)

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open"."""
        if self.opened_at is None:
            return "closed"
        if time.monotonic() - self.opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """May this caller talk to Redis now? A True in half-open makes it the prober."""
        if self.opened_at is None:  # closed: the common case needs no lock
            return True
        with self._lock:
            if self.opened_at is None:
                return True
            now = time.monotonic()
            if now - self.opened_at < self.cooldown:
                return False
            if self._probe_started is not None and now - self._probe_started < self.cooldown:
                return False
            self._probe_started = now
            return True

    def record_success(self) -> bool:
        """Note a successful call; True when this closed an open breaker."""
        if self.opened_at is None and not self.failures:  # nothing to reset
            return False
        with self._lock:
            recovered = self.opened_at is not None
            self.failures = 0
            self.first_failure_at = None
            self.opened_at = None
            self._probe_started = None
            return recovered

    def record_failure(self, exc: BaseException) -> None:
        """Note a failed call; open (and log once) at the threshold or after a failed probe."""
        with self._lock:
            self.failures += 1
            if self.first_failure_at is None:
                self.first_failure_at = time.time()
            reopening = self.opened_at is not None
            self._probe_started = None
            if self.failures >= self.threshold or reopening:
                self.opened_at = time.monotonic()
                if not reopening:
                    self.outage_started = self.first_failure_at
                    log.warning(
                        "cache backend unavailable, bypassing for %.1fs: %s",
                        self.cooldown,
                        exc.__class__.__name__,
                    )

    def release_probe(self) -> None:
        """The prober gave up without an answer (e.g. its request failed elsewhere)."""
        with self._lock:
            self._probe_started = None
