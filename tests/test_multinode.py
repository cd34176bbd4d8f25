"""Two app nodes: separate gunicorn instances sharing one database and one Redis.

What one node writes, the other reads at once (read-your-writes and every invalidation
rule hold across nodes), an entry one node computed is a HIT on the other, and
/cache/stats on either node adds up the hits of both.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import grant_admin
from tests.gunicorn_server import served_env, start_gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def nodes(database_url, redis_server):
    """Nodes A and B (2 workers each): same DATABASE_URL, REDIS_URL and key prefix."""
    env = served_env(database_url, redis_server)
    node_a = start_gunicorn(env)
    try:
        node_b = start_gunicorn(env)
    except RuntimeError:
        node_a.stop()
        raise
    yield node_a, node_b
    node_a.stop()
    node_b.stop()


@pytest.fixture
def shared(nodes, redis_app):
    """The two nodes; redis_app (same database) empties the tables afterwards."""
    return (*nodes, redis_app)


def _user(node, app=None, admin=False) -> dict:
    """Register through ``node``, optionally grant admin in the database, log in."""
    user, headers = node.register_user("mn")
    if admin:
        grant_admin(app, user["id"])
    return {"id": user["id"], "headers": headers}


def _get(node, path, headers=None) -> tuple[str, dict]:
    status, response_headers, body = node.json("GET", path, headers=headers)
    assert status == 200, body
    return response_headers.get("X-Cache"), body


def test_write_on_one_node_is_read_on_the_other(shared):
    node_a, node_b, _ = shared
    user = _user(node_a)
    status, _, position = node_a.json(
        "POST",
        "/api/portfolio/positions",
        {"symbol": "AAPL", "quantity": "1", "average_cost": "10"},
        user["headers"],
    )
    assert status == 201
    stale, hits_served_by_other_node = 0, 0
    for quantity in range(2, 14):
        writer, reader = (node_a, node_b) if quantity % 2 else (node_b, node_a)
        status, _, _ = writer.json(
            "PATCH",
            f"/api/portfolio/positions/{position['id']}",
            {"quantity": str(quantity)},
            user["headers"],
        )
        assert status == 200
        first, body = _get(reader, "/api/portfolio/summary", user["headers"])
        assert first == "MISS"  # the write on the other node made the entry stale
        stale += body["holdings"][0]["quantity"] != f"{quantity}.00"
        # the entry the reader just stored is a HIT on the writer's node
        second, body = _get(writer, "/api/portfolio/summary", user["headers"])
        hits_served_by_other_node += second == "HIT"
        stale += body["holdings"][0]["quantity"] != f"{quantity}.00"
    assert stale == 0
    assert hits_served_by_other_node == 12


def test_invalidation_rules_hold_across_nodes(shared):
    node_a, node_b, app = shared
    admin = _user(node_a, app, admin=True)
    holder = _user(node_b)
    assert node_b.json("PUT", "/api/market/quotes/NVDA", {"price": "100"}, admin["headers"])[0] in {
        200,
        201,
    }
    node_b.json(
        "POST",
        "/api/portfolio/positions",
        {"symbol": "NVDA", "quantity": "2", "average_cost": "50"},
        holder["headers"],
    )
    for path in ("/api/portfolio/summary", "/api/notifications/unread-count"):
        _get(node_a, path, holder["headers"])
        assert _get(node_a, path, holder["headers"])[0] == "HIT"

    # a quote changed on node B refreshes the holder's summary on node A
    assert (
        node_b.json("PUT", "/api/market/quotes/NVDA", {"price": "120"}, admin["headers"])[0] == 200
    )
    # Node A's holdings entry is untouched; its copy of the price book is refreshed from
    # Redis (no SQL), so the fresh answer is a HIT.
    state, summary = _get(node_a, "/api/portfolio/summary", holder["headers"])
    assert (state, summary["market_value"]) == ("HIT", "240.00")
    # a notification sent through node B refreshes the recipient's count on node A
    status, _, _ = node_b.json(
        "POST",
        "/api/notifications",
        {"user_id": holder["id"], "type": "info", "title": "hello", "body": "from B"},
        admin["headers"],
    )
    assert status == 201
    state, count = _get(node_a, "/api/notifications/unread-count", holder["headers"])
    assert (state, count["unread_count"]) == ("MISS", 1)


def test_stats_add_up_hits_of_both_nodes(shared):
    node_a, node_b, app = shared
    admin = _user(node_a, app, admin=True)
    before = _stats(node_a, admin)["namespaces"]["user"]
    seen = {"HIT": 0, "MISS": 0}
    for node in (node_a, node_b, node_a, node_b):
        for _ in range(3):
            user = _user(node)
            for reader in (node_a, node_b):
                seen[_get(reader, "/api/users/me", user["headers"])[0]] += 1
    assert seen == {"HIT": 12, "MISS": 12}  # one miss per user, the other node's read hits
    expected = (before["hits"] + seen["HIT"], before["misses"] + seen["MISS"])
    # each worker flushes its counters to Redis about once a second
    deadline, counted = time.monotonic() + 10, None
    while time.monotonic() < deadline:
        for node in (node_a, node_b):
            user = _stats(node, admin)["namespaces"]["user"]
            counted = (user["hits"], user["misses"])
            if counted != expected:
                break
        else:
            break
        time.sleep(0.2)
    assert counted == expected


def _stats(node, admin) -> dict:
    status, _, body = node.json("GET", "/cache/stats", headers=admin["headers"])
    assert status == 200, body
    return body
