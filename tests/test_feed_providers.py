"""Quote feed providers on their own: the seeded walk, csv replay and the http poller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fynix.market.feed.base import SourceError
from fynix.market.feed.csv_replay import CsvReplayProvider
from fynix.market.feed.http_poll import FieldMapping, HttpPollProvider
from fynix.market.feed.simulated import MAX_PRICE, SimulatedProvider, step
from fynix.market.schemas import QuoteRowSchema
from tests.feed_helpers import FakeClock, quote_server

WALL = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
START = {
    "AAPL": (Decimal("189.50"), "USD"),
    "SAP": (Decimal("120.00"), "EUR"),
    "PENNY": (Decimal("0.05"), "USD"),
}


def walk(seed: int, steps: int, start=START, volatility: int = 50) -> list[list[tuple]]:
    provider = SimulatedProvider(start, seed=seed, volatility=volatility, now=lambda: WALL)
    return [
        [(row.symbol, row.price, row.currency) for row in provider.next_batch().rows]
        for _ in range(steps)
    ]


# --- simulated ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_walk_and_moves_every_symbol():
    first = walk(7, 200)
    assert first == walk(7, 200)
    assert first != walk(8, 200)
    for batch in first:
        assert [symbol for symbol, _, _ in batch] == ["AAPL", "PENNY", "SAP"]
        assert {symbol: currency for symbol, _, currency in batch}["SAP"] == "EUR"
    aapl = [{s: p for s, p, _ in batch}["AAPL"] for batch in first]
    assert len(set(aapl)) > 100  # it moves


def test_step_is_exact_decimal_arithmetic_at_the_columns_scale():
    assert step(Decimal("100.00"), 50) == Decimal("100.50")
    assert step(Decimal("100.00"), -50) == Decimal("99.50")
    assert step(Decimal("0.5"), 1) == Decimal("0.50005")  # below 1: six places
    assert step(Decimal("0.000001"), -5000) == Decimal("0.000001")  # never zero
    assert step(MAX_PRICE, 5000) == MAX_PRICE


def test_walk_prices_stay_positive_with_at_most_six_places():
    start = {"TINY": (Decimal("0.000002"), "USD"), "HUGE": (Decimal("99999999999990"), "USD")}
    provider = SimulatedProvider(start, seed=3, volatility=5000)
    schema = QuoteRowSchema()
    for _ in range(400):
        for row in provider.next_batch().rows:
            assert isinstance(row.price, Decimal)
            assert Decimal(0) < row.price <= MAX_PRICE
            assert row.price.as_tuple().exponent >= -6
            schema.load(row.as_input())  # what the API and the column accept


# --- csv ---------------------------------------------------------------------------------

REPLAY = """timestamp,symbol,price,currency
2026-01-05T14:30:00Z,AAPL,189.50,USD
2026-01-05T14:30:00Z,MSFT,415.20,
2026-01-05T14:30:10Z,AAPL,189.60,USD
2026-01-05T14:30:30+00:00,AAPL,189.70,USD
2026-01-05T14:30:30,MSFT,415.00,EUR
"""


def replay(tmp_path, text: str = REPLAY, **options) -> tuple[CsvReplayProvider, FakeClock]:
    path = tmp_path / "replay.csv"
    path.write_text(text)
    clock = FakeClock()
    return CsvReplayProvider(path, clock=clock, wait=clock.wait, now=lambda: WALL, **options), clock


def drain(provider, limit: int = 50) -> list:
    batches = []
    while (batch := provider.next_batch()) is not None and len(batches) < limit:
        batches.append(batch)
    return batches


def prices(batch) -> list[tuple]:
    return [(row.symbol, row.price) for row in batch.rows]


@pytest.mark.parametrize(("speed", "waits"), [(1.0, [10.0, 20.0]), (10.0, [1.0, 2.0])])
def test_csv_replays_in_order_one_batch_per_timestamp_at_speed(tmp_path, speed, waits):
    provider, clock = replay(tmp_path, speed=speed)
    batches = drain(provider)
    assert [prices(batch) for batch in batches] == [
        [("AAPL", "189.50"), ("MSFT", "415.20")],
        [("AAPL", "189.60")],
        [("AAPL", "189.70"), ("MSFT", "415.00")],
    ]
    assert clock.waits == waits  # the file's gaps, divided by the speed
    offsets = [0.0, waits[0], waits[0] + waits[1]]
    assert [batch.source_time for batch in batches] == [
        WALL + timedelta(seconds=offset) for offset in offsets
    ]
    assert batches[0].rows[1].as_input() == {"symbol": "MSFT", "price": "415.20"}  # USD default
    assert batches[2].rows[1].currency == "EUR"


def test_csv_schedule_ignores_time_spent_writing(tmp_path):
    provider, clock = replay(tmp_path, speed=10.0)
    provider.next_batch()
    clock.now += 0.4  # writing the first batch took 0.4 s of the 1 s until the next
    provider.next_batch()
    assert clock.waits == [0.6]


def test_csv_window_groups_rows_by_interval_of_file_time(tmp_path):
    provider, clock = replay(tmp_path, window=20.0)
    batches = drain(provider)
    assert [prices(batch) for batch in batches] == [
        [("AAPL", "189.50"), ("MSFT", "415.20"), ("AAPL", "189.60")],
        [("AAPL", "189.70"), ("MSFT", "415.00")],
    ]
    assert clock.waits == [10.0, 20.0]  # each window is due at its last row's time


def test_csv_ends_at_the_end_of_the_file_unless_looping(tmp_path):
    assert len(drain(replay(tmp_path)[0])) == 3
    looping, _ = replay(tmp_path, loop=True)
    batches = [looping.next_batch() for _ in range(7)]
    assert [prices(batch) for batch in batches[3:6]] == [prices(batch) for batch in batches[:3]]
    empty, _ = replay(tmp_path, "timestamp,symbol,price\n", loop=True)
    assert empty.next_batch() is None  # nothing to loop over: it ends instead of spinning


def test_csv_rows_that_cannot_be_read_are_rejected_with_line_and_reason(tmp_path):
    text = (
        "timestamp,symbol,price\n"
        "2026-01-05T14:30:00Z,AAPL,1\n"
        "yesterday,AAPL,2\n"
        "2026-01-05T14:30:00Z,AAPL,3,USD\n"
        "2026-01-05T14:29:00Z,AAPL,4\n"
        "2026-01-05T14:31:00Z,AAPL,5\n"
    )
    batches = drain(replay(tmp_path, text)[0])
    assert [prices(batch) for batch in batches] == [[("AAPL", "1")], [("AAPL", "5")]]
    assert batches[0].rejected == (
        "line 3: timestamp: not an ISO 8601 time: 'yesterday'",
        "line 4: too many fields (expected timestamp,symbol,price)",
        "line 5: timestamp: earlier than the row before it",
    )


@pytest.mark.parametrize("header", ["symbol,price", "timestamp,price,symbol", ""])
def test_csv_with_another_header_is_refused(tmp_path, header):
    path = tmp_path / "bad.csv"
    path.write_text(f"{header}\n")
    with pytest.raises(ValueError, match="timestamp,symbol,price"):
        CsvReplayProvider(path)


# --- http --------------------------------------------------------------------------------

MAPPING = FieldMapping(items_path="data.quotes", symbol="s", price="p", currency="c", time="t")


def test_http_reads_mapped_fields_as_decimals():
    payload = {
        "data": {
            "quotes": [
                {"s": "aapl", "p": 189.123456789, "c": "USD", "t": "2026-01-05T14:30:00Z"},
                {"s": "SAP", "p": "120.5", "c": "EUR", "t": 1767623460},
                "not an object",
                {"s": "MSFT", "p": "1", "t": "noon"},
            ]
        }
    }
    with quote_server() as server:
        server.answer(200, payload)
        batch = HttpPollProvider(server.url, MAPPING, timeout=5).next_batch()
    assert [row.as_input() for row in batch.rows] == [
        {"symbol": "aapl", "price": Decimal("189.123456789"), "currency": "USD"},
        {"symbol": "SAP", "price": "120.5", "currency": "EUR"},
    ]
    assert batch.source_time == datetime(2026, 1, 5, 14, 31, tzinfo=UTC)  # the latest item
    assert batch.rejected == ("item 2: not a JSON object", "item 3: t: not a time")


def test_http_top_level_list_with_default_fields_and_poll_time():
    with quote_server() as server:
        server.answer(200, [{"symbol": "AAPL", "price": "1.5"}])
        batch = HttpPollProvider(server.url, now=lambda: WALL).next_batch()
    assert [row.as_input() for row in batch.rows] == [{"symbol": "AAPL", "price": "1.5"}]
    assert batch.source_time == WALL


@pytest.mark.parametrize(
    ("status", "body", "delay", "message"),
    [
        (500, {"error": "down"}, 0.0, "answered HTTP 500"),
        (200, "<html>oops</html>", 0.0, "did not answer JSON"),
        (200, {"data": {"quotes": {"AAPL": 1}}}, 0.0, "no list of quotes at data.quotes"),
        (200, [], 3.0, "could not be read"),  # slower than the timeout
    ],
    ids=["server-error", "not-json", "no-list", "timeout"],
)
def test_http_unusable_answers_are_source_errors(status, body, delay, message):
    with quote_server() as server:
        server.answer(status, body, delay)
        provider = HttpPollProvider(server.url, MAPPING, timeout=0.3)
        with pytest.raises(SourceError, match=message):
            provider.next_batch()


def test_http_refuses_other_schemes():
    with pytest.raises(ValueError, match="http"):
        HttpPollProvider("file:///etc/passwd")
