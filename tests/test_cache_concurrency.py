"""Stampede protection and user isolation under concurrency and randomized parameters."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fynix.extensions import db
from tests.conftest import captured_sql
from tests.factories import ask, create_position, put_quote, send_notification

pytestmark = pytest.mark.redis


def test_fifty_concurrent_cold_requests_compute_once(redis_auth, monkeypatch):
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    for symbol in ("AAPL", "MSFT", "NVDA"):
        create_position(client, headers, symbol, "3", "10")
    app = client.application
    barrier = threading.Barrier(50)
    responses = []

    def read():
        local = app.test_client()
        barrier.wait()
        responses.append(local.get("/api/portfolio/summary", headers=headers))

    threads = [threading.Thread(target=read) for _ in range(50)]
    with captured_sql(app) as statements:  # every thread's statements
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(responses) == 50
    assert {r.status_code for r in responses} == {200}
    # A summary is made of two units, each loaded once: the holdings and the price book.
    holdings_reads = [sql for sql, _ in statements if "FROM portfolio_positions" in sql]
    book_reads = [sql for sql, _ in statements if "FROM market_quotes" in sql]
    assert (len(holdings_reads), len(book_reads)) == (1, 1)
    # Only the requests that loaded a unit are misses (one, or two if two requests each
    # loaded one of the units); every other request was served from what they stored.
    assert 1 <= [r.headers["X-Cache"] for r in responses].count("MISS") <= 2
    assert len({r.get_data() for r in responses}) == 1


def test_waiters_stop_at_once_when_the_holder_stores_nothing(redis_auth, monkeypatch):
    """Concurrent GETs of a missing position: the lock holder answers 404 and stores
    nothing; the waiters learn it from the lock's release, not by polling out their wait."""
    import fynix.caching.lookup as lookup
    import fynix.portfolio.services as services
    from fynix.caching.manager import get_manager
    from fynix.errors import NotFound

    _, headers = redis_auth.new_user()
    app = redis_auth.client.application
    store = get_manager(app).store
    waiting, released = threading.Event(), threading.Event()
    polls_after_release = []

    class Clock:  # the lookup's view of the time module: counts the waiters' polls
        monotonic = staticmethod(time.monotonic)
        time = staticmethod(time.time)

        @staticmethod
        def sleep(seconds):
            waiting.set()
            if released.is_set():
                polls_after_release.append(seconds)
            time.sleep(seconds)

    original_release = store.release

    def release(key, token):
        original_release(key, token)
        released.set()

    def slow_missing(user_id, position_id):
        waiting.wait(10)  # hold the lock until someone waits on it
        raise NotFound("No such position.")

    monkeypatch.setattr(lookup, "time", Clock)
    monkeypatch.setattr(store, "release", release)
    monkeypatch.setattr(services, "get_position", slow_missing)
    responses = []

    def read():
        responses.append(app.test_client().get("/api/portfolio/positions/4242", headers=headers))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in responses] == [404] * 6
    assert released.is_set()
    assert len(polls_after_release) <= 2 * 5  # a poll or two each, not 2 s of them


QUERY_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=200).map(str),
    st.sampled_from(["", "AAPL", "MSFT", "aapl", "x' OR 1=1--", "%", "true", "1e3"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["page", "per_page", "symbol", "unread", "type", "junk"]),
        QUERY_VALUES,
        max_size=4,
    ),
    path=st.sampled_from(
        [
            "/api/portfolio/positions",
            "/api/portfolio/summary",
            "/api/notifications",
            "/api/notifications/unread-count",
            "/api/ai/threads",
            "/api/users/me",
        ]
    ),
    alice_first=st.booleans(),
)
def test_two_users_never_see_each_others_data(two_users, params, path, alice_first):
    client, users = two_users
    order = ["alice", "bob"] if alice_first else ["bob", "alice"]
    for name in order * 2:
        user = users[name]
        response = client.get(path, query_string=params, headers=user["headers"])
        assert response.status_code in {200, 422}
        if response.status_code == 200:
            text = response.get_data(as_text=True)
            other = users["bob" if name == "alice" else "alice"]
            assert other["marker"] not in text
            assert other["username"] not in text
            assert other["symbol"] not in text


@pytest.fixture
def two_users(redis_auth):
    """Alice and Bob, each with data that names a marker only they own."""
    client = redis_auth.client
    _, admin = redis_auth.new_user(admin=True)
    users = {}
    for name, symbol in (("alice", "AAPL"), ("bob", "MSFT")):
        user, headers = redis_auth.new_user(username=f"{name}{id(client) % 10000}")
        marker = f"secret-{name}-marker"
        create_position(client, headers, symbol, "1", "1")
        send_notification(client, admin, user["id"], title=marker, body=marker)
        ask(client, headers, marker)
        users[name] = {
            "headers": headers,
            "marker": marker,
            "username": user["username"],
            "symbol": symbol,
        }
    return client, users


def test_a_summary_read_during_a_quote_write_is_served_without_sql(redis_auth):
    _, admin = redis_auth.new_user(admin=True)
    _, headers = redis_auth.new_user()
    client = redis_auth.client
    app = client.application
    put_quote(client, admin, "AAPL", "10")
    create_position(client, headers, "AAPL", "3", "10")
    assert client.get("/api/portfolio/summary", headers=headers).headers["X-Cache"] == "MISS"
    writer, seen, reader_sql = threading.get_ident(), {}, []

    def read_now() -> None:  # another user of the app, while the writer reloads the book
        response = app.test_client().get("/api/portfolio/summary", headers=headers)
        seen.update(x_cache=response.headers["X-Cache"],
                    value=response.get_json()["market_value"])  # fmt: skip

    def during_the_reload(conn, cursor, statement, *args: object) -> None:
        if threading.get_ident() != writer:
            reader_sql.append(statement)
        elif statement.rstrip().endswith("ORDER BY market_quotes.symbol") and not seen:
            reader = threading.Thread(target=read_now)  # the book's statement, after commit
            reader.start()
            reader.join(30)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", during_the_reload)
    try:
        response = client.put("/api/market/quotes/AAPL", json={"price": "11"}, headers=admin)
    finally:
        sa.event.remove(engine, "before_cursor_execute", during_the_reload)
    assert response.status_code == 200
    # Before the write is acknowledged the reader gets the book it was published with; the
    # new book and its generation are published together, so no reader loads it itself.
    assert (seen["x_cache"], seen["value"], reader_sql) == ("HIT", "30.00", [])
    after = client.get("/api/portfolio/summary", headers=headers)
    assert (after.headers["X-Cache"], after.get_json()["market_value"]) == ("HIT", "33.00")
