"""Read-your-writes across two gunicorn worker processes sharing one Redis."""

from __future__ import annotations

import uuid

import pytest

from tests.gunicorn_server import start_gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def server(redis_app, database_url, redis_server):
    """gunicorn with 2 workers on the test database and Redis (tables emptied by redis_app)."""
    instance = start_gunicorn(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server,
            "CACHE_KEY_PREFIX": f"fynixtest-{uuid.uuid4().hex[:10]}",
        }
    )
    yield instance
    instance.stop()


def test_read_your_writes_across_two_workers(server):
    assert len(server.worker_pids()) == 2
    _, auth = server.register_user("rw")
    status, _, position = server.json(
        "POST",
        "/api/portfolio/positions",
        {"symbol": "AAPL", "quantity": "1", "average_cost": "10"},
        auth,
    )
    assert status == 201
    states, stale = [], 0
    for quantity in range(2, 32):
        status, _, _ = server.json(
            "PATCH", f"/api/portfolio/positions/{position['id']}", {"quantity": str(quantity)}, auth
        )
        assert status == 200
        for _ in range(3):  # each read on a new connection: either worker may answer
            status, headers, summary = server.json("GET", "/api/portfolio/summary", headers=auth)
            assert status == 200
            states.append(headers["X-Cache"])
            if summary["holdings"][0]["quantity"] != f"{quantity}.00":
                stale += 1
    assert stale == 0
    assert "HIT" in states
    assert "MISS" in states
