"""The quote feed in-process: batches written whole with their status, bad rows skipped,
database outages retried, source failures survived, /metrics, readers fresh, the command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fynix.common.clock import utcnow
from fynix.extensions import db
from fynix.market.feed.base import Batch, QuoteRow
from fynix.market.feed.csv_replay import CsvReplayProvider
from fynix.market.feed.http_poll import FieldMapping, HttpPollProvider
from fynix.market.feed.ingest import ingest_batch
from fynix.market.feed.runner import FeedRunner
from fynix.market.feed.simulated import START_PRICE, SimulatedProvider, start_quotes
from fynix.market.feed.status import feed_status
from tests.conftest import AuthActions
from tests.factories import create_position
from tests.feed_helpers import (
    FakeClock,
    assert_readers_see,
    cached_holder,
    feed_logs,
    feed_row,
    quote_server,
    seed_quotes,
    stored_quotes,
    walk_prices,
)

START = {"AAPL": "100.00", "MSFT": "200.00", "SAP": "50.00"}


def run(app, provider, **options) -> FeedRunner:
    """Run a feed named "test" to its end in ``app`` without sleeping."""
    clock = FakeClock()
    options.setdefault("wait", clock.wait)
    runner = FeedRunner("test", provider, options.pop("interval", 1.0), clock=clock, **options)
    with app.app_context():
        runner.run()
    return runner


def test_simulated_feed_writes_whole_batches_and_counts_them(app):
    seed_quotes(app, START)
    with app.app_context():
        provider = SimulatedProvider(start_quotes(), seed=11)
    runner = run(app, provider, max_batches=4)
    assert runner.wait.__self__.waits == [1.0, 1.0, 1.0]  # the interval between batches
    stored = stored_quotes(app)
    assert {symbol: price for symbol, (price, _, _) in stored.items()} == walk_prices(START, 11, 4)
    assert len({at for _, _, at in stored.values()}) == 1  # one batch, one moment
    status = feed_row(app, "test")
    assert (status.batches_total, status.quotes_total, status.skipped_total) == (4, 12, 0)
    assert status.last_batch_at is not None
    assert status.last_lag_seconds >= 0
    assert status.last_error is None


def test_start_quotes_given_symbols_most_held_or_every_quote(app, client):
    seed_quotes(app, {"AAA": "1.00", "BBB": "2.00", "CCC": "3.00", "ZZZ": "9.00"})
    auth = AuthActions(client)
    for symbols in (["AAA", "BBB", "CCC"], ["AAA", "BBB"], ["AAA"], ["NEW"]):
        _, headers = auth.new_user()
        for symbol in symbols:
            create_position(client, headers, symbol, "1", "1")
    with app.app_context():
        assert start_quotes(most_held=2) == {
            "AAA": (Decimal("1.00"), "USD"),
            "BBB": (Decimal("2.00"), "USD"),
        }
        assert start_quotes(["ZZZ", "NOPE"]) == {
            "ZZZ": (Decimal("9.00"), "USD"),
            "NOPE": (START_PRICE, "USD"),
        }
        assert set(start_quotes()) == {"AAA", "BBB", "CCC", "ZZZ"}


def test_bad_rows_are_logged_with_their_reason_skipped_and_counted(app, tmp_path):
    path = tmp_path / "replay.csv"
    path.write_text(
        "timestamp,symbol,price,currency\n"
        "2026-01-05T14:30:00Z,AAPL,189.50,USD\n"
        "2026-01-05T14:30:00Z,BAD$,1,USD\n"
        "2026-01-05T14:30:00Z,MSFT,-1,USD\n"
        "2026-01-05T14:30:00Z,SAP,1.1234567,EUR\n"
        "2026-01-05T14:30:00Z,SAP,120,eur\n"
        "later,SAP,120,EUR\n"
        "2026-01-05T14:30:01Z,SAP,121,EUR\n"
    )
    with feed_logs() as logs:
        run(app, CsvReplayProvider(path, speed=1000.0, wait=FakeClock().wait))
    stored = stored_quotes(app)
    assert {symbol: (price, cur) for symbol, (price, cur, _) in stored.items()} == {
        "AAPL": (Decimal("189.50"), "USD"),
        "SAP": (Decimal("121.00"), "EUR"),
    }
    status = feed_row(app, "test")
    assert (status.batches_total, status.quotes_total, status.skipped_total) == (2, 2, 5)
    skipped = [m for m in logs.messages(logging.WARNING) if m.startswith("quote row skipped")]
    assert skipped == [
        "quote row skipped: line 7: timestamp: not an ISO 8601 time: 'later'",
        "quote row skipped: line 3: symbol: Not a valid symbol.",
        "quote row skipped: line 4: price: Must be >= 0.",
        "quote row skipped: line 5: price: At most 6 decimal places.",
        "quote row skipped: line 6: currency: Three upper-case letters (ISO 4217).",
    ]


@contextmanager
def faulty_statements(app, match: str, fault: Callable[[int], BaseException | None]):
    """Inside the block the n-th statement containing ``match`` raises ``fault(n)``, if any
    (a fault injected where the driver would raise it). Yields the statements seen."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if match in statement:
            seen.append(statement)
            error = fault(len(seen))
            if error is not None:
                raise error

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


