"""Run the real app under gunicorn (the shipped gunicorn.conf.py) on a loopback port."""

from __future__ import annotations

import os
import uuid

from tests.processes import ROOT, Gunicorn, free_port, launch_gunicorn

# ROOT and free_port were importable from here before the harness moved to tests/processes.py.
__all__ = ["ROOT", "Gunicorn", "free_port", "served_env", "start_gunicorn"]

# Production config with a fixed secret, no rate limits and cheap password hashes.
TEST_ENV = {
    "FYNIX_ENV": "production",
    "SECRET_KEY": "gunicorn-test-secret-key-0123456789",
    "RATELIMIT_ENABLED": "false",
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST": "8192",
}


def start_gunicorn(env: dict[str, str], workers: int = 2) -> Gunicorn:
    """Start ``gunicorn wsgi:app`` with ``env`` and wait until /healthz answers."""
    return launch_gunicorn({**os.environ, **TEST_ENV, **env}, "wsgi:app", workers)


def served_env(database_url: str, redis_url: str = "", **settings: str) -> dict[str, str]:
    """Settings of a served app on the test database (and Redis, when given), with a cache key
    prefix of its own so that no other test's entries are read; ``settings`` add to them."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"fynixtest-{uuid.uuid4().hex[:10]}",
        **settings,
    }


def summaries_after_writes(server: Gunicorn, headers: dict, writes: int, reads: int):
    """Open a position, then ``writes`` times change its quantity and read the summary
    ``reads`` times, each on a new connection (any worker may answer).

    Returns (the X-Cache state of every read, how many reads showed an old quantity).
    """
    body = {"symbol": "AAPL", "quantity": "1", "average_cost": "10"}
    status, _, position = server.json("POST", "/api/portfolio/positions", body, headers)
    assert status == 201, position
    states, stale = [], 0
    for quantity in range(2, writes + 2):
        path = f"/api/portfolio/positions/{position['id']}"
        assert server.json("PATCH", path, {"quantity": str(quantity)}, headers)[0] == 200
        for _ in range(reads):
            status, answer_headers, summary = server.json(
                "GET", "/api/portfolio/summary", headers=headers
            )
            assert status == 200, summary
            states.append(answer_headers["X-Cache"])
            stale += summary["holdings"][0]["quantity"] != f"{quantity}.00"
    return states, stale
