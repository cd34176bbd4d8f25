"""Every Redis client the app owns (cache, stats, rate limits) is bounded like the cache's:
a hung Redis costs each request at most the configured timeout, never a stalled API."""

from __future__ import annotations

import gc
import http.client
import json

import pytest
import redis

from tests.gunicorn_server import served_env, start_gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.slow]

HANG_DETECTOR = 5.0  # seconds; the defect this guards against took 10.3 s per login


def _pools_on(port: int) -> list[redis.ConnectionPool]:
    gc.collect()  # not the unreachable pools of earlier tests whose server had this port
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, redis.ConnectionPool) and obj.connection_kwargs.get("port") == port
    ]


def test_every_redis_connection_pool_of_the_app_has_bounded_timeouts(app_factory, own_redis):
    app = app_factory(REDIS_URL=own_redis.url, RATELIMIT_ENABLED=True)
    client = app.test_client()
    client.post("/api/auth/login", json={"login": "nobody", "password": "wrong-password"})
    client.get("/api/public/market-overview")
    pools = _pools_on(own_redis.port)
    assert len(pools) >= 2  # the cache's and the rate limiter's
    for pool in pools:
        kwargs = pool.connection_kwargs
        assert kwargs["socket_timeout"] == app.config["REDIS_SOCKET_TIMEOUT"], kwargs
        assert kwargs["socket_connect_timeout"] == app.config["REDIS_CONNECT_TIMEOUT"], kwargs


@pytest.fixture(params=["fail-open", "fail-closed"])
def limited(request, app, database_url, own_redis):
    """gunicorn with rate limits stored in a Redis of this test only."""
    server = start_gunicorn(
        served_env(
            database_url,
            own_redis.url,
            RATELIMIT_ENABLED="true",
            RATELIMIT_LOGIN="1000 per minute",
            RATELIMIT_FAIL_CLOSED="true" if request.param == "fail-closed" else "false",
        )
    )
    yield request.param, server
    server.stop()


def _login(port: int) -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_DETECTOR)
    try:
        body = json.dumps({"login": "nobody", "password": "wrong-password"})
        connection.request("POST", "/api/auth/login", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def test_rate_limited_requests_are_answered_while_redis_hangs(limited, own_redis):
    mode, server = limited
    assert _login(server.port)[0] == 401
    own_redis.pause()
    try:
        answers = [_login(server.port) for _ in range(4)]  # each raises if it hangs
    finally:
        own_redis.resume()
    if mode == "fail-open":  # limits go on per process, in memory
        assert [status for status, _, _ in answers] == [401] * 4
    else:
        assert [status for status, _, _ in answers] == [503] * 4
        assert all(headers["Retry-After"] == "2" for _, headers, _ in answers)
        assert answers[0][2]["message"] == "Rate limiting is unavailable; retry shortly."
    assert _login(server.port)[0] == 401  # and back to normal once Redis answers
