"""Feed status for every process: the row each feed updates with its batches, and /metrics.

The feed runs in a process of its own, so its counters live in ``market_feed_status``
(updated in the same transaction as each batch) where any web worker can read them.
Quotes per second is ``rate(fynix_feed_quotes_total[1m])``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.dialects import postgresql, sqlite

from fynix.common.clock import utcnow
from fynix.extensions import db
from fynix.market.feed.models import FeedStatus

log = logging.getLogger(__name__)

MAX_ERROR = 500  # FeedStatus.last_error's length


@dataclass(frozen=True)
class Problem:
    """Something that went wrong for a feed, shown as its last error."""

    message: str
    at: datetime


def _upsert(name: str, values: dict, increments: dict) -> None:
    """INSERT the feed's row or UPDATE it in place: counters add, other columns replace."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(FeedStatus).values(name=name, **values, **increments)
    table = FeedStatus.__table__
    updates = {key: statement.excluded[key] for key in values}
    updates |= {key: table.c[key] + statement.excluded[key] for key in increments}
    db.session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=updates))


def record_batch(
    name: str, quotes: int, skipped: int, lag: float, problem: Problem | None = None
) -> None:
    """Count one batch in the caller's transaction (the batch's own)."""
    values: dict = {"last_batch_at": utcnow(), "last_lag_seconds": lag}
    if problem is not None:
        values |= {"last_error": problem.message[:MAX_ERROR], "last_error_at": problem.at}
    _upsert(name, values, {"batches_total": 1, "quotes_total": quotes, "skipped_total": skipped})


def record_problem(name: str, problem: Problem) -> None:
    """Store the feed's last error in a transaction of its own (no batch was written)."""
    try:
        _upsert(name, {"last_error": problem.message[:MAX_ERROR], "last_error_at": problem.at}, {})
        db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.warning("could not record the feed's error", exc_info=True, extra={"feed": name})


def feed_status() -> list[dict]:
    """Every feed's row, by name: counters, last batch time, lag and last error."""
    rows = db.session.scalars(sa.select(FeedStatus).order_by(FeedStatus.name))
    columns = [column.key for column in FeedStatus.__table__.columns]
    return [{key: getattr(row, key) for key in columns} for row in rows]


class FeedCollector:
    """Prometheus families of every feed's status (labels: feed), read at scrape time."""

    COUNTERS = ("batches", "quotes", "skipped")

    def describe(self) -> Iterator[Metric]:
        """The families without samples, so registering does not query the database."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """One sample per feed and family; nothing when the status cannot be read."""
        families = self._families()
        try:
            statuses = feed_status()
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            log.warning("feed status unavailable for /metrics", exc_info=True)
            statuses = []
        counters, last_batch, lag = families[:3], families[3], families[4]
        for status in statuses:
            labels = [status["name"]]
            for kind, family in zip(self.COUNTERS, counters, strict=True):
                family.add_metric(labels, status[f"{kind}_total"])
            if status["last_batch_at"] is not None:
                last_batch.add_metric(labels, status["last_batch_at"].timestamp())
            if status["last_lag_seconds"] is not None:
                lag.add_metric(labels, status["last_lag_seconds"])
        yield from families

    def _families(self) -> list[Metric]:
        counters = [
            CounterMetricFamily(f"fynix_feed_{kind}", f"Quote feed: {kind} so far", labels=["feed"])
            for kind in self.COUNTERS
        ]
        return [
            *counters,
            GaugeMetricFamily(
                "fynix_feed_last_batch_timestamp_seconds",
                "Quote feed: when the last batch was written (Unix time)",
                labels=["feed"],
            ),
            GaugeMetricFamily(
                "fynix_feed_lag_seconds",
                "Quote feed: source time to write time of the last batch",
                labels=["feed"],
            ),
        ]
