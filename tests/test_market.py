"""Market quotes: reads, admin writes, the public overview and the bulk loader."""

from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from fynix.market.services import upsert_quotes
from tests.conftest import captured_sql
from tests.factories import create_position

QUOTES = "/api/market/quotes"
OVERVIEW = "/api/public/market-overview"


@pytest.fixture
def user(auth):
    """Auth headers of a regular user."""
    return auth.new_user()[1]


def put_quote(client, headers, symbol, **body):
    return client.put(f"{QUOTES}/{symbol}", json=body, headers=headers)


def seed(client, admin_headers, prices):
    """Set several quotes as an admin."""
    for symbol, price in prices.items():
        assert put_quote(client, admin_headers, symbol, price=price).status_code == 201


# --- admin writes -------------------------------------------------------------------


def test_put_creates_with_201_then_updates_with_200(client, admin_headers, user):
    created = put_quote(client, admin_headers, "aapl", price="189.123456")
    assert created.status_code == 201
    body = created.get_json()
    assert (body["symbol"], body["price"], body["currency"]) == ("AAPL", "189.123456", "USD")
    assert body["updated_at"].endswith("+00:00")

    updated = put_quote(client, admin_headers, "AAPL", price="190.5", currency="EUR")
    assert updated.status_code == 200
    assert (updated.get_json()["price"], updated.get_json()["currency"]) == ("190.50", "EUR")
    shown = client.get(f"{QUOTES}/AAPL", headers=user).get_json()
    assert (shown["price"], shown["currency"]) == ("190.50", "EUR")


def test_put_without_currency_means_usd(client, admin_headers):
    assert put_quote(client, admin_headers, "SAP", price="1", currency="EUR").status_code == 201
    response = put_quote(client, admin_headers, "SAP", price="2")
    assert response.status_code == 200
    assert response.get_json()["currency"] == "USD"


def test_put_price_zero_is_allowed(client, admin_headers):
    response = put_quote(client, admin_headers, "ZERO", price="0")
    assert response.status_code == 201
    assert Decimal(response.get_json()["price"]) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "price"),
        ({"price": None}, "price"),
        ({"price": -1}, "price"),
        ({"price": "-0.000001"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "-Infinity"}, "price"),
        ({"price": True}, "price"),
        ({"price": "1.1234567"}, "price"),
        ({"price": "123456789012345"}, "price"),
        ({"price": "1", "currency": "usd"}, "currency"),
        ({"price": "1", "currency": "EURO"}, "currency"),
        ({"price": "1", "currency": "E1R"}, "currency"),
        ({"price": "1", "currency": ""}, "currency"),
        ({"price": "1", "currency": 840}, "currency"),
        ({"price": "1", "symbol": "MSFT"}, "symbol"),
    ],
)
def test_put_rejects_bad_body_with_422_and_writes_nothing(client, admin_headers, user, body, field):
    response = client.put(f"{QUOTES}/AAPL", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert client.get(f"{QUOTES}/AAPL", headers=user).status_code == 404


@pytest.mark.parametrize("symbol", ["BAD$", ".AAPL", "A" * 17, "A%20B"])
def test_put_with_invalid_symbol_is_422(client, admin_headers, symbol):
    response = client.put(f"{QUOTES}/{symbol}", json={"price": "1"}, headers=admin_headers)
    assert response.status_code == 422
    assert "symbol" in response.get_json()["errors"]
    assert client.get(OVERVIEW).get_json()["count"] == 0


def test_put_is_admin_only(client, user):
    anonymous = client.put(f"{QUOTES}/AAPL", json={"price": "1"})
    assert anonymous.status_code == 401
    forbidden = client.put(f"{QUOTES}/AAPL", json={"price": "1"}, headers=user)
    assert forbidden.status_code == 403
    assert forbidden.get_json()["message"]
    assert client.get(OVERVIEW).get_json()["count"] == 0


def test_put_with_malformed_json_is_400(client, admin_headers):
    response = client.put(
        f"{QUOTES}/AAPL", data="{nope", content_type="application/json", headers=admin_headers
    )
    assert response.status_code == 400


# --- one quote ----------------------------------------------------------------------


def test_get_quote_in_any_case(client, admin_headers, user):
    seed(client, admin_headers, {"MSFT": "420.000001"})
    for path in ("MSFT", "msft", "Msft"):
        response = client.get(f"{QUOTES}/{path}", headers=user)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"symbol", "price", "currency", "updated_at"}
        assert (body["symbol"], body["price"]) == ("MSFT", "420.000001")


