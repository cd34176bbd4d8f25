"""The feed loop: batches from a provider until stopped, each written whole, outages waited out.

A database error that means "unreachable" (OperationalError, InterfaceError) rolls the batch
back and retries the same batch with exponential backoff; a cache backend that cannot be
told about a batch holds the next one back until it can, so prices never get ahead of what
readers see as fresh. Each outage is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress

import sqlalchemy as sa

from fynix.caching.manager import get_manager
from fynix.common.clock import utcnow
from fynix.extensions import db
from fynix.market.feed.base import Batch, Provider, SourceError
from fynix.market.feed.ingest import ingest_batch
from fynix.market.feed.status import Problem, record_problem

log = logging.getLogger(__name__)

# PendingRollbackError: a connection lost mid-transaction left the session needing a
# rollback; it is part of the same outage, not a batch that cannot be written.
UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
               sa.exc.PendingRollbackError)  # fmt: skip


class FeedRunner:
    """Runs one provider under one feed name until ``stop()`` or the source ends."""

    def __init__(
        self,
        name: str,
        provider: Provider,
        interval: float,
        max_batches: int | None = None,
        wait: Callable[[float], bool] | None = None,
        backoff: tuple[float, float] = (0.5, 30.0),
        delivery_step: float = 1.0,
        stopped: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name, self.provider, self.interval = name, provider, interval
        self.max_batches = max_batches
        self.stopped = stopped or threading.Event()
        # wait(seconds) -> True when the feed is stopping: the one way this loop sleeps.
        self.wait = wait or self.stopped.wait
        self.backoff = backoff
        self.clock = clock
        self.delivery_step = delivery_step
        self.batches = 0
        self.problem: Problem | None = None  # shown as last_error with the next batch

    def stop(self, *_: object) -> None:
        """Finish (or roll back) the batch in progress, then return from run()."""
        if not self.stopped.is_set():
            log.info("stopping the feed after the batch in progress", extra={"feed": self.name})
        self.stopped.set()

    def run(self) -> int:
        """Ingest batches until stopped, the source ends or ``max_batches``; returns the count."""
        due = self.clock()
        log.info("feed started", extra={"feed": self.name, "interval": self.interval})
        while not self.stopped.is_set():
            try:
                batch = self.provider.next_batch()
            except SourceError as exc:
                self._source_failed(exc)
            else:
                if batch is None:
                    log.info("the source has ended", extra={"feed": self.name})
                    break
                if self.stopped.is_set() or not self._write(batch):
                    break
                self.batches += 1
            if not self._deliver() or self.batches == self.max_batches:
                break
            due = self._pace(due)
        log.info("feed stopped", extra={"feed": self.name, "batches": self.batches})
        return self.batches

    def _write(self, batch: Batch) -> bool:
        """Write the batch, retrying while the database is unreachable; False when stopped."""
        delay, outage = self.backoff[0], None
        while True:
            try:
                ingest_batch(self.name, batch, self.problem)
            except UNREACHABLE as exc:
                _discard_session()
                if outage is None:
                    outage = self.clock()
                    self.problem = Problem(f"database unreachable: {_brief(exc)}", utcnow())
                    log.error(
                        "database unreachable: retrying the batch with backoff",
                        extra={"feed": self.name, "error": _brief(exc)},
                    )
                if self.wait(delay):
                    log.warning("stopped; the batch was not written", extra={"feed": self.name})
                    return False
                delay = min(delay * 2, self.backoff[1])
                continue
            except sa.exc.SQLAlchemyError as exc:  # not an outage: this batch cannot be written
                log.exception("quote batch failed; skipped", extra={"feed": self.name})
                record_problem(self.name, Problem(f"batch failed: {_brief(exc)}", utcnow()))
                return True
            break
        if outage is not None:
            log.warning(
                "database reachable again",
                extra={"feed": self.name, "outage_seconds": round(self.clock() - outage, 3)},
            )
        self.problem = None
        return True

    def _deliver(self) -> bool:
        """Wait until the cache has every invalidation this process owes; False when stopped."""
        manager = get_manager()
        if manager.deliver_pending(self.delivery_step):
            return True
        started, delay = self.clock(), self.backoff[0]
        self.problem = Problem("cache backend unreachable: invalidations delayed", utcnow())
        log.error(
            "cache backend unreachable: holding the next batch until it is told",
            extra={"feed": self.name, "pending": manager.pending_invalidations},
        )
        while not manager.deliver_pending(self.delivery_step):
            if self.wait(delay):
                return False
            delay = min(delay * 2, self.backoff[1])
        log.warning(
            "cache invalidations delivered; resuming",
            extra={"feed": self.name, "waited_seconds": round(self.clock() - started, 3)},
        )
        return True

    def _source_failed(self, exc: SourceError) -> None:
        log.warning("source failed; trying again next interval: %s", exc, extra={"feed": self.name})
        record_problem(self.name, Problem(f"source failed: {exc}", utcnow()))

    def _pace(self, due: float) -> float:
        """Wait for the next batch's turn: every ``interval`` seconds, never in a burst."""
        due = max(due + self.interval, self.clock())
        pause = due - self.clock()
        if pause > 0:
            self.wait(pause)
        return due


def _brief(exc: BaseException) -> str:
    """The first line of an exception, with its class."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{original.__class__.__name__}: {lines[0] if lines else ''}"


def _discard_session() -> None:
    """Drop the session a lost connection broke, so that the retry starts a clean one."""
    with suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    db.session.remove()
