"""Changing the password and logging out end tokens everywhere, cached answers included,
while a HIT for a valid token stays one Redis round trip and no SQL."""

from __future__ import annotations

import pytest

from fynix.caching.manager import get_manager
from tests.conftest import AuthActions
from tests.gunicorn_server import served_env, start_gunicorn

pytestmark = pytest.mark.redis

PASSWORD = "correct-horse-1"
CACHED = ("/api/users/me", "/api/portfolio/summary", "/api/market/quotes/AAPL")


@pytest.fixture
def accounts(redis_app):
    """An admin (who prices AAPL) and a user logged in twice (two tokens)."""
    auth = AuthActions(redis_app.test_client())
    _, admin = auth.new_user(admin=True)
    user, first = auth.new_user()
    second = auth.login(user["username"])
    assert auth.client.put("/api/market/quotes/AAPL", json={"price": "5"}, headers=admin)
    return auth, user, first, second


def _hits(client, headers) -> None:
    """Every cached read is served from the cache for this token."""
    for path in CACHED:
        client.get(path, headers=headers)
        response = client.get(path, headers=headers)
        assert (response.status_code, response.headers["X-Cache"]) == (200, "HIT"), path


def _refused(client, headers) -> None:
    for path in CACHED:
        response = client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    write = client.patch("/api/users/me", json={"username": "nope-name"}, headers=headers)
    assert write.status_code == 401


def test_a_hit_for_a_logged_in_token_is_one_round_trip_and_no_sql(accounts, io_counter):
    auth, _, first, _ = accounts
    auth.client.get("/api/users/me", headers=first)
    io_counter.sql = io_counter.redis = 0
    assert auth.client.get("/api/users/me", headers=first).headers["X-Cache"] == "HIT"
    assert (io_counter.redis, io_counter.sql) == (1, 0)


def test_logout_ends_this_token_only(accounts):
    auth, _, first, second = accounts
    _hits(auth.client, first)
    _hits(auth.client, second)
    assert auth.client.post("/api/auth/logout", headers=first).status_code == 204
    _refused(auth.client, first)
    _hits(auth.client, second)  # the other session goes on, from the cache
    assert auth.client.post("/api/auth/logout", headers=first).status_code == 401
    public = auth.client.get("/api/public/market-overview", headers=first)
    assert public.status_code == 200  # public answers ignore the token


def test_password_change_ends_every_earlier_token(accounts):
    auth, user, first, second = accounts
    _hits(auth.client, first)
    _hits(auth.client, second)
    changed = auth.client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "battery-staple-2"},
        headers=first,
    )
    assert changed.status_code == 204
    _refused(auth.client, first)
    _refused(auth.client, second)
    old = auth.client.post(
        "/api/auth/login", json={"login": user["username"], "password": PASSWORD}
    )
    assert old.status_code == 401
    fresh = auth.login(user["username"], "battery-staple-2")
    _hits(auth.client, fresh)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"current_password": "wrong-password", "new_password": "battery-staple-2"}, 403),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, 422),
        ({"current_password": PASSWORD, "new_password": "short"}, 422),
        ({"current_password": PASSWORD}, 422),
    ],
)
def test_a_refused_password_change_changes_nothing(accounts, body, status):
    auth, user, first, _ = accounts
    response = auth.client.post("/api/auth/password", json=body, headers=first)
    assert response.status_code == status
    assert response.is_json
    _hits(auth.client, first)
    auth.login(user["username"], PASSWORD)


def test_a_logout_between_the_database_check_and_the_marker_write_wins(accounts, monkeypatch):
    """A read confirms the token in the database; the logout lands before the read admits
    the token to cached answers: the compare-and-set keeps the revocation."""
    auth, _, first, _ = accounts
    app = auth.client.application
    manager = get_manager(app)
    marker_keys = manager.call("scan", f"{manager.prefix}:auth:*:t:*")
    manager.call("unlink", marker_keys)  # e.g. Redis lost them: the next read asks the DB
    hooks = manager.hooks
    original = hooks.confirm_identity

    def confirm_then_logout():
        original()
        with app.app_context():
            assert app.test_client().post("/api/auth/logout", headers=first).status_code == 204

    monkeypatch.setattr(
        manager, "hooks", type(hooks)(**{**vars(hooks), "confirm_identity": confirm_then_logout})
    )
    assert auth.client.get("/api/users/me", headers=first).status_code == 200  # checked first
    monkeypatch.setattr(manager, "hooks", hooks)
    _refused(auth.client, first)


def test_tokens_keep_working_after_redis_lost_their_markers(accounts, redis_client):
    auth, _, first, _ = accounts
    _hits(auth.client, first)
    manager = get_manager(auth.client.application)
    manager.call("unlink", manager.call("scan", f"{manager.prefix}:*"))
    response = auth.client.get("/api/users/me", headers=first)
    assert (response.status_code, response.headers["X-Cache"]) == (200, "MISS")
    _hits(auth.client, first)


@pytest.mark.slow
@pytest.mark.parametrize("redis", [True, False], ids=["redis", "no-redis"])
def test_logout_and_password_change_reach_every_worker(
    app, database_url, redis_server, tmp_path, redis
):
    env = served_env(database_url, redis_server if redis else "", CACHE_LOCAL_DIR=str(tmp_path))
    server = start_gunicorn(env, workers=2)
    try:
        ann, ann_first = server.register_user("ann", PASSWORD)
        _, _, second = server.json(
            "POST", "/api/auth/login", {"login": ann["username"], "password": PASSWORD}
        )
        _, bob_token = server.register_user("bob", PASSWORD)
        tokens = [ann_first, {"Authorization": f"Bearer {second['access_token']}"}, bob_token]
        for headers in tokens:
            for _ in range(6):  # a new connection each time: both workers cache and admit it
                assert server.json("GET", "/api/users/me", headers=headers)[0] == 200
        assert server.json("POST", "/api/auth/logout", headers=tokens[0])[0] == 204
        body = {"current_password": PASSWORD, "new_password": "battery-staple-2"}
        assert server.json("POST", "/api/auth/password", body, tokens[2])[0] == 204
        for _ in range(6):
            assert server.json("GET", "/api/users/me", headers=tokens[0])[0] == 401
            assert server.json("GET", "/api/users/me", headers=tokens[2])[0] == 401
            status, headers, _ = server.json("GET", "/api/users/me", headers=tokens[1])
            assert status == 200
            # With Redis every worker shares the entry; without, a worker may not have
            # served this token yet and computes it (either way its token is admitted).
            assert headers["X-Cache"] == "HIT" or not redis
    finally:
        server.stop()
