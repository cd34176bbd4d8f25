"""Stale-then-fresh for every invalidation rule, and the slow-reader race, on a real Redis."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import captured_sql
from tests.factories import aapl_holder, create_position

pytestmark = pytest.mark.redis


@pytest.fixture
def world(redis_auth):
    """An admin, two users (one holding AAPL), one quote; returns the pieces."""
    holder = aapl_holder(redis_auth)
    other_user, other = redis_auth.new_user()
    return {
        "client": redis_auth.client,
        "admin": holder.admin_headers,
        "holder": holder.headers,
        "holder_id": holder.user["id"],
        "other": other,
        "other_id": other_user["id"],
        "position_id": holder.position["id"],
    }


def cached(client, path, headers=None):
    """GET twice and prove the second answer came from the cache; return its JSON."""
    client.get(path, headers=headers)
    response = client.get(path, headers=headers)
    assert response.headers["X-Cache"] == "HIT", path
    return response.get_json()


def fresh(client, path, headers=None):
    """The next GET after a write: must be recomputed (MISS); return its JSON."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "MISS", path
    return response.get_json()


def test_position_change_refreshes_list_item_and_summary(world):
    client, holder, pid = world["client"], world["holder"], world["position_id"]
    assert cached(client, "/api/portfolio/summary", holder)["market_value"] == "1000.00"
    assert cached(client, "/api/portfolio/positions", holder)["items"][0]["quantity"] == "10.00"
    assert cached(client, f"/api/portfolio/positions/{pid}", holder)["quantity"] == "10.00"
    patched = client.patch(
        f"/api/portfolio/positions/{pid}", json={"quantity": "12"}, headers=holder
    )
    assert patched.status_code == 200
    assert fresh(client, "/api/portfolio/summary", holder)["market_value"] == "1200.00"
    assert fresh(client, "/api/portfolio/positions", holder)["items"][0]["quantity"] == "12.00"
    assert fresh(client, f"/api/portfolio/positions/{pid}", holder)["quantity"] == "12.00"


def test_new_and_deleted_positions_refresh_summary(world):
    client, holder, pid = world["client"], world["holder"], world["position_id"]
    assert cached(client, "/api/portfolio/summary", holder)["positions_count"] == 1
    create_position(client, holder, "MSFT", "1", "300")
    assert fresh(client, "/api/portfolio/summary", holder)["positions_count"] == 2
    assert cached(client, "/api/portfolio/summary", holder)["positions_count"] == 2
    assert client.delete(f"/api/portfolio/positions/{pid}", headers=holder).status_code == 204
    assert fresh(client, "/api/portfolio/summary", holder)["positions_count"] == 1


def current(client, path, headers=None):
    """The next GET after a quote change: derived from the new price book, which the writer
    stored at once, so it is served without SQL (a HIT) and fresh; return its JSON."""
    app = client.application
    with captured_sql(app) as statements:
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert (response.headers["X-Cache"], statements) == ("HIT", []), path
    return response.get_json()


def test_quote_update_refreshes_every_reader_and_no_holder_entry(world):
    client, admin, holder, other = world["client"], world["admin"], world["holder"], world["other"]
    assert cached(client, "/api/portfolio/summary", holder)["market_value"] == "1000.00"
    assert cached(client, "/api/portfolio/summary", other)["positions_count"] == 0
    assert cached(client, "/api/market/quotes/AAPL", other)["price"] == "100.00"
    assert cached(client, "/api/market/quotes?symbols=AAPL", other)["items"][0]["price"] == "100.00"
    assert cached(client, "/api/public/market-overview")["items"][0]["price"] == "100.00"
    assert cached(client, "/api/portfolio/positions", holder)["total"] == 1

    assert (
        client.put("/api/market/quotes/AAPL", json={"price": "110"}, headers=admin).status_code
        == 200
    )

    assert current(client, "/api/portfolio/summary", holder)["market_value"] == "1100.00"
    assert current(client, "/api/market/quotes/AAPL", other)["price"] == "110.00"
    assert (
        current(client, "/api/market/quotes?symbols=AAPL", other)["items"][0]["price"] == "110.00"
    )
    assert current(client, "/api/public/market-overview")["items"][0]["price"] == "110.00"
    # Prices are not part of the positions list: its entry was not touched.
    assert client.get("/api/portfolio/positions", headers=holder).headers["X-Cache"] == "HIT"


