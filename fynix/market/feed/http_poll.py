"""The ``http`` provider: poll a URL that answers JSON quotes, mapped by field names.

The answer is a JSON document; ``items_path`` (dots between keys, e.g. ``data.quotes``; empty
for the document itself) leads to a list of objects, and the mapping names the fields of
each object that hold the symbol, the price, optionally the currency and the time of the
price (ISO 8601 or Unix seconds). Numbers are read as Decimal, never as float. One poll is
bounded: ``timeout`` per network operation and twice that for the whole answer, at most
``MAX_BYTES``. A poll that fails (connection, HTTP status, not JSON, no list at the path)
raises SourceError; an item that is not a quote is handed on as rejected.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fynix.common.clock import utcnow
from fynix.market.feed.base import Batch, QuoteRow, SourceError
from fynix.market.feed.csv_replay import parse_timestamp

MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FieldMapping:
    """Where the quotes are in the JSON answer, and which fields hold what."""

    items_path: str = ""
    symbol: str = "symbol"
    price: str = "price"
    currency: str | None = "currency"
    time: str | None = None


class HttpPollProvider:
    """Fetches one batch per call from ``url``."""

    def __init__(
        self,
        url: str,
        mapping: FieldMapping | None = None,
        timeout: float = 5.0,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url, self.timeout, self.now = url, timeout, now
        self.mapping = mapping or FieldMapping()

    def next_batch(self) -> Batch:
        """Poll once; SourceError when the answer is unusable as a whole."""
        polled_at = self.now()
        items = self._items(self._fetch())
        rows, rejected, times = [], [], []
        for index, item in enumerate(items):
            where = f"item {index}"
            if not isinstance(item, dict):
                rejected.append(f"{where}: not a JSON object")
                continue
            if self.mapping.time is not None:
                try:
                    times.append(_item_time(item.get(self.mapping.time)))
                except ValueError:
                    rejected.append(f"{where}: {self.mapping.time}: not a time")
                    continue
            rows.append(self._row(item, where))
        return Batch(rows, max(times, default=polled_at), tuple(rejected))

    def _row(self, item: dict, where: str) -> QuoteRow:
        mapping = self.mapping
        currency = item.get(mapping.currency) if mapping.currency else None
        return QuoteRow(item.get(mapping.symbol), item.get(mapping.price), currency, where)

    def _fetch(self) -> Any:
        """The decoded JSON answer of one GET, within the time and size bounds."""
        # The scheme is checked in __init__: only http and https are ever opened.
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        deadline = time.monotonic() + 2 * self.timeout
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked)
                body = _read_bounded(response, deadline)
        except urllib.error.HTTPError as exc:
            exc.close()  # an HTTPError holds the response (and its socket) open
            raise SourceError(f"{self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SourceError(f"{self.url} could not be read: {exc}") from None
        try:
            return json.loads(body, parse_float=Decimal)
        except ValueError as exc:  # also UnicodeDecodeError
            raise SourceError(f"{self.url} did not answer JSON: {exc}") from None

    def _items(self, payload: Any) -> list:
        """The list at ``items_path``."""
        found = payload
        for key in filter(None, self.mapping.items_path.split(".")):
            found = found.get(key) if isinstance(found, dict) else None
        if not isinstance(found, list):
            where = self.mapping.items_path or "the top level"
            raise SourceError(f"{self.url}: no list of quotes at {where}")
        return found


def _read_bounded(response: Any, deadline: float) -> bytes:
    """The body, failing when it is larger than MAX_BYTES or arrives after ``deadline``."""
    parts, size = [], 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > MAX_BYTES:
            raise SourceError(f"answer larger than {MAX_BYTES} bytes")
        if time.monotonic() > deadline:
            raise SourceError("answer took too long to arrive")
        parts.append(chunk)
    return b"".join(parts)


def _item_time(value: Any) -> datetime:
    """An item's time: ISO 8601 text or Unix seconds; ValueError otherwise."""
    if isinstance(value, str):
        return parse_timestamp(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError) as exc:
            raise ValueError("time out of range") from exc
    raise ValueError("not a time")
