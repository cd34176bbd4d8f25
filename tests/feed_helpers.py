"""Helpers of the quote feed tests: a clock that moves only when waited on, a local JSON
quote server, a log collector and readers of the feed's tables."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from fynix.extensions import db
from fynix.market.feed.models import FeedStatus
from fynix.market.feed.simulated import SimulatedProvider
from fynix.market.models import Quote
from fynix.market.services import upsert_quotes
from tests.factories import aapl_holder


class FakeClock:
    """A monotonic clock that moves only when someone waits on it: no real sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        """Record the wait, move the clock; never asks to stop."""
        self.waits.append(round(seconds, 6))
        self.now += seconds
        return False


class QuoteServer:
    """An HTTP server on 127.0.0.1 answering queued (status, body, delay) responses in order;
    the last one is repeated once the queue is down to it."""

    def __init__(self) -> None:
        self.responses: list[tuple[int, str, float]] = []
        self.hits = 0
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                status, body, delay = (
                    server.responses.pop(0) if len(server.responses) > 1 else server.responses[0]
                )
                server.stop.wait(delay)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/quotes"

    def answer(self, status: int, body: object, delay: float = 0.0) -> None:
        """Queue one response (a str body is sent as is, anything else as JSON)."""
        text = body if isinstance(body, str) else json.dumps(body)
        self.responses.append((status, text, delay))

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@contextmanager
def quote_server() -> Iterator[QuoteServer]:
    """A running QuoteServer, shut down afterwards."""
    server = QuoteServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.close()


class LogRecords(logging.Handler):
    """Collects the records of the ``fynix.market.feed`` loggers (fynix's loggers do not
    propagate to the root, so caplog does not see them)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [record.getMessage() for record in self.records if record.levelno >= level]

    def count(self, text: str) -> int:
        return sum(text in message for message in self.messages())


@contextmanager
def feed_logs() -> Iterator[LogRecords]:
    """Collect the feed's log records inside the block."""
    handler = LogRecords()
    logger = logging.getLogger("fynix.market.feed")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def stored_quotes(app) -> dict[str, tuple]:
    """symbol -> (price, currency, updated_at) as stored."""
    with app.app_context():
        columns = (Quote.symbol, Quote.price, Quote.currency, Quote.updated_at)
        rows = db.session.execute(sa.select(*columns))
        result = {symbol: (price, currency, at) for symbol, price, currency, at in rows}
        db.session.remove()
    return result


def feed_row(app, name: str) -> FeedStatus | None:
    """The status row of feed ``name`` (detached), or None."""
    with app.app_context():
        row = db.session.get(FeedStatus, name)
        if row is not None:
            db.session.expunge(row)
        db.session.remove()
    return row


def walk_prices(start: dict[str, str], seed: int, steps: int) -> dict[str, Decimal]:
    """Where the simulated walk from ``start`` (USD prices) is after ``steps`` batches."""
    walk = SimulatedProvider({s: (Decimal(p), "USD") for s, p in start.items()}, seed=seed)
    prices = {symbol: Decimal(price) for symbol, price in start.items()}
    for _ in range(steps):
        prices = {row.symbol: row.price for row in walk.next_batch().rows}
    return prices


def seed_quotes(app, prices: dict[str, str]) -> None:
    """Store these USD quotes."""
    with app.app_context():
        upsert_quotes([{"symbol": symbol, "price": price} for symbol, price in prices.items()])
        db.session.remove()


OVERVIEW = "/api/public/market-overview"


def cached_holder(client) -> dict:
    """AAPL quoted at 100 and a holder of 10 AAPL whose summary, like the public overview, is
    cached (a HIT); returns the holder's auth headers."""
    from tests.conftest import AuthActions

    holder = aapl_holder(AuthActions(client)).headers
    for path, headers in (("/api/portfolio/summary", holder), (OVERVIEW, {})):
        client.get(path, headers=headers)
        assert client.get(path, headers=headers).headers["X-Cache"] == "HIT"
    return holder


def assert_readers_see(client, holder: dict, price: Decimal) -> None:
    """The overview, the quote and the holder's summary all show ``price`` for AAPL."""
    assert client.get(OVERVIEW).get_json()["items"][0]["price"] == f"{price:.2f}"
    quote = client.get("/api/market/quotes/AAPL", headers=holder).get_json()
    assert quote["price"] == f"{price:.2f}"
    summary = client.get("/api/portfolio/summary", headers=holder).get_json()
    assert summary["market_value"] == f"{price * 10:.2f}"