def test_quote_load_from_cli_refreshes_holders(world, tmp_path):
    client, holder = world["client"], world["holder"]
    assert cached(client, "/api/portfolio/summary", holder)["market_value"] == "1000.00"
    csv_file = tmp_path / "quotes.csv"
    csv_file.write_text("symbol,price,currency\nAAPL,120,USD\n")
    result = client.application.test_cli_runner().invoke(args=["market", "load", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert current(client, "/api/portfolio/summary", holder)["market_value"] == "1200.00"


def test_admin_notification_refreshes_recipient_only(world):
    client, admin, holder, other = world["client"], world["admin"], world["holder"], world["other"]
    assert cached(client, "/api/notifications/unread-count", holder)["unread_count"] == 0
    assert cached(client, "/api/notifications", holder)["total"] == 0
    assert cached(client, "/api/notifications/unread-count", other)["unread_count"] == 0
    sent = client.post(
        "/api/notifications",
        json={"user_id": world["holder_id"], "type": "price_alert", "title": "AAPL", "body": "up"},
        headers=admin,
    )
    assert sent.status_code == 201
    assert fresh(client, "/api/notifications/unread-count", holder)["unread_count"] == 1
    assert fresh(client, "/api/notifications", holder)["total"] == 1
    assert client.get("/api/notifications/unread-count", headers=other).headers["X-Cache"] == "HIT"


def test_read_read_all_and_delete_refresh_unread_count(world):
    client, admin, holder = world["client"], world["admin"], world["holder"]
    ids = []
    for n in range(3):
        sent = client.post(
            "/api/notifications",
            json={"user_id": world["holder_id"], "type": "info", "title": f"n{n}", "body": "b"},
            headers=admin,
        )
        ids.append(sent.get_json()["id"])
    assert cached(client, "/api/notifications/unread-count", holder)["unread_count"] == 3
    assert client.post(f"/api/notifications/{ids[0]}/read", headers=holder).status_code == 200
    assert fresh(client, "/api/notifications/unread-count", holder)["unread_count"] == 2
    assert cached(client, "/api/notifications?unread=true", holder)["total"] == 2
    assert client.delete(f"/api/notifications/{ids[1]}", headers=holder).status_code == 204
    assert fresh(client, "/api/notifications?unread=true", holder)["total"] == 1
    assert cached(client, "/api/notifications/unread-count", holder)["unread_count"] == 1
    assert client.post("/api/notifications/read-all", headers=holder).get_json()["updated"] == 1
    assert fresh(client, "/api/notifications/unread-count", holder)["unread_count"] == 0


def test_ai_interaction_refreshes_threads(world):
    client, holder = world["client"], world["holder"]
    assert cached(client, "/api/ai/threads", holder)["total"] == 0
    created = client.post(
        "/api/ai/interactions", json={"prompt": "What is my largest holding?"}, headers=holder
    )
    assert created.status_code == 201
    thread_id = created.get_json()["thread_id"]
    assert fresh(client, "/api/ai/threads", holder)["total"] == 1
    assert len(cached(client, f"/api/ai/threads/{thread_id}", holder)["interactions"]) == 1
    client.post(
        "/api/ai/interactions",
        json={"prompt": "And my P&L?", "thread_id": thread_id},
        headers=holder,
    )
    assert len(fresh(client, f"/api/ai/threads/{thread_id}", holder)["interactions"]) == 2


def test_position_change_keeps_ai_history_cached(world):
    """Thread history shows stored answers, which a position change does not rewrite."""
    client, holder, pid = world["client"], world["holder"], world["position_id"]
    assert cached(client, "/api/ai/threads", holder)["total"] == 0
    client.patch(f"/api/portfolio/positions/{pid}", json={"quantity": "11"}, headers=holder)
    assert client.get("/api/ai/threads", headers=holder).headers["X-Cache"] == "HIT"


def test_profile_change_refreshes_me(world):
    client, holder = world["client"], world["holder"]
    name = cached(client, "/api/users/me", holder)["username"]
    assert (
        client.patch("/api/users/me", json={"username": name + "x"}, headers=holder).status_code
        == 200
    )
    assert fresh(client, "/api/users/me", holder)["username"] == name + "x"


def test_slow_reader_cannot_store_stale_result_after_a_write(world, monkeypatch):
    """Reader computes with old data, writer commits and invalidates, reader stores last."""
    client, holder, pid = world["client"], world["holder"], world["position_id"]
    app = client.application
    from fynix.caching.manager import get_manager

    store = get_manager(app).store
    original_set = store.set
    reader_computed, writer_done = threading.Event(), threading.Event()
    reader_thread: list[threading.Thread] = []

    def gated_set(key, value, ttl):
        if reader_thread and threading.current_thread() is reader_thread[0] and ":e:" in key:
            reader_computed.set()
            assert writer_done.wait(10)
        return original_set(key, value, ttl)

    monkeypatch.setattr(store, "set", gated_set)
    results = {}

    def read():
        results["reader"] = app.test_client().get("/api/portfolio/summary", headers=holder)

    reader_thread.append(threading.Thread(target=read))
    reader_thread[0].start()
    assert reader_computed.wait(10)  # the reader has its (old) answer and is about to store it
    patched = client.patch(
        f"/api/portfolio/positions/{pid}", json={"quantity": "20"}, headers=holder
    )
    assert patched.status_code == 200
    writer_done.set()
    reader_thread[0].join(10)

    assert results["reader"].get_json()["market_value"] == "1000.00"  # it did read old data
    after = client.get("/api/portfolio/summary", headers=holder)
    assert after.headers["X-Cache"] == "MISS"
    assert after.get_json()["market_value"] == "2000.00"
