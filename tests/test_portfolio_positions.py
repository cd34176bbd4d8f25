"""Positions: create, validation, ownership, the listing and its pages, one position's CRUD."""

from __future__ import annotations

from decimal import Decimal

import pytest

POSITIONS = "/api/portfolio/positions"
SUMMARY = "/api/portfolio/summary"
VALID = {"symbol": "AAPL", "quantity": "10", "average_cost": "150.25"}


def open_position(client, headers, **fields):
    """POST a position (VALID overridden by ``fields``) and return the response."""
    return client.post(POSITIONS, json={**VALID, **fields}, headers=headers)


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