@pytest.mark.parametrize("symbol", ["GOOG", "BAD$", ".X", "A" * 17])
def test_unknown_or_invalid_symbol_is_404(client, user, symbol):
    response = client.get(f"{QUOTES}/{symbol}", headers=user)
    assert response.status_code == 404
    assert response.get_json()["message"]


def test_quote_reads_need_a_token(client, admin_headers):
    seed(client, admin_headers, {"MSFT": "1"})
    assert client.get(f"{QUOTES}/MSFT").status_code == 401
    assert client.get(f"{QUOTES}?symbols=MSFT").status_code == 401


def test_get_quote_is_fresh_after_a_write(client, admin_headers, user):
    seed(client, admin_headers, {"NVDA": "100"})
    assert client.get(f"{QUOTES}/NVDA", headers=user).get_json()["price"] == "100.00"
    assert client.get(f"{QUOTES}/NVDA", headers=user).get_json()["price"] == "100.00"
    assert put_quote(client, admin_headers, "NVDA", price="101.25").status_code == 200
    assert client.get(f"{QUOTES}/nvda", headers=user).get_json()["price"] == "101.25"
    assert client.get(f"{QUOTES}/NVDA", headers=user).get_json()["price"] == "101.25"


# --- several quotes -----------------------------------------------------------------


def test_get_several_quotes_in_requested_order_with_missing(client, admin_headers, user):
    seed(client, admin_headers, {"AAPL": "1", "MSFT": "2", "TSLA": "3"})
    response = client.get(f"{QUOTES}?symbols=tsla, NOPE,aapl,TSLA,ZZZ", headers=user)
    assert response.status_code == 200
    body = response.get_json()
    assert [item["symbol"] for item in body["items"]] == ["TSLA", "AAPL"]
    assert [item["price"] for item in body["items"]] == ["3.00", "1.00"]
    assert body["missing"] == ["NOPE", "ZZZ"]


def test_get_several_quotes_accepts_fifty_symbols(client, admin_headers, user):
    seed(client, admin_headers, {"S0": "1"})
    symbols = ",".join(f"S{index}" for index in range(50))
    body = client.get(f"{QUOTES}?symbols={symbols}", headers=user).get_json()
    assert [item["symbol"] for item in body["items"]] == ["S0"]
    assert len(body["missing"]) == 49


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?symbols=",
        "?symbols=AAPL,,MSFT",
        "?symbols=AAPL,BAD$",
        "?symbols=" + "A" * 17,
        "?symbols=" + ",".join(f"S{index}" for index in range(51)),
    ],
)
def test_get_several_quotes_rejects_bad_symbols_with_422(client, user, query):
    response = client.get(f"{QUOTES}{query}", headers=user)
    assert response.status_code == 422
    assert "symbols" in response.get_json()["errors"]


def test_several_quotes_are_fresh_after_a_write(client, admin_headers, user):
    seed(client, admin_headers, {"AAPL": "1"})
    url = f"{QUOTES}?symbols=AAPL,MSFT"
    assert client.get(url, headers=user).get_json()["missing"] == ["MSFT"]
    seed(client, admin_headers, {"MSFT": "2"})
    body = client.get(url, headers=user).get_json()
    assert [item["symbol"] for item in body["items"]] == ["AAPL", "MSFT"]
    assert body["missing"] == []


# --- public overview ----------------------------------------------------------------


def test_overview_is_public_and_ordered_by_symbol(client, admin_headers):
    seed(client, admin_headers, {"TSLA": "250.5", "AAPL": "189.123456", "BRK.B": "412"})
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 3
    assert [item["symbol"] for item in body["items"]] == ["AAPL", "BRK.B", "TSLA"]
    assert body["items"][0] == {
        "symbol": "AAPL",
        "price": "189.123456",
        "currency": "USD",
        "updated_at": body["items"][0]["updated_at"],
    }
    assert body["as_of"].endswith("+00:00")


def test_overview_of_empty_market(client):
    body = client.get(OVERVIEW).get_json()
    assert (body["items"], body["count"]) == ([], 0)


def test_overview_is_the_same_with_or_without_a_token(client, admin_headers, user):
    seed(client, admin_headers, {"AAPL": "1"})
    anonymous = client.get(OVERVIEW).get_json()
    signed_in = client.get(OVERVIEW, headers=user).get_json()
    assert anonymous["items"] == signed_in["items"]


