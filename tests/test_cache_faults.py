"""Redis stopped or hung: every request is served (BYPASS), the breaker spares Redis, recovery
is automatic and nothing stale comes back. Each test owns a throwaway redis-server."""

from __future__ import annotations

import time

import pytest

from tests.conftest import AuthActions
from tests.factories import create_position
from tests.services import start_redis

pytestmark = [pytest.mark.redis, pytest.mark.slow]

COOLDOWN = 2.0  # long enough that a busy machine finishes the "breaker open" checks within it


@pytest.fixture
def faulty(app_factory, own_redis):
    """App on the throwaway Redis with a short breaker cooldown; a user with one position."""
    app = app_factory(
        REDIS_URL=own_redis.url, CACHE_BREAKER_COOLDOWN=COOLDOWN, CACHE_BREAKER_THRESHOLD=2
    )
    auth = AuthActions(app.test_client())
    _, headers = auth.new_user()
    created = create_position(auth.client, headers, "AAPL", "10", "50")
    return app, auth.client, headers, created["id"]


def _store_calls(app, monkeypatch):
    """Count calls from this (the requests') thread that reach the store, i.e. that the
    breaker let through; the background recovery probe runs on its own thread."""
    import threading

    from fynix.caching.manager import get_manager

    store = get_manager(app).store
    calls = {"n": 0}
    me = threading.get_ident()
    for name in ("mget", "set", "set_many", "add", "release"):
        original = getattr(store, name)

        def counted(*args, _original=original, **kwargs):
            calls["n"] += threading.get_ident() == me
            return _original(*args, **kwargs)

        monkeypatch.setattr(store, name, counted)
    return calls


def _wait_for_hit(client, path, headers, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get(path, headers=headers).headers.get("X-Cache") == "HIT":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_outage_is_bypass_then_breaker_then_recovery(faulty, own_redis, monkeypatch, fault):
    app, client, headers, pid = faulty
    client.get("/api/portfolio/summary", headers=headers)
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "HIT"

    if fault == "stopped":
        own_redis.process.terminate()
        own_redis.process.wait(5)
    else:
        own_redis.pause()

    # Every request is answered from the database while Redis is gone.
    for _ in range(3):
        response = client.get("/api/portfolio/summary", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-Cache"] == "BYPASS"
    # A write during the outage succeeds; its invalidation cannot reach Redis.
    patched = client.patch(
        f"/api/portfolio/positions/{pid}", json={"quantity": "20"}, headers=headers
    )
    assert patched.status_code == 200

    # With the breaker open, requests do not even try Redis.
    calls = _store_calls(app, monkeypatch)
    for _ in range(5):
        response = client.get("/api/portfolio/summary", headers=headers)
        assert response.headers["X-Cache"] == "BYPASS"
        assert response.get_json()["market_value"] == "1000.00"  # no quote: valued at cost
    assert calls["n"] == 0
    monkeypatch.undo()

    if fault == "stopped":
        restarted = start_redis(port=own_redis.port)
        own_redis.process = restarted.process
    else:
        own_redis.resume()  # the old entry (quantity 10) is still in this Redis
    time.sleep(COOLDOWN)

    assert _wait_for_hit(client, "/api/portfolio/summary", headers)
    body = client.get("/api/portfolio/summary", headers=headers).get_json()
    assert body["holdings"][0]["quantity"] == "20.00"  # nothing stale resurrected


def test_write_while_hung_is_replayed_before_any_read(faulty, own_redis):
    app, client, headers, pid = faulty
    from fynix.caching.manager import get_manager

    client.get("/api/portfolio/positions", headers=headers)
    assert client.get("/api/portfolio/positions", headers=headers).headers["X-Cache"] == "HIT"
    own_redis.pause()
    for quantity in ("11", "12"):
        response = client.patch(
            f"/api/portfolio/positions/{pid}", json={"quantity": quantity}, headers=headers
        )
        assert response.status_code == 200
    assert get_manager(app).pending_invalidations > 0
    own_redis.resume()
    time.sleep(COOLDOWN)
    first = client.get("/api/portfolio/positions", headers=headers)
    assert first.get_json()["items"][0]["quantity"] == "12.00"
    assert get_manager(app).pending_invalidations == 0


def test_health_and_readyz_report_down_cache_without_failing(faulty, own_redis):
    _app, client, _headers, _ = faulty
    own_redis.process.terminate()
    own_redis.process.wait(5)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "degraded"
    assert ready.get_json()["checks"]["cache"]["status"] == "down"