class MidBatchFailure(Exception):
    """Raised by the second of a batch's three INSERT statements."""


def test_a_failure_mid_batch_leaves_nothing_of_it(app):
    rows = [QuoteRow(f"T{index:04d}", f"{index}.25") for index in range(1200)]  # 3 INSERTs
    batch = Batch(rows, source_time=utcnow())
    second = lambda n: MidBatchFailure("connection lost") if n == 2 else None  # noqa: E731
    with (
        faulty_statements(app, "INSERT INTO market_quotes", second) as seen,
        app.app_context(),
        pytest.raises(MidBatchFailure),
    ):
        ingest_batch("test", batch)
    assert len(seen) == 2  # the first chunk had been sent
    assert stored_quotes(app) == {}
    assert feed_row(app, "test") is None  # the status is part of the same transaction
    with app.app_context():
        assert ingest_batch("test", batch).written == 1200
    stored = stored_quotes(app)
    assert len(stored) == 1200
    assert len({at for _, _, at in stored.values()}) == 1
    assert feed_row(app, "test").quotes_total == 1200


def unreachable(n: int) -> BaseException | None:
    """The database is unreachable for the first five attempts."""
    if n > 5:
        return None
    return sa.exc.OperationalError("INSERT", {}, ConnectionRefusedError("server closed"))


def test_a_database_outage_retries_the_same_batch_with_capped_backoff(app):
    seed_quotes(app, START)
    with app.app_context():
        provider = SimulatedProvider(start_quotes(), seed=5)
    with (
        faulty_statements(app, "INSERT INTO market_quotes", unreachable) as seen,
        feed_logs() as logs,
    ):
        runner = run(app, provider, max_batches=2, backoff=(0.5, 2.0))
    assert len(seen) == 7  # five failed attempts, then the batch, then the next batch
    # Doubling up to the cap; the next batch then goes at once (its turn passed meanwhile).
    assert runner.wait.__self__.waits == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert logs.count("database unreachable") == 1  # once per outage, not per attempt
    assert logs.count("database reachable again") == 1
    stored = stored_quotes(app)
    assert {symbol: price for symbol, (price, _, _) in stored.items()} == walk_prices(START, 5, 2)
    status = feed_row(app, "test")
    assert status.batches_total == 2
    assert status.last_error.startswith("database unreachable: ConnectionRefusedError")


def test_http_feed_survives_failures_and_bad_items(app):
    good = {"quotes": [{"s": "AAPL", "p": "101.5"}, {"s": "MSFT", "p": "201"}]}
    later = {"quotes": [{"s": "AAPL", "p": "102"}, {"s": "MSFT"}, 7]}
    mapping = FieldMapping("quotes", "s", "p", None)
    with quote_server() as server, feed_logs() as logs:
        for status, body in ((200, good), (500, "down"), (200, "{not json"), (200, later)):
            server.answer(status, body)
        runner = run(app, HttpPollProvider(server.url, mapping, timeout=5), max_batches=2)
        assert server.hits == 4
    assert runner.batches == 2
    stored = stored_quotes(app)
    assert {symbol: price for symbol, (price, _, _) in stored.items()} == {
        "AAPL": Decimal("102.00"),
        "MSFT": Decimal("201.00"),
    }
    status = feed_row(app, "test")
    assert (status.batches_total, status.quotes_total, status.skipped_total) == (2, 3, 2)
    assert status.last_error.startswith("source failed: ")
    assert "JSON" in status.last_error
    failures = [m for m in logs.messages(logging.WARNING) if m.startswith("source failed")]
    assert len(failures) == 2
    assert "HTTP 500" in failures[0]


