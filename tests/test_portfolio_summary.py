"""The portfolio summary: exact Decimal totals, per-user, following writes, SQL and cache."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import ACCOUNT_CHECK, captured_sql
from tests.factories import create_position, put_quote

POSITIONS = "/api/portfolio/positions"
SUMMARY = "/api/portfolio/summary"


def test_summary_of_empty_portfolio(client, auth):
    _, headers = auth.new_user()
    body = client.get(SUMMARY, headers=headers).get_json()
    assert body["positions_count"] == 0
    assert body["holdings"] == []
    for key in ("total_cost", "market_value", "unrealized_pnl"):
        assert Decimal(body[key]) == 0
    assert body["unrealized_pnl_pct"] is None
    assert body["as_of"].endswith("+00:00")


def test_summary_exact_values_with_half_even_rounding(client, auth):
    _, admin = auth.new_user(admin=True)
    _, headers = auth.new_user()
    put_quote(client, admin, "AAA", "12.654321")
    put_quote(client, admin, "BBB", "0.05", currency="EUR")
    for symbol, quantity, cost in (
        ("AAA", "3.12345678", "10.123456"),
        ("BBB", "0.5", "0.07"),  # cost 0.035 -> 0.04, value 0.025 -> 0.02 (half-even)
        ("CCC", "100", "1.5"),  # no quote: valued at cost
    ):
        create_position(client, headers, symbol, quantity, cost)

    body = client.get(SUMMARY, headers=headers).get_json()
    assert body["positions_count"] == 3
    assert (body["total_cost"], body["market_value"]) == ("181.66", "189.55")
    assert (body["unrealized_pnl"], body["unrealized_pnl_pct"]) == ("7.89", "4.34")
    aaa, bbb, ccc = body["holdings"]
    assert aaa == {
        "symbol": "AAA",
        "quantity": "3.12345678",
        "average_cost": "10.123456",
        "price": "12.654321",
        "price_source": "quote",
        "currency": "USD",
        "market_value": "39.53",
        "cost": "31.62",
        "unrealized_pnl": "7.91",
        "weight": "0.2085",
    }
    assert (bbb["cost"], bbb["market_value"], bbb["unrealized_pnl"]) == ("0.04", "0.02", "-0.02")
    assert (bbb["currency"], bbb["weight"]) == ("EUR", "0.0001")
    assert (ccc["price"], ccc["price_source"], ccc["currency"]) == ("1.50", "cost", None)
    assert (ccc["cost"], ccc["market_value"], ccc["weight"]) == ("150.00", "150.00", "0.7913")
    assert Decimal(ccc["unrealized_pnl"]) == 0
    for total, part in (
        ("total_cost", "cost"),
        ("market_value", "market_value"),
        ("unrealized_pnl", "unrealized_pnl"),
    ):
        assert sum(Decimal(h[part]) for h in body["holdings"]) == Decimal(body[total])


def test_summary_of_large_values_is_exact(client, auth):
    _, admin = auth.new_user(admin=True)
    _, headers = auth.new_user()
    put_quote(client, admin, "BIG", "101234.567891")
    create_position(client, headers, "BIG", "1234567.12345678", "98765.432101")
    body = client.get(SUMMARY, headers=headers).get_json()
    assert body["total_cost"] == "121932555405.90"
    assert body["market_value"] == "124980869275.58"
    assert body["unrealized_pnl"] == "3048313869.68"
    assert body["unrealized_pnl_pct"] == "2.50"
    assert body["holdings"][0]["weight"] == "1.00"


def test_summary_with_zero_cost_and_zero_value_has_null_ratios(client, auth):
    _, headers = auth.new_user()
    create_position(client, headers, "DUST", "0.00000001", "0.000001")
    body = client.get(SUMMARY, headers=headers).get_json()
    assert Decimal(body["total_cost"]) == 0
    assert Decimal(body["market_value"]) == 0
    assert body["unrealized_pnl_pct"] is None
    assert body["holdings"][0]["weight"] is None
    assert body["holdings"][0]["price_source"] == "cost"


def test_summary_is_per_user(client, auth):
    _, alice = auth.new_user()
    _, bob = auth.new_user()
    create_position(client, alice, "AAPL")
    assert client.get(SUMMARY, headers=alice).get_json()["positions_count"] == 1
    bob_summary = client.get(SUMMARY, headers=bob).get_json()
    assert bob_summary["positions_count"] == 0
    assert bob_summary["holdings"] == []


def test_summary_follows_position_and_quote_writes(client, auth):
    _, admin = auth.new_user(admin=True)
    _, headers = auth.new_user()
    created = create_position(client, headers, "AAPL", "2", "100")
    before = client.get(SUMMARY, headers=headers).get_json()
    assert (before["market_value"], before["holdings"][0]["price_source"]) == ("200.00", "cost")

    put_quote(client, admin, "AAPL", "110")
    after_quote = client.get(SUMMARY, headers=headers).get_json()
    assert after_quote["market_value"] == "220.00"
    assert after_quote["unrealized_pnl_pct"] == "10.00"

    url = f"{POSITIONS}/{created['id']}"
    assert client.patch(url, json={"quantity": "3"}, headers=headers).status_code == 200
    assert client.get(SUMMARY, headers=headers).get_json()["market_value"] == "330.00"

    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(SUMMARY, headers=headers).get_json()["positions_count"] == 0


def test_summary_sql_does_not_grow_with_positions(app, client, auth):
    _, admin = auth.new_user(admin=True)
    _, headers = auth.new_user()
    counts = []
    for index in range(5):
        symbol = f"Q{index}"
        put_quote(client, admin, symbol, "10")
        create_position(client, headers, symbol)
        with captured_sql(app) as statements:
            response = client.get(SUMMARY, headers=headers)
        assert response.get_json()["positions_count"] == index + 1
        counts.append(len(statements))
    assert counts == [counts[0]] * 5
    assert counts[0] <= ACCOUNT_CHECK + 1


@pytest.mark.redis
def test_summary_cached_in_redis_is_fresh_after_writes(redis_auth):
    client = redis_auth.client
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    create_position(client, headers, "AAPL", "2", "100")
    first = client.get(SUMMARY, headers=headers)
    second = client.get(SUMMARY, headers=headers)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert second.get_json()["market_value"] == "200.00"

    put_quote(client, admin, "AAPL", "150")
    after_quote = client.get(SUMMARY, headers=headers)
    assert after_quote.headers["X-Cache"] == "HIT"  # holdings cached; the new book stored
    assert after_quote.get_json()["market_value"] == "300.00"

    create_position(client, headers, "MSFT", "1", "5")
    after_position = client.get(SUMMARY, headers=headers).get_json()
    assert (after_position["positions_count"], after_position["market_value"]) == (2, "305.00")
