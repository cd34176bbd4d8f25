"""One batch into the database: validate each row, skip the bad ones, write the rest with the
feed's status in ONE transaction, announce the change once, log what happened."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial

from fynix.common.clock import utcnow
from fynix.market.feed.base import Batch
from fynix.market.feed.status import Problem, record_batch
from fynix.market.services import load_quote_rows, write_quote_batch

log = logging.getLogger(__name__)

LOGGED_SKIPS = 20  # bad rows logged one by one per batch; the rest are only counted
LOGGED_SYMBOLS = 20


@dataclass(frozen=True)
class BatchResult:
    """What one batch did."""

    written: int
    skipped: int
    lag: float


def ingest_batch(feed: str, batch: Batch, problem: Problem | None = None) -> BatchResult:
    """Write ``batch`` and count it in the feed's status, all or nothing.

    Raises what the database raises (after rolling back); ``problem`` (e.g. an outage the
    batch waited out) becomes the status's last error in the same transaction.
    """
    started = time.monotonic()
    loaded, problems = load_quote_rows([row.as_input() for row in batch.rows])
    skipped = [*batch.rejected, *(f"{batch.rows[i].where}: {why}" for i, why in problems)]
    symbols = sorted({row["symbol"] for row in loaded})
    lag = max(0.0, (utcnow() - batch.source_time).total_seconds())
    count = partial(record_batch, feed, len(symbols), len(skipped), lag, problem)
    written = write_quote_batch(loaded, also=count)
    _log_skipped(feed, skipped)
    log.info(
        "quote batch written",
        extra={
            "feed": feed,
            "symbols": symbols[:LOGGED_SYMBOLS] + ["..."] * (len(symbols) > LOGGED_SYMBOLS),
            "received": len(batch.rows) + len(batch.rejected),
            "written": written,
            "skipped": len(skipped),
            "lag_seconds": round(lag, 3),
            "duration_seconds": round(time.monotonic() - started, 3),
        },
    )
    return BatchResult(written, len(skipped), lag)


def _log_skipped(feed: str, reasons: list[str]) -> None:
    for reason in reasons[:LOGGED_SKIPS]:
        log.warning("quote row skipped: %s", reason, extra={"feed": feed, "reason": reason})
    if len(reasons) > LOGGED_SKIPS:
        log.warning(
            "%d more quote rows skipped in this batch",
            len(reasons) - LOGGED_SKIPS,
            extra={"feed": feed},
        )
