"""Cache HITs sent before Flask dispatches are the very answers Flask would send: same
status, body and headers, for 200, 304 and HEAD, on every cached route without path
arguments; anything but a clean HIT still goes through Flask."""

from __future__ import annotations

import pytest

from tests.conftest import USER_READS, AuthActions
from tests.factories import create_position, put_quote

pytestmark = pytest.mark.redis

ROUTES = (*USER_READS, "/api/market/quotes?symbols=AAPL,MSFT", "/api/public/market-overview")
VARYING = {"Age", "Date"}


@pytest.fixture
def twins(app_factory, redis_server, redis_app):
    """Two apps on one Redis and prefix, one with the fast path and one without."""
    prefix = redis_app.config["CACHE_KEY_PREFIX"]
    fast = app_factory(REDIS_URL=redis_server, CACHE_KEY_PREFIX=prefix, CACHE_FAST_PATH=True)
    slow = app_factory(REDIS_URL=redis_server, CACHE_KEY_PREFIX=prefix, CACHE_FAST_PATH=False)
    auth = AuthActions(fast.test_client())
    _, admin = auth.new_user(admin=True)
    _, user = auth.new_user()
    put_quote(auth.client, admin, "AAPL", "7.5")
    create_position(auth.client, user, "AAPL", "2", "5")
    return fast.test_client(), slow.test_client(), {**user, "X-Request-ID": "twin-1"}


def _flask_calls(client, monkeypatch) -> list[str]:
    """Paths that reached Flask's request dispatch."""
    calls: list[str] = []
    app = client.application
    original = app.full_dispatch_request

    def counted():
        from flask import request

        calls.append(request.path)
        return original()

    monkeypatch.setattr(app, "full_dispatch_request", counted)
    return calls


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_fast_hit_is_the_answer_flask_sends(twins, monkeypatch, path, method):
    fast, slow, headers = twins
    slow.get(path, headers=headers)  # computed and stored once
    expected = slow.open(path, method=method, headers=headers)
    calls = _flask_calls(fast, monkeypatch)
    got = fast.open(path, method=method, headers=headers)
    assert calls == []  # answered before Flask
    assert expected.headers["X-Cache"] == got.headers["X-Cache"] == "HIT"
    assert got.status_code == expected.status_code == 200
    assert got.data == expected.data
    assert {k: v for k, v in got.headers if k not in VARYING} == {
        k: v for k, v in expected.headers if k not in VARYING
    }

    etag = {"If-None-Match": got.headers["ETag"]}
    expected_304 = slow.open(path, method=method, headers={**headers, **etag})
    got_304 = fast.open(path, method=method, headers={**headers, **etag})
    assert got_304.status_code == expected_304.status_code == 304
    assert got_304.data == expected_304.data == b""
    assert {k: v for k, v in got_304.headers if k not in VARYING} == {
        k: v for k, v in expected_304.headers if k not in VARYING
    }


def test_everything_but_a_clean_hit_goes_through_flask(twins, monkeypatch):
    fast, _, headers = twins
    calls = _flask_calls(fast, monkeypatch)
    assert fast.get("/api/users/me").status_code == 401  # no token
    assert fast.get("/api/users/me", headers={"Authorization": "Bearer x"}).status_code == 401
    assert fast.get("/api/notifications?per_page=0", headers=headers).status_code == 422
    first = fast.get("/api/ai/threads?page=2", headers=headers)  # not cached yet: a miss
    assert first.headers["X-Cache"] == "MISS"
    assert fast.post("/api/notifications/read-all", headers=headers).status_code == 200
    assert calls == [
        "/api/users/me",
        "/api/users/me",
        "/api/notifications",
        "/api/ai/threads",
        "/api/notifications/read-all",
    ]
