"""The ``csv`` provider: replay a file of ``timestamp,symbol,price[,currency]`` rows.

Rows sharing a timestamp form a batch (or, with a window, rows within the same ``window``
seconds of source time). Batches are released on the file's own schedule, ``speed`` times
faster: with ``speed=10`` a gap of 10 s between two timestamps is replayed in 1 s. The
schedule is kept against a monotonic clock, so the time spent writing does not add up.
Timestamps are ISO 8601 (UTC when no offset is given) and must not go backwards; a row that
cannot be read is handed on as rejected, with its line number and reason.
"""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fynix.common.clock import utcnow
from fynix.market.feed.base import Batch, QuoteRow

HEADER = ("timestamp", "symbol", "price", "currency")


@dataclass
class _Group:
    """Rows of one batch as read from the file, before it is scheduled."""

    last: datetime | None = None
    rows: list[QuoteRow] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def read_header(path: Path) -> list[str]:
    """The file's column names; ValueError when they are not timestamp,symbol,price[,currency]."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        names = [name.strip().lower() for name in next(csv.reader(handle), [])]
    if names not in (list(HEADER[:3]), list(HEADER)):
        raise ValueError(f"the header must be timestamp,symbol,price[,currency], got {names!r}")
    return names


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp as aware UTC (naive means UTC); ValueError when unreadable."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CsvReplayProvider:
    """Replays a CSV file of timestamped prices on its own schedule, ``speed`` times faster."""

    def __init__(
        self,
        path: Path,
        speed: float = 1.0,
        loop: bool = False,
        window: float | None = None,
        clock: Callable[[], float] | None = None,
        wait: Callable[[float], object] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.names = read_header(path)
        self.path, self.speed, self.loop, self.window = path, speed, loop, window
        self.clock = clock or time.monotonic
        self.wait = wait or time.sleep
        self.now = now
        self._groups: Iterator[_Group] = iter(())
        self._first: datetime | None = None  # first timestamp of the current pass
        self._start = (0.0, now())  # (monotonic, wall clock) when the pass started
        self._passes = 0
        self._batches_this_pass = 0

    def next_batch(self) -> Batch | None:
        """Wait until the next batch is due, then return it; None at the end of the file."""
        group = next(self._groups, None)
        if group is None:
            if not self._new_pass():
                return None
            group = next(self._groups, None)
            if group is None:
                return None
        self._batches_this_pass += 1
        offset = 0.0
        if group.last is not None and self._first is not None:
            offset = (group.last - self._first).total_seconds() / self.speed
        delay = self._start[0] + offset - self.clock()
        if delay > 0:
            self.wait(delay)
        source_time = self._start[1] + timedelta(seconds=offset)
        return Batch(group.rows, source_time, tuple(group.rejected))

    def _new_pass(self) -> bool:
        """Start reading the file (again, with ``loop``); False when the replay is over."""
        if self._passes and not (self.loop and self._batches_this_pass):
            return False  # an empty pass would loop forever without ever yielding
        self._passes += 1
        self._batches_this_pass = 0
        self._first = None
        self._start = (self.clock(), self.now())
        self._groups = self._read_groups()
        return True

    def _read_groups(self) -> Iterator[_Group]:
        """Consecutive rows with the same batch key; a rejected row joins the batch around it."""
        group, key, latest = _Group(), None, None
        for line, row in self._rows():
            moment, item = self._parse(line, row, latest)
            if isinstance(item, str):
                group.rejected.append(item)
                continue
            if self._first is None:
                self._first = moment
            if group.rows and self._key(moment) != key:
                yield group
                group = _Group()
            key, latest = self._key(moment), moment
            group.rows.append(item)
            group.last = moment
        if group.rows or group.rejected:
            yield group

    def _rows(self) -> Iterator[tuple[int, dict]]:
        with self.path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            reader = csv.DictReader(handle, fieldnames=self.names, skipinitialspace=True)
            for row in itertools.islice(reader, 1, None):  # the header was checked already
                yield reader.line_num, row

    def _parse(
        self, line: int, row: dict, previous: datetime | None
    ) -> tuple[datetime | None, QuoteRow | str]:
        """(timestamp, row) of a readable row, or (None, "line N: reason")."""
        if None in row:
            return None, f"line {line}: too many fields (expected {','.join(self.names)})"
        try:
            moment = parse_timestamp(row["timestamp"] or "")
        except ValueError:
            return None, f"line {line}: timestamp: not an ISO 8601 time: {row['timestamp']!r}"
        if previous is not None and moment < previous:
            return None, f"line {line}: timestamp: earlier than the row before it"
        cells = {name: (row.get(name) or "").strip() or None for name in HEADER[1:]}
        return moment, QuoteRow(**cells, where=f"line {line}")

    def _key(self, moment: datetime) -> object:
        if self.window is None:
            return moment
        return int((moment - self._first).total_seconds() // self.window)
