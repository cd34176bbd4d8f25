"""Read-your-writes across two gunicorn worker processes sharing one Redis."""

from __future__ import annotations

import pytest

from tests.gunicorn_server import served_env, start_gunicorn, summaries_after_writes

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def server(redis_app, database_url, redis_server):
    """gunicorn with 2 workers on the test database and Redis (tables emptied by redis_app)."""
    instance = start_gunicorn(served_env(database_url, redis_server))
    yield instance
    instance.stop()


def test_read_your_writes_across_two_workers(server):
    assert len(server.worker_pids()) == 2
    _, auth = server.register_user("rw")
    states, stale = summaries_after_writes(server, auth, writes=30, reads=3)
    assert stale == 0
    assert "HIT" in states
    assert "MISS" in states
