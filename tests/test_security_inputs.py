"""Security of inputs: Redis payloads are data, cache patterns stay in the prefix, SQL is inert."""

from __future__ import annotations

import pickle
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from fynix.extensions import db
from tests.conftest import TABLES, assert_envelope

# -- Redis holds data, never code -------------------------------------------------------------


class Planted:
    """Unpickling this creates ``path`` (it would prove the cache ran pickle.loads)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.redis
def test_a_pickle_planted_in_an_entry_is_a_miss_and_never_runs(redis_auth, redis_client, tmp_path):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    prefix = client.application.config["CACHE_KEY_PREFIX"]
    first = client.get("/api/users/me", headers=headers)
    assert first.headers["X-Cache"] == "MISS"
    entries = [key for key in redis_client.scan_iter(f"{prefix}:*") if b":e:" in key]
    assert entries
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(Planted(str(marker)))
    for key in entries:
        redis_client.set(key, payload, keepttl=True)
    again = client.get("/api/users/me", headers=headers)
    assert again.status_code == 200
    assert again.headers["X-Cache"] == "MISS"
    assert again.get_json() == first.get_json()
    assert not marker.exists()
    assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "HIT"
    pickle.loads(payload).close()  # the payload was live: loading it is what creates the file
    assert marker.exists()


# -- /cache/pattern stays inside the application's prefix ----------------------------------------

ESCAPES = ["*", "../*", "\\*", "[a-z]*", "*:*", "?*", "**", "[!x]*", "{u1}*", "..%2F*", "*/*", "]["]


@pytest.mark.redis
def test_pattern_clear_never_touches_foreign_keys(redis_auth, redis_client):
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    prefix = client.application.config["CACHE_KEY_PREFIX"]
    foreign = [
        "someone-else:key",
        prefix,
        f"{prefix}2:user:{{u1}}:e:x",
        f"x{prefix}:user:{{u1}}:e:x",
        f"{prefix.upper()}:user:x",
        f"../{prefix}:user:x",
    ]
    for key in foreign:
        redis_client.set(key, b"keep", ex=600)
    for pattern in ESCAPES:
        client.get("/api/users/me", headers=headers)
        response = client.delete(f"/cache/pattern/{quote(pattern, safe='%')}", headers=admin)
        assert response.status_code in {200, 422}, (pattern, response.get_json())
    client.get("/api/users/me", headers=headers)
    assert client.delete("/cache/pattern/*", headers=admin).get_json()["deleted"] >= 1
    for key in foreign:
        assert redis_client.get(key) == b"keep", key
    redis_client.delete(*foreign)


# -- SQL injection is inert ---------------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE users; --",
    "AAPL' --",
    '" OR 1=1 --',
    "1 UNION SELECT password_hash FROM users",
    "%' OR 1=1 --",
    "'); DELETE FROM portfolio_positions; --",
    "1 OR 1=1",
    "admin'/*",
]


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def injection_calls(text: str) -> list[tuple[str, str, set[int]]]:
    """(method, url, acceptable statuses) for each filter and path parameter."""
    q = quote(text, safe="")
    filters = [
        f"/api/portfolio/positions?symbol={q}",
        f"/api/portfolio/positions?page={q}",
        f"/api/notifications?type={q}",
        f"/api/notifications?unread={q}",
        f"/api/notifications?per_page={q}",
        f"/api/market/quotes?symbols={q}",
        f"/api/ai/threads?page={q}",
    ]
    paths = [
        ("GET", f"/api/market/quotes/{q}"),
        ("GET", f"/api/portfolio/positions/{q}"),
        ("PATCH", f"/api/portfolio/positions/{q}"),
        ("DELETE", f"/api/portfolio/positions/{q}"),
        ("POST", f"/api/notifications/{q}/read"),
        ("DELETE", f"/api/notifications/{q}"),
        ("GET", f"/api/ai/threads/{q}"),
    ]
    return [("GET", url, {422}) for url in filters] + [(m, url, {404}) for m, url in paths]


@pytest.mark.parametrize("number", [0, 2**31, 2**63, 2**64])
def test_ids_outside_the_columns_range_are_404(client, auth, number):
    _, headers = auth.new_user()
    for method, url in [
        ("GET", f"/api/portfolio/positions/{number}"),
        ("PATCH", f"/api/portfolio/positions/{number}"),
        ("DELETE", f"/api/portfolio/positions/{number}"),
        ("POST", f"/api/notifications/{number}/read"),
        ("DELETE", f"/api/notifications/{number}"),
    ]:
        response = client.open(url, method=method, json={"quantity": "1"}, headers=headers)
        assert_envelope(response, 404)


def test_sql_injection_in_filters_and_path_parameters_is_inert(app, client, auth):
    victim, victim_headers = auth.new_user()
    _, admin = auth.new_user(admin=True)
    _, attacker = auth.new_user()
    client.put("/api/market/quotes/AAPL", json={"price": "190.10"}, headers=admin)
    client.post(
        "/api/portfolio/positions",
        json={"symbol": "AAPL", "quantity": "2", "average_cost": "100"},
        headers=victim_headers,
    )
    note = {"user_id": victim["id"], "type": "system", "title": "Hi", "body": "Private"}
    assert client.post("/api/notifications", json=note, headers=admin).status_code == 201
    before = table_counts(app)
    for text in INJECTIONS:
        for method, url, statuses in injection_calls(text):
            response = client.open(url, method=method, json={"quantity": "1"}, headers=attacker)
            assert response.status_code in statuses, (method, url, response.status_code)
            assert victim["email"] not in response.get_data(as_text=True)
        quote_write = client.put(
            f"/api/market/quotes/{quote(text, safe='')}", json={"price": "1"}, headers=admin
        )
        assert quote_write.status_code in {404, 422}, text
        login = client.post("/api/auth/login", json={"login": text, "password": text})
        assert login.status_code == 401, text
    assert table_counts(app) == before
    mine = client.get("/api/portfolio/positions", headers=victim_headers).get_json()
    assert [p["symbol"] for p in mine["items"]] == ["AAPL"]
    assert client.get("/api/notifications", headers=attacker).get_json()["total"] == 0
