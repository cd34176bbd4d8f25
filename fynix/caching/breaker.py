"""A per-process circuit breaker so a dead or hung Redis costs milliseconds, not seconds."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class CircuitBreaker:
    """closed -> (threshold failures) -> open -> (cooldown) -> half-open -> closed/open.

    Half-open lets exactly one caller probe Redis; everyone else keeps bypassing
    until that probe succeeds. Errors are logged once per opening.
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
        self._probing = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open"."""
        if self.opened_at is None:
            return "closed"
        if time.monotonic() - self.opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """May this caller talk to Redis now?"""
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at < self.cooldown or self._probing:
                return False
            self._probing = True
            return True

    def record_success(self) -> bool:
        """Note a successful call; True when this closed an open breaker."""
        with self._lock:
            recovered = self.opened_at is not None
            self.failures = 0
            self.first_failure_at = None
            self.opened_at = None
            self._probing = False
            return recovered

    def record_failure(self, exc: BaseException) -> None:
        """Note a failed call; open (and log once) at the threshold."""
        with self._lock:
            self.failures += 1
            if self.first_failure_at is None:
                self.first_failure_at = time.time()
            reopening = self._probing
            self._probing = False
            if self.failures >= self.threshold or reopening:
                already_open = self.opened_at is not None
                self.opened_at = time.monotonic()
                if not already_open:
                    self.outage_started = self.first_failure_at
                    log.warning(
                        "cache backend unavailable, bypassing for %.1fs: %s",
                        self.cooldown,
                        exc.__class__.__name__,
                    )
