"""After a Redis outage every process recovers by itself, busy or idle, and replays what it
owes: no worker stays in BYPASS, no lost invalidation lets another worker serve old data."""

from __future__ import annotations

import time
import uuid

import pytest

from fynix.caching.breaker import CircuitBreaker
from fynix.caching.manager import get_manager
from tests.conftest import AuthActions, grant_admin, wait_for
from tests.gunicorn_server import Gunicorn, served_env, start_gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.slow]

COOLDOWN = 1.0
WORKERS = 3


def test_a_probe_whose_caller_died_is_given_up_after_a_cooldown():
    breaker = CircuitBreaker(threshold=1, cooldown=0.2)
    breaker.record_failure(OSError("down"))
    assert breaker.allow() is False  # open
    time.sleep(0.25)
    assert breaker.allow() is True  # this caller probes...
    assert breaker.allow() is False  # ...alone
    time.sleep(0.25)  # ...and never reports back
    assert breaker.allow() is True  # another caller may probe: never half-open for good


def test_an_idle_process_closes_its_breaker_and_replays_without_a_request(app_factory, own_redis):
    app = app_factory(
        REDIS_URL=own_redis.url, CACHE_BREAKER_COOLDOWN=COOLDOWN, CACHE_BREAKER_THRESHOLD=1
    )
    auth = AuthActions(app.test_client())
    _, headers = auth.new_user()
    client, manager = auth.client, get_manager(app)
    client.get("/api/users/me", headers=headers)
    assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "HIT"

    own_redis.pause()
    renamed = f"r{uuid.uuid4().hex[:8]}"
    patched = client.patch("/api/users/me", json={"username": renamed}, headers=headers)
    assert patched.status_code == 200
    assert manager.pending_invalidations == 1
    assert client.get("/api/users/me", headers=headers).headers["X-Cache"] == "BYPASS"
    assert manager.breaker.state == "open"
    own_redis.resume()

    # No request from here on until the process has recovered on its own.
    assert wait_for(lambda: manager.breaker.state == "closed" and not manager.pending_invalidations)
    response = client.get("/api/users/me", headers=headers)
    assert response.headers["X-Cache"] == "MISS"
    assert response.get_json()["username"] == renamed


@pytest.fixture
def workers(app, database_url, own_redis):
    """gunicorn with 3 workers on the test database and a Redis of this test only."""
    server = start_gunicorn(
        served_env(
            database_url,
            own_redis.url,
            CACHE_BREAKER_COOLDOWN=str(COOLDOWN),
            CACHE_BREAKER_THRESHOLD="1",
        ),
        workers=WORKERS,
    )
    yield server
    server.stop()


def _first_health_of_every_worker(server: Gunicorn, admin: dict) -> dict[int, dict]:
    """The first /cache/health answer of each worker (new connection each time, so any
    worker may answer); later answers of a worker are ignored: its own PING could have
    changed its state."""
    seen: dict[int, dict] = {}
    deadline = time.monotonic() + 30
    while len(seen) < WORKERS and time.monotonic() < deadline:
        _, _, health = server.json("GET", "/cache/health", headers=admin)
        seen.setdefault(health["process"], health)
    assert len(seen) == WORKERS, seen
    return seen


def test_every_worker_recovers_while_idle_and_nothing_stale_is_served(app, workers, own_redis):
    admin_user, admin = workers.register_user("w")
    grant_admin(app, admin_user["id"])
    _, headers = workers.register_user("w")
    for _ in range(3):
        workers.json("GET", "/api/users/me", headers=headers)
    assert workers.json("GET", "/api/users/me", headers=headers)[1]["X-Cache"] == "HIT"

    own_redis.pause()
    # Every worker meets the outage (its breaker opens on the health check's PING).
    assert {h["status"] for h in _first_health_of_every_worker(workers, admin).values()} == {"down"}
    renamed = f"n{uuid.uuid4().hex[:10]}"
    status, _, _ = workers.json("PATCH", "/api/users/me", {"username": renamed}, headers)
    assert status == 200  # committed; its invalidation waits in one worker's pending set
    own_redis.resume()

    time.sleep(COOLDOWN + 1.0)  # idle: no request reaches any worker
    for pid, health in _first_health_of_every_worker(workers, admin).items():
        assert (health["breaker"], health["pending"]) == ("closed", 0), pid
    answers = [workers.json("GET", "/api/users/me", headers=headers) for _ in range(4 * WORKERS)]
    assert {headers_["X-Cache"] for _, headers_, _ in answers} <= {"HIT", "MISS"}
    assert {body["username"] for _, _, body in answers} == {renamed}