def test_overview_is_fresh_after_a_write(client, admin_headers):
    seed(client, admin_headers, {"AAPL": "1"})
    assert client.get(OVERVIEW).get_json()["count"] == 1
    assert client.get(OVERVIEW).get_json()["count"] == 1
    seed(client, admin_headers, {"MSFT": "2"})
    body = client.get(OVERVIEW).get_json()
    assert [item["symbol"] for item in body["items"]] == ["AAPL", "MSFT"]


def test_overview_is_documented_without_security(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["paths"]["/api/public/market-overview"]["get"]["security"] == []
    assert "security" not in spec["paths"]["/api/market/quotes/{symbol}"]["get"]


# --- bulk loader (used by `flask market load`) --------------------------------------


def test_upsert_quotes_writes_many_in_one_go(app, client, admin_headers):
    seed(client, admin_headers, {"AAPL": "1"})
    assert client.get(OVERVIEW).get_json()["count"] == 1
    rows = [
        {"symbol": "aapl", "price": "2"},
        {"symbol": "MSFT", "price": Decimal("3.5"), "currency": "EUR"},
        {"symbol": "msft", "price": "4.25", "currency": "EUR"},  # last row of a symbol wins
    ]
    with app.app_context():
        assert upsert_quotes(rows) == 2
    body = client.get(OVERVIEW).get_json()
    prices = {item["symbol"]: (item["price"], item["currency"]) for item in body["items"]}
    assert prices == {"AAPL": ("2.00", "USD"), "MSFT": ("4.25", "EUR")}


def test_upsert_quotes_handles_large_loads(app, client):
    rows = [{"symbol": f"L{index:04d}", "price": f"{index}.5"} for index in range(1200)]
    with app.app_context():
        assert upsert_quotes(rows) == 1200
        assert upsert_quotes([]) == 0
    body = client.get(OVERVIEW).get_json()
    assert body["count"] == 1200
    last = body["items"][-1]
    assert (last["symbol"], last["price"]) == ("L1199", "1199.50")


@pytest.mark.parametrize(
    "bad_row",
    [
        {"symbol": "BAD$", "price": "1"},
        {"symbol": "OK", "price": "-1"},
        {"symbol": "OK", "price": "1.1234567"},
        {"symbol": "OK", "price": "1", "currency": "usd"},
        {"price": "1"},
    ],
)
def test_upsert_quotes_writes_nothing_when_a_row_is_bad(app, client, bad_row):
    with app.app_context(), pytest.raises(ValidationError):
        upsert_quotes([{"symbol": "GOOD", "price": "1"}, bad_row])
    assert client.get(OVERVIEW).get_json()["count"] == 0


def test_quote_write_revalues_holders_summary(client, admin_headers, user):
    create_position(client, user, "AMD", "4", "100")
    summary = client.get("/api/portfolio/summary", headers=user).get_json()
    assert summary["market_value"] == "400.00"
    seed(client, admin_headers, {"AMD": "125.125"})
    summary = client.get("/api/portfolio/summary", headers=user).get_json()
    assert (summary["market_value"], summary["unrealized_pnl"]) == ("500.50", "100.50")


@pytest.mark.redis
def test_quotes_cached_in_redis_are_fresh_after_writes(redis_app, redis_auth):
    client = redis_auth.client
    _, admin_headers = redis_auth.new_user(admin=True)
    _, user = redis_auth.new_user()
    seed(client, admin_headers, {"AAPL": "1"})
    # The writer stored the new price book at once: readers derive from it, no SQL (HIT).
    for url, headers in ((f"{QUOTES}/AAPL", user), (OVERVIEW, {})):
        for _ in range(2):
            with captured_sql(redis_app) as statements:
                assert client.get(url, headers=headers).headers["X-Cache"] == "HIT"
            assert statements == []
    assert put_quote(client, admin_headers, "AAPL", price="2").status_code == 200
    fresh_quote = client.get(f"{QUOTES}/AAPL", headers=user)
    fresh_overview = client.get(OVERVIEW)
    assert (fresh_quote.headers["X-Cache"], fresh_quote.get_json()["price"]) == ("HIT", "2.00")
    assert fresh_overview.get_json()["items"][0]["price"] == "2.00"
