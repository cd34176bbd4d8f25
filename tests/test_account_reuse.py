"""A user id reused after a restore or a reseed is another account: no cached answer and no
token of the old account ever reaches the new one; operators can clear the cache."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fynix.extensions import db
from fynix.models import AIInteraction, Notification, Position, Quote, User
from tests.conftest import USER_READS, AuthActions
from tests.factories import ask, create_position

pytestmark = pytest.mark.redis


def next_id_will_be(app, table: str, next_id: int) -> None:
    """Rewind the id sequence, as restoring an older backup does."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n, false)"),
                {"t": table, "n": next_id},
            )
        # SQLite (no AUTOINCREMENT) reuses max(id) + 1 by itself.


def restore_without(app, user_id: int) -> None:
    """The database as a backup taken before ``user_id`` registered left it."""
    with app.app_context():
        for model in (AIInteraction, Notification, Position):
            db.session.execute(sa.delete(model).where(model.user_id == user_id))
        db.session.execute(sa.delete(User).where(User.id == user_id))
        db.session.commit()
    next_id_will_be(app, "users", user_id)


def test_a_restored_database_never_shows_the_old_account_to_the_new(redis_app):
    auth = AuthActions(redis_app.test_client())
    client = auth.client
    old, old_headers = auth.new_user()
    create_position(client, old_headers, "AAPL", "3", "10")
    ask(client, old_headers, "What do I hold?")
    for path in USER_READS:
        client.get(path, headers=old_headers)
        assert client.get(path, headers=old_headers).headers["X-Cache"] == "HIT", path

    restore_without(redis_app, old["id"])
    new, new_headers = auth.new_user()
    assert new["id"] == old["id"]

    me = client.get("/api/users/me", headers=new_headers).get_json()
    assert (me["email"], me["username"]) == (new["email"], new["username"])
    summary = client.get("/api/portfolio/summary", headers=new_headers).get_json()
    assert summary["positions_count"] == 0
    assert client.get("/api/portfolio/positions", headers=new_headers).get_json()["total"] == 0
    assert client.get("/api/ai/threads", headers=new_headers).get_json()["total"] == 0
    assert client.get("/api/notifications", headers=new_headers).get_json()["total"] == 0
    # The old account's token names a stamp the database no longer has: refused everywhere.
    for path in USER_READS:
        assert client.get(path, headers=old_headers).status_code == 401, path
    refused = client.post(
        "/api/portfolio/positions",
        json={"symbol": "MSFT", "quantity": "1", "average_cost": "1"},
        headers=old_headers,
    )
    assert refused.status_code == 401


def _seed(runner, seed: int):
    result = runner.invoke(args=["seed-demo", "--users", "3", "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    return re.search(r"Demo logins:\s+demo001 \.\.\. demo\d+ / (\S+)", result.output).group(1)


def _wipe(app) -> None:
    with app.app_context():
        for model in (AIInteraction, Notification, Position, Quote, User):
            db.session.execute(sa.delete(model))
        db.session.commit()
    next_id_will_be(app, "users", 1)


def test_a_reseeded_database_serves_the_new_demo_data(redis_app):
    client, runner = redis_app.test_client(), redis_app.test_cli_runner()
    auth = AuthActions(client)
    password = _seed(runner, 7)
    headers = auth.login("demo002", password)
    for path in ("/api/users/me", "/api/notifications?per_page=100"):
        client.get(path, headers=headers)
        assert client.get(path, headers=headers).headers["X-Cache"] == "HIT"

    _wipe(redis_app)
    password = _seed(runner, 8)
    headers = auth.login("demo002", password)
    with redis_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "demo002"))
        expected = db.session.scalar(
            sa.select(sa.func.count()).where(Notification.user_id == user.id)
        )
        created = user.created_at
    me = client.get("/api/users/me", headers=headers).get_json()
    assert me["created_at"] == created.isoformat()
    notifications = client.get("/api/notifications?per_page=100", headers=headers).get_json()
    assert notifications["total"] == expected


def test_cache_clear_drops_every_entry_of_the_application(redis_app, redis_client):
    auth = AuthActions(redis_app.test_client())
    _, headers = auth.new_user()
    auth.client.get("/api/users/me", headers=headers)
    assert auth.client.get("/api/users/me", headers=headers).headers["X-Cache"] == "HIT"
    redis_client.set("not-fynix:key", b"kept")

    result = redis_app.test_cli_runner().invoke(args=["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert int(re.search(r"Deleted (\d+) cache entries", result.output).group(1)) >= 1
    assert auth.client.get("/api/users/me", headers=headers).headers["X-Cache"] == "MISS"
    assert redis_client.get("not-fynix:key") == b"kept"
    redis_client.delete("not-fynix:key")


def test_cache_clear_reaches_every_process_of_the_host_without_redis(app_factory, tmp_path):
    """Without Redis, `flask cache clear` (another process) empties the server's own cache."""
    shared = {"CACHE_LOCAL_DIR": str(tmp_path), "CACHE_KEY_PREFIX": "fynixtest-host"}
    server, command = app_factory(**shared), app_factory(**shared)
    auth = AuthActions(server.test_client())
    _, headers = auth.new_user()
    auth.client.get("/api/users/me", headers=headers)
    assert auth.client.get("/api/users/me", headers=headers).headers["X-Cache"] == "HIT"

    result = command.test_cli_runner().invoke(args=["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert "every process on this host" in result.output
    assert auth.client.get("/api/users/me", headers=headers).headers["X-Cache"] == "MISS"


def test_cache_clear_with_redis_down_fails_and_says_so(app_factory, own_redis):
    app = app_factory(REDIS_URL=own_redis.url)
    own_redis.stop()
    result = app.test_cli_runner().invoke(args=["cache", "clear"])
    assert result.exit_code == 1
    assert "unreachable; nothing was cleared" in result.output
