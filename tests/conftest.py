"""Fixtures: app, client, database (SQLite file or PostgreSQL), a real Redis, users, tokens."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest
import sqlalchemy as sa

from config import TestingConfig
from fynix import create_app
from fynix.caching import get_manager
from fynix.extensions import db
from tests.factories import ask, create_position, put_quote, send_notification
from tests.services import RedisProcess, start_redis, unavailable

# Helper modules whose fixtures every test module may use.
pytest_plugins = ("tests.admin_pages", "tests.browser")

PASSWORD = "correct-horse-1"
TABLES = (
    "ai_interactions",
    "notifications",
    "portfolio_positions",
    "market_quotes",
    "market_feed_status",
    "users",
)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'fynix-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The database every API test runs against, migrated to head once."""
    url = _database_url(tmp_path_factory)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        from fynix.services.database_migration import DatabaseMigrationService

        service = DatabaseMigrationService()
        if service.current_revision() is not None:
            service.rollback("base")
        service.run_migrations()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """URL of a real Redis: TEST_REDIS_URL when given, else a redis-server we start."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    server: RedisProcess = start_redis()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def app_factory(database_url, tmp_path_factory):
    """Build apps on the test database; each gets a unique cache prefix, and the host files
    of the cache (generation tables, owed invalidations) go to the session's temp folder."""
    apps = []
    local_dir = tmp_path_factory.getbasetemp() / "cache-local"

    def build(**overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", database_url)
        overrides.setdefault("CACHE_KEY_PREFIX", f"fynixtest-{uuid.uuid4().hex[:10]}")
        overrides.setdefault("CACHE_LOCAL_DIR", str(local_dir))
        app = create_app(TestingConfig, **overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        get_manager(app).close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    _close_rate_limit_storage()


def _close_rate_limit_storage() -> None:
    """Flask-Limiter keeps one storage for the process, replaced by each app's init_app:
    close a Redis one's connections now rather than leave them to the garbage collector
    (which would warn in whatever test happens to run then)."""
    from fynix.extensions import limiter

    with suppress(AssertionError, AttributeError):
        client = limiter.storage.storage
        if hasattr(client, "close"):
            client.close()


@pytest.fixture
def app(app_factory):
    """The app with the in-process cache (embedded default)."""
    app = app_factory()
    yield app
    empty_tables(app)


@pytest.fixture
def redis_app(app_factory, redis_server):
    """The app with a real Redis cache."""
    app = app_factory(REDIS_URL=redis_server)
    yield app
    empty_tables(app)


def empty_tables(app) -> None:
    """Delete every row the tests wrote (the schema stays at head)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
                )
            else:
                for table in TABLES:
                    connection.execute(sa.text(f"DELETE FROM {table}"))


ENVELOPE = {"status", "error", "message", "request_id"}


def assert_envelope(response, status: int) -> dict:
    """The response is the JSON error envelope with ``status``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) - {"errors"} == ENVELOPE
    assert body["status"] == status
    return body


@pytest.fixture
def client(app):
    """Test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """CLI runner of ``app``."""
    return app.test_cli_runner()


def grant_admin(app, user_id: int) -> None:
    """Make the user an administrator, straight in the database."""
    from fynix.users.models import User

    with app.app_context():
        db.session.get(User, user_id).is_admin = True
        db.session.commit()


def wait_for(condition, seconds: float = 30.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (a hang detector, not a timing)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class AuthActions:
    """Register users and log them in through the API."""

    def __init__(self, client):
        self.client = client
        self.counter = 0

    def register(self, username: str | None = None, password: str = PASSWORD, **extra):
        """Register through the API; returns the response."""
        self.counter += 1
        username = username or f"user{self.counter}{uuid.uuid4().hex[:6]}"
        email = extra.pop("email", f"{username}@example.com")
        return self.client.post(
            "/api/auth/register", json={"email": email, "username": username, "password": password}
        )

    def login(self, login: str, password: str = PASSWORD) -> dict:
        """Log in and return the Authorization header dict."""
        response = self.client.post("/api/auth/login", json={"login": login, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    def new_user(self, admin: bool = False, **extra) -> tuple[dict, dict]:
        """Register a user (optionally admin) and return (user json, auth headers)."""
        response = self.register(**extra)
        assert response.status_code == 201, response.get_json()
        user = response.get_json()
        if admin:
            grant_admin(self.client.application, user["id"])
            user["is_admin"] = True
        return user, self.login(user["username"])


@pytest.fixture
def auth(client) -> AuthActions:
    """flaskr-style auth helper bound to ``client``."""
    return AuthActions(client)


@pytest.fixture
def admin_headers(auth) -> dict:
    """Auth headers of a new administrator on ``client``."""
    return auth.new_user(admin=True)[1]


# Every cached read of a signed-in user that takes no path parameter.
USER_READS = (
    "/api/users/me",
    "/api/portfolio/summary",
    "/api/portfolio/positions",
    "/api/notifications",
    "/api/notifications/unread-count",
    "/api/ai/threads",
)

# Every request that is not a cache HIT confirms its token's account (id and security
# stamp) with one primary-key query before the view's own statements.
ACCOUNT_CHECK = 1


@contextmanager
def captured_sql(app) -> Iterator[list[tuple[str, object]]]:
    """Collect (statement, parameters) of every SQL statement ``app`` sends inside the block."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server of this test only, on a free loopback port (stopped by PID)."""
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def postgres_url() -> str:
    """A PostgreSQL URL for PostgreSQL-only tests (TEST_POSTGRES_URL)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        unavailable("TEST_POSTGRES_URL is not set: PostgreSQL tests need a server")
    return url


@pytest.fixture
def redis_client(redis_server):
    """A raw redis-py client on the test Redis (for inspecting keys and TTLs)."""
    import redis

    client = redis.Redis.from_url(redis_server)
    yield client
    client.close()


@pytest.fixture
def redis_auth(redis_app) -> AuthActions:
    """AuthActions bound to a client of ``redis_app``."""
    return AuthActions(redis_app.test_client())


HANDSHAKE = ("HELLO", "CLIENT", "SELECT", "AUTH")


class Counter:
    """How many SQL statements / Redis round trips the current thread made."""

    def __init__(self) -> None:
        self.sql = 0
        self.redis = 0


@pytest.fixture
def io_counter(monkeypatch):
    """Count SQL statements (any engine) and Redis round trips made by this thread."""
    import threading

    import redis.connection
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counter = Counter()
    me = threading.get_ident()

    def on_sql(*_args, **_kwargs):
        if threading.get_ident() == me:
            counter.sql += 1

    original_send = redis.connection.AbstractConnection.send_packed_command

    def counting_send(self, command, check_health=True):
        # A new pooled connection's handshake (HELLO, CLIENT SETINFO, SELECT) is not a
        # round trip of the request: it happens once per connection, e.g. when the stats
        # thread holds the pooled one at that moment.
        first = command[0] if isinstance(command, list) else command
        handshake = any(f"\r\n{name}\r\n".encode() in first[:40] for name in HANDSHAKE)
        if threading.get_ident() == me and not handshake:
            counter.redis += 1
        return original_send(self, command, check_health)

    event.listen(Engine, "before_cursor_execute", on_sql)
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting_send)
    yield counter
    event.remove(Engine, "before_cursor_execute", on_sql)


class World:
    """A user, an admin and fresh resources for the baselines to point at."""

    def __init__(self, client) -> None:
        self.client = client
        self.auth = AuthActions(client)
        self.user, self.user_headers = self.auth.new_user()
        _, self.admin_headers = self.auth.new_user(admin=True)
        self.counter = itertools.count(1)
        put_quote(client, self.admin_headers, "AAPL", "190.10")

    def unique(self, prefix: str) -> str:
        """A fresh name: usernames, emails and symbols never clash between calls."""
        return f"{prefix}{next(self.counter)}"

    def other_user_headers(self) -> dict:
        """A token of a new user, for calls that end their tokens (password, logout)."""
        return self.auth.new_user()[1]

    def position_id(self) -> int:
        """A new position of the user."""
        symbol = self.unique("P")
        return create_position(self.client, self.user_headers, symbol, "2", "10")["id"]

    def notification_id(self) -> int:
        """A new notification of the user."""
        return send_notification(
            self.client, self.admin_headers, self.user["id"], type="system", title="Hi"
        )["id"]

    def thread_id(self) -> str:
        """A new assistant thread of the user."""
        return ask(self.client, self.user_headers, "What do I hold?")["thread_id"]


@pytest.fixture
def world(client) -> World:
    """A user, an admin and a quote, ready for the known-good calls of tests/api_calls.py."""
    return World(client)


@pytest.fixture
def openapi(client) -> dict:
    """The app's OpenAPI document."""
    return client.get("/api/openapi.json").get_json()
