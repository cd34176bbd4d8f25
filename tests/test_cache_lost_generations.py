"""Generations that go missing or come back: Redis restarted empty, `cache clear` after a
restore, a failed reload after a committed quote write, and token markers sharing the
in-process host table. Each case served old prices or another user's
stale portfolio before it was fixed."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from fynix.caching import keys
from fynix.caching.manager import get_manager
from fynix.caching.tokens import marker_value
from fynix.extensions import db
from fynix.models import Quote
from tests.conftest import AuthActions

pytestmark = pytest.mark.redis

OVERVIEW = "/api/public/market-overview"


def overview_price(client, symbol: str) -> tuple[str, str]:
    """(X-Cache, price of ``symbol``) of the public overview."""
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    prices = {item["symbol"]: item["price"] for item in response.get_json()["items"]}
    return response.headers["X-Cache"], prices[symbol]


@pytest.fixture
def workers(app, app_factory, redis_server):  # `app`: empties the tables afterwards
    """Two apps on one Redis, database and key prefix: two workers of one deployment."""
    shared = {"REDIS_URL": redis_server, "CACHE_KEY_PREFIX": f"fynixtest-{uuid.uuid4().hex[:8]}"}
    first, second = app_factory(**shared), app_factory(**shared)
    auth = AuthActions(first.test_client())
    _, admin = auth.new_user(admin=True)
    symbol = f"Z{uuid.uuid4().hex[:5].upper()}"
    assert auth.client.put(f"/api/market/quotes/{symbol}", json={"price": "10"}, headers=admin)
    return first.test_client(), second.test_client(), admin, symbol


def test_a_redis_restarted_empty_never_brings_an_old_book_back(workers, redis_client):
    first, second, admin, symbol = workers
    overview_price(second, symbol)
    assert overview_price(second, symbol) == ("HIT", "10.00")  # the second worker's own copy
    redis_client.flushdb()  # Redis restarted empty: every generation is gone
    overview_price(second, symbol)
    response = first.put(f"/api/market/quotes/{symbol}", json={"price": "12"}, headers=admin)
    assert response.status_code == 200
    redis_client.flushdb()  # and once more, after the write

    assert overview_price(second, symbol)[1] == "12.00"
    assert overview_price(first, symbol)[1] == "12.00"


def test_cache_clear_after_a_restore_shows_the_restored_prices(workers):
    first, second, _, symbol = workers
    overview_price(second, symbol)
    assert overview_price(second, symbol) == ("HIT", "10.00")
    app = first.application
    with app.app_context():  # a restore writes the database without the app
        db.session.execute(sa.update(Quote).where(Quote.symbol == symbol).values(price=20))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert overview_price(second, symbol)[1] == "20.00"


def test_cache_clear_without_redis_reaches_every_process_copy_of_the_book(
    app, app_factory, tmp_path
):
    shared = {"CACHE_LOCAL_DIR": str(tmp_path), "CACHE_KEY_PREFIX": "fynixtest-book"}
    server, command = app_factory(**shared), app_factory(**shared)
    auth = AuthActions(server.test_client())
    _, admin = auth.new_user(admin=True)
    assert auth.client.put("/api/market/quotes/ZBOOK", json={"price": "10"}, headers=admin)
    overview_price(auth.client, "ZBOOK")
    assert overview_price(auth.client, "ZBOOK") == ("HIT", "10.00")
    with command.app_context():
        db.session.execute(sa.update(Quote).where(Quote.symbol == "ZBOOK").values(price=30))
        db.session.commit()

    assert command.test_cli_runner().invoke(args=["cache", "clear"]).exit_code == 0
    assert overview_price(auth.client, "ZBOOK")[1] == "30.00"


def test_a_committed_quote_write_whose_reload_fails_still_moves_the_book(workers):
    first, second, admin, symbol = workers
    overview_price(second, symbol)
    assert overview_price(second, symbol) == ("HIT", "10.00")
    app = first.application
    with app.app_context():
        engine = db.engine

    committed = []

    def note_the_commit(conn):
        committed.append(True)

    def fail_the_reload(conn, cursor, statement, parameters, context, executemany):
        if committed and statement.lstrip().upper().startswith("SELECT") and "quotes" in statement:
            raise sa.exc.OperationalError(statement, parameters, Exception("server closed"))

    sa.event.listen(engine, "commit", note_the_commit)
    sa.event.listen(engine, "before_cursor_execute", fail_the_reload)
    try:
        response = first.put(f"/api/market/quotes/{symbol}", json={"price": "14"}, headers=admin)
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail_the_reload)
        sa.event.remove(engine, "commit", note_the_commit)
    assert response.status_code == 503  # the reload failed after the commit
    with app.app_context():
        stored = db.session.scalar(sa.select(Quote.price).where(Quote.symbol == symbol))
    assert str(stored).startswith("14")
    assert overview_price(second, symbol)[1] == "14.00"


def test_a_token_marker_never_moves_a_generation_of_the_host_table(app_factory, tmp_path):
    """Without Redis, markers and generations live in separate host tables: a marker whose
    key hashes to a generation's slot cannot set that generation back to an old value."""
    app = app_factory(CACHE_LOCAL_DIR=str(tmp_path))
    store = get_manager(app).store
    gen_key = keys.gen_key("p", "portfolio", "u7.s")
    target = store.generations._offset(gen_key)
    marker_key = next(
        key
        for n in range(4_000_000)
        if store.generations._offset(key := keys.token_key("p", "u9.s", f"t{n}")) == target
    )
    store.set_many({gen_key: b"0123456789abcdef"}, 60)
    assert store.cas(marker_key, None, marker_value("9.s", "t", None), 60)
    assert store.mget([gen_key]) == [b"0123456789abcdef"]


def test_one_tokens_marker_never_admits_another_token_of_the_same_account():
    first = marker_value("7.stamp", "token-a", b"gen")
    assert first != marker_value("7.stamp", "token-b", b"gen")
    assert first == marker_value("7.stamp", "token-a", b"gen")