def test_metrics_show_every_feed_from_the_status_table(app, client):
    seed_quotes(app, START)
    with app.app_context():
        run(app, SimulatedProvider(start_quotes()), max_batches=3)
        assert [row["name"] for row in feed_status()] == ["test"]
    text = client.get("/metrics").get_data(as_text=True)
    assert 'fynix_feed_batches_total{feed="test"} 3.0' in text
    assert 'fynix_feed_quotes_total{feed="test"} 9.0' in text
    assert 'fynix_feed_skipped_total{feed="test"} 0.0' in text
    assert 'fynix_feed_last_batch_timestamp_seconds{feed="test"}' in text
    assert 'fynix_feed_lag_seconds{feed="test"}' in text


@pytest.mark.redis
def test_a_feed_process_batch_is_read_fresh_through_redis(redis_app, app_factory):
    """Another process's feed (its own app and cache manager, the same Redis): readers see
    each batch as soon as it is written, on cached endpoints too."""
    client = redis_app.test_client()
    holder = cached_holder(client)
    feed_app = app_factory(
        REDIS_URL=redis_app.config["REDIS_URL"],
        CACHE_KEY_PREFIX=redis_app.config["CACHE_KEY_PREFIX"],
    )
    with feed_app.app_context():
        provider = SimulatedProvider(start_quotes(["AAPL"]), seed=2)
    for _ in range(3):
        run(feed_app, provider, max_batches=1)
        assert_readers_see(client, holder, stored_quotes(redis_app)["AAPL"][0])


# --- the command -------------------------------------------------------------------------


def test_feed_command_runs_batches_and_exits_zero(app, runner):
    seed_quotes(app, START)
    args = ["market", "feed", "--symbols", "aapl,SAP", "--interval", "0", "--max-batches", "3"]
    result = runner.invoke(args=[*args, "--seed", "9", "--name", "demo"])
    assert result.exit_code == 0, result.output
    assert "Feed demo: 3 batches written." in result.output
    stored = stored_quotes(app)
    assert walk_prices({"AAPL": "100.00", "SAP": "50.00"}, 9, 3) == {
        symbol: stored[symbol][0] for symbol in ("AAPL", "SAP")
    }
    assert stored["MSFT"][0] == Decimal("200.00")  # not asked for, not moved
    assert feed_row(app, "demo").batches_total == 3


def test_csv_feed_command_ends_with_the_file(app, runner, tmp_path):
    path = tmp_path / "replay.csv"
    path.write_text(
        "timestamp,symbol,price\n2026-01-05T14:30:00Z,AAPL,1.5\n2026-01-05T14:30:01Z,AAPL,1.75\n"
    )
    args = ["market", "feed", "--provider", "csv", "--file", str(path), "--speed", "100"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert stored_quotes(app)["AAPL"][0] == Decimal("1.75")
    assert feed_row(app, "csv").batches_total == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "csv"], "--provider csv needs --file"),
        (["--provider", "http"], "--provider http needs --url"),
        (["--provider", "http", "--url", "ftp://example.com/q"], "needs --url http(s)"),
        (["--symbols", "A", "--most-held", "2"], "exclude each other"),
        (["--symbols", "A,B$"], "each symbol is 1-16 characters"),
        (["--interval", "-1"], "--interval"),
        (["--provider", "csv", "--speed", "0", "--file", "{csv}"], "--speed"),
        (["--provider", "csv", "--file", "{bad_csv}"], "timestamp,symbol,price"),
    ],
)
def test_feed_command_usage_errors_exit_2_and_write_nothing(app, runner, tmp_path, args, message):
    (tmp_path / "ok.csv").write_text("timestamp,symbol,price\n")
    (tmp_path / "bad.csv").write_text("symbol,price\nAAPL,1\n")
    paths = {"csv": str(tmp_path / "ok.csv"), "bad_csv": str(tmp_path / "bad.csv")}
    result = runner.invoke(args=["market", "feed", *(arg.format(**paths) for arg in args)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert stored_quotes(app) == {}


def test_feed_command_without_anything_to_move_says_so(app, runner):
    result = runner.invoke(args=["market", "feed", "--max-batches", "1"])
    assert result.exit_code == 1
    assert "No symbols to move" in result.output
