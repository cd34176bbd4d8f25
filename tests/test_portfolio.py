"""Positions (CRUD, validation, ownership, pagination) and the portfolio summary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import ACCOUNT_CHECK, AuthActions, captured_sql

POSITIONS = "/api/portfolio/positions"
SUMMARY = "/api/portfolio/summary"
VALID = {"symbol": "AAPL", "quantity": "10", "average_cost": "150.25"}


def open_position(client, headers, **fields):
    """POST a position (VALID overridden by ``fields``) and return the response."""
    return client.post(POSITIONS, json={**VALID, **fields}, headers=headers)


def put_quote(client, headers, symbol, price, currency=None):
    """Set a quote as an admin."""
    body = {"price": price} | ({"currency": currency} if currency else {})
    response = client.put(f"/api/market/quotes/{symbol}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response


def list_symbols(client, headers, query=""):
    response = client.get(f"{POSITIONS}{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["symbol"] for item in response.get_json()["items"]]


# --- create -------------------------------------------------------------------------


def test_create_position_is_201_with_exact_decimals(client, auth):
    _, headers = auth.new_user()
    response = open_position(
        client, headers, symbol="brk.b", quantity="0.12345678", average_cost="412.123456"
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["symbol"] == "BRK.B"
    assert body["quantity"] == "0.12345678"
    assert body["average_cost"] == "412.123456"
    assert isinstance(body["id"], int)
    assert body["created_at"].endswith("+00:00")
    assert set(body) == {"id", "symbol", "quantity", "average_cost", "created_at", "updated_at"}


def test_decimals_are_strings_and_json_numbers_are_refused(client, auth):
    _, headers = auth.new_user()
    response = open_position(client, headers, quantity=3, average_cost="0")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"quantity"}
    response = open_position(client, headers, quantity="3", average_cost="0")
    assert response.status_code == 201
    assert Decimal(response.get_json()["quantity"]) == 3
    assert Decimal(response.get_json()["average_cost"]) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": "-0.00000001"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": ""}, "quantity"),
        ({"quantity": "1.123456789"}, "quantity"),
        ({"quantity": "12345678901234567"}, "quantity"),
        ({"quantity": "1e30"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"quantity": "Infinity"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": False}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"quantity": [1]}, "quantity"),
        ({"average_cost": -1}, "average_cost"),
        ({"average_cost": "-0.01"}, "average_cost"),
        ({"average_cost": "1.1234567"}, "average_cost"),
        ({"average_cost": "123456789012345"}, "average_cost"),
        ({"average_cost": "NaN"}, "average_cost"),
        ({"average_cost": "abc"}, "average_cost"),
        ({"average_cost": True}, "average_cost"),
        ({"average_cost": {"amount": 1}}, "average_cost"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "   "}, "symbol"),
        ({"symbol": "A B"}, "symbol"),
        ({"symbol": "$AAPL"}, "symbol"),
        ({"symbol": ".AAPL"}, "symbol"),
        ({"symbol": "AAPL/X"}, "symbol"),
        ({"symbol": "A" * 17}, "symbol"),
        ({"symbol": 123}, "symbol"),
        ({"symbol": None}, "symbol"),
        ({"user_id": 1}, "user_id"),
    ],
)
def test_create_rejects_bad_fields_with_422(client, auth, changes, field):
    _, headers = auth.new_user()
    response = open_position(client, headers, **changes)
    assert response.status_code == 422
    body = response.get_json()
    assert field in body["errors"]
    assert body["message"]
    assert list_symbols(client, headers) == []


@pytest.mark.parametrize("missing", ["symbol", "quantity", "average_cost"])
def test_create_requires_every_field(client, auth, missing):
    _, headers = auth.new_user()
    payload = {key: value for key, value in VALID.items() if key != missing}
    response = client.post(POSITIONS, json=payload, headers=headers)
    assert response.status_code == 422
    assert missing in response.get_json()["errors"]


def test_create_with_malformed_json_is_400(client, auth):
    _, headers = auth.new_user()
    response = client.post(
        POSITIONS, data="{bad json", content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_second_position_in_same_symbol_is_409(client, auth):
    _, headers = auth.new_user()
    assert open_position(client, headers, symbol="MSFT").status_code == 201
    response = open_position(client, headers, symbol="msft", quantity="1")
    assert response.status_code == 409
    assert "symbol" in response.get_json()["errors"]
    page = client.get(POSITIONS, headers=headers).get_json()
    assert page["total"] == 1
    assert page["items"][0]["quantity"] == "10.00"


def test_two_users_may_hold_the_same_symbol(client, auth):
    _, alice = auth.new_user()
    _, bob = auth.new_user()
    assert open_position(client, alice).status_code == 201
    assert open_position(client, bob).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", POSITIONS),
        ("post", POSITIONS),
        ("get", f"{POSITIONS}/1"),
        ("patch", f"{POSITIONS}/1"),
        ("delete", f"{POSITIONS}/1"),
        ("get", SUMMARY),
    ],
)
def test_every_endpoint_needs_a_token(client, method, path):
    response = getattr(client, method)(path, json=VALID)
    assert response.status_code == 401
    assert response.get_json()["message"]


# --- list ---------------------------------------------------------------------------


def test_list_is_own_positions_ordered_by_symbol(client, auth):
    _, alice = auth.new_user()
    _, bob = auth.new_user()
    for symbol in ("MSFT", "AAPL", "TSLA"):
        assert open_position(client, alice, symbol=symbol).status_code == 201
    assert open_position(client, bob, symbol="NVDA").status_code == 201
    assert list_symbols(client, alice) == ["AAPL", "MSFT", "TSLA"]
    assert list_symbols(client, bob) == ["NVDA"]


def test_list_pagination_shape_and_pages(client, auth):
    _, headers = auth.new_user()
    symbols = [f"S{index:02d}" for index in range(5)]
    for symbol in symbols:
        assert open_position(client, headers, symbol=symbol).status_code == 201
    first = client.get(f"{POSITIONS}?page=1&per_page=2", headers=headers).get_json()
    assert set(first) == {"items", "page", "per_page", "total"}
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 5)
    assert list_symbols(client, headers, "?page=2&per_page=2") == symbols[2:4]
    assert list_symbols(client, headers, "?page=3&per_page=2") == symbols[4:]
    assert list_symbols(client, headers, "?page=4&per_page=2") == []


def test_list_per_page_is_1_to_100(client, auth):
    _, headers = auth.new_user()
    response = client.get(f"{POSITIONS}?per_page=500", headers=headers)
    assert response.status_code == 422
    assert "per_page" in response.get_json()["errors"]
    assert client.get(f"{POSITIONS}?per_page=100", headers=headers).get_json()["per_page"] == 100
    assert client.get(POSITIONS, headers=headers).get_json()["per_page"] == 20


def test_list_filters_by_symbol_in_any_case(client, auth):
    _, headers = auth.new_user()
    for symbol in ("AAPL", "MSFT"):
        assert open_position(client, headers, symbol=symbol).status_code == 201
    assert list_symbols(client, headers, "?symbol=msft") == ["MSFT"]
    assert list_symbols(client, headers, "?symbol=GOOG") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?page=0", "page"),
        ("?page=abc", "page"),
        ("?per_page=0", "per_page"),
        ("?per_page=-5", "per_page"),
        ("?symbol=$$$", "symbol"),
        ("?symbol=" + "A" * 17, "symbol"),
    ],
)
def test_list_rejects_bad_query_with_422(client, auth, query, field):
    _, headers = auth.new_user()
    response = client.get(f"{POSITIONS}{query}", headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


# --- one position -------------------------------------------------------------------


def test_get_patch_delete_own_position(client, auth):
    _, headers = auth.new_user()
    created = open_position(client, headers).get_json()
    url = f"{POSITIONS}/{created['id']}"
    assert client.get(url, headers=headers).get_json() == created

    patched = client.patch(url, json={"quantity": "12.5"}, headers=headers)
    assert patched.status_code == 200
    assert patched.get_json()["quantity"] == "12.50"
    assert patched.get_json()["average_cost"] == "150.25"
    assert client.get(url, headers=headers).get_json()["quantity"] == "12.50"

    deleted = client.delete(url, headers=headers)
    assert deleted.status_code == 204
    assert deleted.data == b""
    assert client.get(url, headers=headers).status_code == 404
    assert list_symbols(client, headers) == []
    assert client.delete(url, headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": "0.00000001"}, {"quantity": "0.00000001", "average_cost": "150.25"}),
        ({"average_cost": "99.999999"}, {"quantity": "10.00", "average_cost": "99.999999"}),
        ({"quantity": "2", "average_cost": "0"}, {"quantity": "2.00", "average_cost": "0.00"}),
    ],
)
def test_patch_changes_quantity_and_or_cost(client, auth, changes, expected):
    _, headers = auth.new_user()
    created = open_position(client, headers).get_json()
    response = client.patch(f"{POSITIONS}/{created['id']}", json=changes, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert {key: body[key] for key in expected} == expected
    assert body["symbol"] == "AAPL"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "_schema"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"quantity": False}, "quantity"),
        ({"quantity": "1.000000001"}, "quantity"),
        ({"average_cost": -3}, "average_cost"),
        ({"average_cost": "1e15"}, "average_cost"),
        ({"symbol": "MSFT"}, "symbol"),
    ],
)
def test_patch_rejects_bad_changes_and_keeps_the_position(client, auth, changes, field):
    _, headers = auth.new_user()
    created = open_position(client, headers).get_json()
    url = f"{POSITIONS}/{created['id']}"
    response = client.patch(url, json=changes, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert client.get(url, headers=headers).get_json() == created


def test_another_users_position_is_404_and_untouched(client, auth):
    _, alice = auth.new_user()
    _, mallory = auth.new_user()
    created = open_position(client, alice).get_json()
    url = f"{POSITIONS}/{created['id']}"
    assert client.get(url, headers=mallory).status_code == 404
    assert client.patch(url, json={"quantity": "1"}, headers=mallory).status_code == 404
    assert client.delete(url, headers=mallory).status_code == 404
    assert client.get(url, headers=alice).get_json() == created


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_position_is_404(client, auth, method):
    _, headers = auth.new_user()
    response = getattr(client, method)(
        f"{POSITIONS}/999999", json={"quantity": "1"}, headers=headers
    )
    assert response.status_code == 404
    assert response.get_json()["message"]


# --- summary ------------------------------------------------------------------------


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
        response = open_position(
            client, headers, symbol=symbol, quantity=quantity, average_cost=cost
        )
        assert response.status_code == 201

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
    response = open_position(
        client, headers, symbol="BIG", quantity="1234567.12345678", average_cost="98765.432101"
    )
    assert response.status_code == 201
    body = client.get(SUMMARY, headers=headers).get_json()
    assert body["total_cost"] == "121932555405.90"
    assert body["market_value"] == "124980869275.58"
    assert body["unrealized_pnl"] == "3048313869.68"
    assert body["unrealized_pnl_pct"] == "2.50"
    assert body["holdings"][0]["weight"] == "1.00"


def test_summary_with_zero_cost_and_zero_value_has_null_ratios(client, auth):
    _, headers = auth.new_user()
    response = open_position(
        client, headers, symbol="DUST", quantity="0.00000001", average_cost="0.000001"
    )
    assert response.status_code == 201
    body = client.get(SUMMARY, headers=headers).get_json()
    assert Decimal(body["total_cost"]) == 0
    assert Decimal(body["market_value"]) == 0
    assert body["unrealized_pnl_pct"] is None
    assert body["holdings"][0]["weight"] is None
    assert body["holdings"][0]["price_source"] == "cost"


def test_summary_is_per_user(client, auth):
    _, alice = auth.new_user()
    _, bob = auth.new_user()
    assert open_position(client, alice, symbol="AAPL").status_code == 201
    assert client.get(SUMMARY, headers=alice).get_json()["positions_count"] == 1
    bob_summary = client.get(SUMMARY, headers=bob).get_json()
    assert bob_summary["positions_count"] == 0
    assert bob_summary["holdings"] == []


def test_summary_follows_position_and_quote_writes(client, auth):
    _, admin = auth.new_user(admin=True)
    _, headers = auth.new_user()
    created = open_position(client, headers, symbol="AAPL", quantity="2", average_cost="100")
    before = client.get(SUMMARY, headers=headers).get_json()
    assert (before["market_value"], before["holdings"][0]["price_source"]) == ("200.00", "cost")

    put_quote(client, admin, "AAPL", "110")
    after_quote = client.get(SUMMARY, headers=headers).get_json()
    assert after_quote["market_value"] == "220.00"
    assert after_quote["unrealized_pnl_pct"] == "10.00"

    url = f"{POSITIONS}/{created.get_json()['id']}"
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
        assert open_position(client, headers, symbol=symbol).status_code == 201
        with captured_sql(app) as statements:
            response = client.get(SUMMARY, headers=headers)
        assert response.get_json()["positions_count"] == index + 1
        counts.append(len(statements))
    assert counts == [counts[0]] * 5
    assert counts[0] <= ACCOUNT_CHECK + 1


@pytest.mark.redis
def test_summary_cached_in_redis_is_fresh_after_writes(redis_app):
    client = redis_app.test_client()
    auth = AuthActions(client)
    _, admin = auth.new_user(admin=True)
    _, headers = auth.new_user()
    opened = open_position(client, headers, symbol="AAPL", quantity="2", average_cost="100")
    assert opened.status_code == 201
    first = client.get(SUMMARY, headers=headers)
    second = client.get(SUMMARY, headers=headers)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert second.get_json()["market_value"] == "200.00"

    put_quote(client, admin, "AAPL", "150")
    after_quote = client.get(SUMMARY, headers=headers)
    assert after_quote.headers["X-Cache"] == "HIT"  # holdings cached; the new book stored
    assert after_quote.get_json()["market_value"] == "300.00"

    opened = open_position(client, headers, symbol="MSFT", quantity="1", average_cost="5")
    assert opened.status_code == 201
    after_position = client.get(SUMMARY, headers=headers).get_json()
    assert (after_position["positions_count"], after_position["market_value"]) == (2, "305.00")
