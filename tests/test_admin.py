"""Admin pages through the Flask test client: login, guards, CSRF, actions and their effects."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from jinja2.filters import do_filesizeformat

from fynix.extensions import db
from tests.conftest import AuthActions

PASSWORD = "correct-horse-1"
TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
IDX_ROW_RE = re.compile(r'class="index-row" data-name="(idx_[a-z_]+)"')
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class AdminPages:
    """A browser-like session on the admin pages: reads CSRF tokens off pages and posts them."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/admin/login") -> str:
        """The CSRF token of this session, read from a rendered form."""
        match = TOKEN_RE.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, login: str, password: str = PASSWORD, next: str | None = None):
        """Submit the login form (with its token); returns the response, not followed."""
        url = f"/admin/login?next={next}" if next else "/admin/login"
        data = {"login": login, "password": password, "csrf_token": self.token(url)}
        if next:
            data["next"] = next
        return self.client.post("/admin/login", data=data)

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST a form with this session's CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token()}, **kwargs)

    def text(self, path: str, status: int = 200) -> str:
        """GET a page, check its status, return its HTML."""
        response = self.client.get(path)
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        return response.get_data(as_text=True)


@pytest.fixture
def pages(client) -> AdminPages:
    return AdminPages(client)


@pytest.fixture
def admin(auth, pages) -> dict:
    """An admin user, signed in on ``pages``."""
    user, _headers = auth.new_user(admin=True)
    assert pages.login(user["username"]).status_code == 302
    return user


def _flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="\w+">([^<]*)</p>', html)


def _is_admin(app, user_id: int) -> bool:
    with app.app_context():
        from fynix.users.models import User

        return db.session.get(User, user_id).is_admin


# --- login, logout, guards -------------------------------------------------------------


def test_anonymous_is_sent_to_login_with_the_page_asked_for(client):
    response = client.get("/admin/users?q=ann&page=2")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    assert parse_qs(location.query)["next"] == ["/admin/users?q=ann&page=2"]


@pytest.mark.parametrize("path", ["/admin/", "/admin/cache", "/admin/database", "/admin/nope"])
def test_anonymous_never_sees_an_admin_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/admin/login"


def test_login_redirects_back_and_sets_a_strict_session_cookie(auth, pages):
    user, _ = auth.new_user(admin=True)
    response = pages.login(user["email"], next="/admin/database")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/database"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session
    html = pages.text("/admin/database")
    assert f"Signed in as {user['username']}." in _flashes(html)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/admin/",
        "//evil.example/admin/",
        "/\\evil.example/admin/",
        "javascript:alert(1)",
        "/api/users/me",
        "admin/cache",
    ],
)
def test_login_never_redirects_off_the_admin_pages(auth, pages, target):
    user, _ = auth.new_user(admin=True)
    response = pages.login(user["username"], next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("login", "password"), [("right-user", "wrong-password-1"), ("nobody-here", PASSWORD)]
)
def test_failed_login_says_the_same_and_opens_nothing(auth, pages, login, password):
    auth.new_user(username="right-user")
    response = pages.login(login, password)
    assert response.status_code == 401
    assert "Invalid login or password." in _flashes(response.get_data(as_text=True))
    assert pages.client.get("/admin/").status_code == 302


def test_logout_is_a_post_with_token_and_ends_the_session(admin, pages):
    assert pages.client.get("/admin/").status_code == 200
    assert pages.client.get("/admin/logout").status_code in {404, 405}
    response = pages.post("/admin/logout")
    assert response.status_code == 302
    assert "Signed out." in _flashes(pages.text("/admin/login"))
    assert pages.client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/"),
        ("GET", "/admin/cache"),
        ("GET", "/admin/database"),
        ("GET", "/admin/users"),
        ("GET", "/admin/users/{id}/notify"),
        ("POST", "/admin/cache/clear"),
        ("POST", "/admin/database/upgrade"),
        ("POST", "/admin/users/{id}/grant-admin"),
    ],
)
def test_a_normal_users_session_gets_403_html_everywhere(auth, pages, method, path):
    user, _ = auth.new_user()
    assert pages.login(user["username"]).status_code == 302
    url = path.format(id=user["id"])
    response = pages.client.get(url) if method == "GET" else pages.post(url)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert f"The account {user['username']} is not an administrator." in response.get_data(
        as_text=True
    )
    assert not _is_admin(pages.client.application, user["id"])


def test_admin_pages_send_security_headers(admin, pages):
    for path in ("/admin/", "/admin/login", "/admin/no-such-page", "/admin/static/admin.css"):
        response = pages.client.get(path)
        response.close()
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"


def test_unknown_admin_page_is_an_html_404(admin, pages):
    response = pages.client.get("/admin/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is no admin page at this address." in response.get_data(as_text=True)
    assert pages.client.get("/admin/users/999999/notify").status_code == 404
    assert pages.client.get(f"/admin/users/{2**40}/notify").status_code == 404


def test_pages_load_no_outside_resources(admin, pages):
    for path in ("/admin/", "/admin/cache", "/admin/database", "/admin/users"):
        html = pages.text(path)
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "<script" not in html, path
        assert "style=" not in html, path


def test_the_favicon_admin_pages_link_is_served_by_the_app(admin, pages):
    html = pages.text("/admin/")
    assert '<link rel="icon" href="/favicon.ico">' in html
    with pages.client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
        assert response.headers["Cache-Control"] == "public, max-age=86400"


# --- CSRF and rate limiting --------------------------------------------------------------


def test_a_form_post_without_csrf_token_is_refused(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    auth = AuthActions(app.test_client())
    pages = AdminPages(app.test_client())
    admin, _ = auth.new_user(admin=True)
    other, _ = auth.new_user()
    refused = pages.client.post(
        "/admin/login", data={"login": admin["username"], "password": PASSWORD}
    )
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)
    assert pages.login(admin["username"]).status_code == 302
    for data in ({}, {"csrf_token": "forged-token"}):
        response = pages.client.post(f"/admin/users/{other['id']}/grant-admin", data=data)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
    assert not _is_admin(app, other["id"])
    assert pages.client.post("/admin/logout").status_code == 400
    assert pages.client.get("/admin/").status_code == 200  # still signed in
    assert pages.post(f"/admin/users/{other['id']}/grant-admin").status_code == 302
    assert _is_admin(app, other["id"])


def test_login_attempts_are_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, ADMIN_LOGIN_RATELIMIT="3 per minute")
    auth = AuthActions(app.test_client())
    pages = AdminPages(app.test_client())
    # An address of its own: the limits may live in a Redis that other runs share.
    octets = secrets.token_bytes(3)
    pages.client.environ_base["REMOTE_ADDR"] = "127." + ".".join(str(b) for b in octets)
    user, _ = auth.new_user(admin=True)
    statuses = [pages.login(user["username"], "wrong-password-1").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = pages.login(user["username"])  # even the right password waits now
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "Too many attempts" in limited.get_data(as_text=True)
    assert pages.client.get("/admin/login").status_code == 200  # the form itself is not limited


# --- users page ----------------------------------------------------------------------------


def test_grant_and_revoke_admin(admin, auth, pages):
    user, headers = auth.new_user()
    assert auth.client.get("/api/users/me", headers=headers).get_json()["is_admin"] is False
    response = pages.post(
        f"/admin/users/{user['id']}/grant-admin", {"return_to": "/admin/users?q=user"}
    )
    assert response.headers["Location"] == "/admin/users?q=user"
    assert f"{user['username']} is now an administrator." in _flashes(pages.text("/admin/users"))
    assert auth.client.get("/api/users/me", headers=headers).get_json()["is_admin"] is True
    pages.post(f"/admin/users/{user['id']}/revoke-admin")
    assert f"{user['username']} is no longer an administrator." in _flashes(
        pages.text("/admin/users")
    )
    assert auth.client.get("/api/users/me", headers=headers).get_json()["is_admin"] is False


def test_an_admin_cannot_change_their_own_role(admin, pages):
    pages.post(f"/admin/users/{admin['id']}/revoke-admin")
    assert "You cannot change your own admin role." in _flashes(pages.text("/admin/users"))
    assert _is_admin(pages.client.application, admin["id"])
    assert pages.client.get("/admin/").status_code == 200


def test_send_notification_appears_in_the_users_api_at_once(admin, auth, pages):
    user, headers = auth.new_user()
    before = auth.client.get("/api/notifications", headers=headers)
    assert before.get_json()["total"] == 0
    assert auth.client.get("/api/notifications", headers=headers).get_json()["total"] == 0
    form = pages.text(f"/admin/users/{user['id']}/notify?return_to=/admin/users")
    assert user["username"] in form
    response = pages.post(
        f"/admin/users/{user['id']}/notify",
        {
            "type": "system",
            "title": "  Maintenance  ",
            "body": "Tonight at 22:00 UTC.",
            "return_to": "/admin/users",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    flashes = _flashes(pages.text("/admin/users"))
    assert any(f"“Maintenance” to {user['username']}" in flash for flash in flashes)
    items = auth.client.get("/api/notifications", headers=headers).get_json()["items"]
    assert [(n["type"], n["title"], n["body"]) for n in items] == [
        ("system", "Maintenance", "Tonight at 22:00 UTC.")
    ]
    count = auth.client.get("/api/notifications/unread-count", headers=headers).get_json()
    assert count == {"unread_count": 1}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"type": "Bad Type!", "title": "t", "body": "b"}, "lowercase letters"),
        ({"type": "system", "title": "   ", "body": "b"}, "This field is required."),
        ({"type": "system", "title": "t" * 201, "body": "b"}, "200"),
    ],
)
def test_invalid_notification_is_refused_and_nothing_sent(admin, auth, pages, data, error):
    user, headers = auth.new_user()
    response = pages.post(f"/admin/users/{user['id']}/notify", data)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert auth.client.get("/api/notifications", headers=headers).get_json()["total"] == 0


def _make_users(app, prefix: str, count: int) -> list[int]:
    from fynix.users.models import User

    with app.app_context():
        users = [
            User(email=f"{prefix}{n}@example.com", username=f"{prefix}{n}", password_hash="x")
            for n in range(count)
        ]
        db.session.add_all(users)
        db.session.commit()
        return [user.id for user in users]


def test_users_search_is_case_insensitive_and_paginates_by_20(admin, pages):
    _make_users(pages.client.application, "pager", 23)
    _make_users(pages.client.application, "other", 2)
    first = pages.text("/admin/users?q=PAGER")
    assert first.count('class="user-row"') == 20
    assert "Page 1 of 2 · 23 total" in first
    second = pages.text("/admin/users?q=PAGER&page=2")
    assert second.count('class="user-row"') == 3
    assert "other0" not in first + second
    by_email = pages.text("/admin/users?q=other1%40EXAMPLE")
    assert by_email.count('class="user-row"') == 1
    wildcard = pages.text("/admin/users?q=%25")
    assert wildcard.count('class="user-row"') == 0  # % is a character, not a wildcard
    assert pages.text("/admin/users?page=abc").count('class="user-row"') >= 1


def _add_positions_and_unread(app, user_id: int, positions: int, unread: int) -> None:
    from decimal import Decimal

    from fynix.notifications.models import Notification
    from fynix.portfolio.models import Position

    with app.app_context():
        for n in range(positions):
            db.session.add(
                Position(
                    user_id=user_id, symbol=f"SYM{n}", quantity=Decimal(1), average_cost=Decimal(2)
                )
            )
        for n in range(unread + 1):
            db.session.add(
                Notification(
                    user_id=user_id, type="system", title=f"t{n}", body="b", is_read=n == unread
                )
            )
        db.session.commit()


def _count_statements(app, client, path: str) -> int:
    seen = []

    def on_sql(*_args, **_kwargs):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_sql)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_sql)
    return len(seen)


def test_users_page_shows_counts_with_grouped_queries(admin, pages):
    app = pages.client.application
    ids = _make_users(app, "counted", 6)
    _add_positions_and_unread(app, ids[0], positions=3, unread=2)
    _add_positions_and_unread(app, ids[1], positions=1, unread=0)
    html = pages.text("/admin/users?q=counted")
    found = re.findall(
        r'data-user-id="(\d+)">.*?positions-count" data-label="Positions">(\d+)</td>\s*'
        r'<td class="num unread-count" data-label="Unread">(\d+)</td>',
        html,
        re.S,
    )
    rows = {int(uid): (int(p), int(u)) for uid, p, u in found}
    assert rows[ids[0]] == (3, 2)
    assert rows[ids[1]] == (1, 0)
    assert rows[ids[5]] == (0, 0)
    few = _count_statements(app, pages.client, "/admin/users?q=counted1")
    many = _count_statements(app, pages.client, "/admin/users?q=counted")
    assert few == many  # no query per user


# --- database page -------------------------------------------------------------------------


def _head_revision(app) -> str:
    from fynix.services.database_migration import DatabaseMigrationService

    with app.app_context():
        return DatabaseMigrationService().check_migration_status()["head"]


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


PLAN_ROW_RE = re.compile(
    r'<tr class="plan-row" data-index="(idx_[a-z_]+)" data-uses-index="(yes|no)" '
    r'data-plan-indexes="([a-z_ ]*)">'
)


def test_database_page_lists_the_12_indexes_and_the_head_revision(admin, pages):
    html = pages.text("/admin/database")
    indexes = IDX_ROW_RE.findall(html)
    assert len(indexes) == 12
    assert len(set(indexes)) == 12
    head = _head_revision(pages.client.application)
    assert re.search(rf'id="current-revision"><code>{head}</code>', html)
    assert re.search(rf'id="head-revision"><code>{head}</code>', html)
    assert "at head" in html
    partial = re.findall(
        r'data-name="(idx_[a-z_]+)">(?:(?!</tr>).)*?class="condition"><code>([^<]+)</code>',
        html,
        re.S,
    )
    assert {name for name, _ in partial} == {
        "idx_notifications_user_unread",
        "idx_notifications_user_unread_created",
        "idx_users_email",
    }
    rows = PLAN_ROW_RE.findall(html)
    assert len(rows) == 13  # one per hot query: 12 indexes, the user's positions read twice
    for index, verdict, read in rows:
        assert (verdict == "yes") == (index in read.split()), (index, read)
    if _dialect(pages.client.application) == "sqlite":  # PostgreSQL reads tiny tables whole
        # Without statistics SQLite may pick another index (for the AI thread, a user_id one).
        assert [index for index, _verdict, read in rows if not read] == []
    assert "run by <code>notifications.services.count_unread</code>" in html
    assert re.search(r'data-table="users"><td>users</td><td class="num">\d+</td>', html)


def test_small_tables_read_whole_raise_no_alarm(admin, pages):
    html = pages.text("/admin/database")
    assert "status-down" not in html
    assert "large table" not in html  # the badge a whole read of a table of 1,000+ rows gets
    assert "On small tables PostgreSQL may prefer a sequential scan" not in html  # no excuses


@contextmanager
def _index_dropped(app, name: str) -> Iterator[None]:
    """Drop index ``name`` for the block, then create it again from its own definition."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = :name"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
        with db.engine.begin() as connection:
            definition = connection.scalar(sa.text(query), {"name": name})
            connection.exec_driver_sql(f"DROP INDEX {name}")
        db.engine.dispose()
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.exec_driver_sql(definition)


def test_uses_it_compares_index_names_exactly(admin, pages):
    app = pages.client.application
    with _index_dropped(app, "idx_notifications_user_unread"):
        html = pages.text("/admin/database")
    (row,) = [row for row in PLAN_ROW_RE.findall(html) if row[0] == "idx_notifications_user_unread"]
    _index, verdict, read = row
    # The unread count now reads idx_notifications_user_unread_created (SQLite) or the whole
    # table (PostgreSQL, tiny table): neither is its index, whose name is a prefix of the first.
    assert verdict == "no"
    if _dialect(app) == "sqlite":
        assert read == "idx_notifications_user_unread_created"
    assert len(IDX_ROW_RE.findall(pages.text("/admin/database"))) == 12  # created again


def test_index_table_shows_what_the_database_itself_reports(admin, pages):
    app = pages.client.application
    html = pages.text("/admin/database")
    if _dialect(app) == "sqlite":
        assert 'data-stat="scans"' not in html
        assert "SQLite keeps no usage counters per index" in html
        assert 'id="measure-form"' not in html
        return
    with app.app_context():
        usage = dict(
            db.session.execute(
                sa.text(
                    "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes"
                )
            ).all()
        )
    cells = re.findall(
        r'data-name="(idx_[a-z_]+)">(?:(?!</tr>).)*?data-stat="scans">([\d,]+)</td>\s*'
        r'<td class="num" data-label="Size" data-stat="size">([^<]+)</td>',
        html,
        re.S,
    )
    assert len(cells) == 12
    for name, _scans, size in cells:
        assert size == do_filesizeformat(usage[name], binary=True), name
    assert 'id="measure-form"' in html


def test_measuring_indexes_shows_a_verdict_per_index_and_changes_nothing(admin, pages):
    app = pages.client.application
    response = pages.post("/admin/database/measure")
    if _dialect(app) == "sqlite":
        assert response.status_code == 302
        assert "Index redundancy is measured on PostgreSQL" in " ".join(
            _flashes(pages.text("/admin/database"))
        )
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    verdicts = dict(
        re.findall(
            r'data-name="(idx_[a-z_]+)">(?:(?!</tr>).)*?class="verdict wide" data-label="Measured" '
            r'data-verdict="([a-z ]+)"',
            html,
            re.S,
        )
    )
    unique = {"idx_users_email", "idx_users_username", "idx_portfolio_positions_user_symbol"}
    assert {name for name, verdict in verdicts.items() if verdict == "unique"} == unique
    # The test tables are nearly empty: nothing can be judged, and nothing is flagged.
    assert set(verdicts.values()) == {"unique", "small"}
    assert "every index serves a query the app runs, or could not be judged" in html
    assert len(IDX_ROW_RE.findall(pages.text("/admin/database"))) == 12


def test_measuring_indexes_needs_the_csrf_token(admin, pages):
    response = pages.client.post("/admin/database/measure")
    assert response.status_code in (302, 400)
    assert "Measured just now" not in pages.text("/admin/database")


def test_upgrade_needs_its_confirmation_then_reaches_head(admin, pages):
    from fynix.services.database_migration import DatabaseMigrationService

    app = pages.client.application
    head = _head_revision(app)
    with app.app_context():
        db.session.remove()
        status = DatabaseMigrationService().rollback("0001_schema")
        previous = status["current"]
        db.engine.dispose()
    try:
        html = pages.text("/admin/database")
        assert "4 pending" in html
        assert IDX_ROW_RE.findall(html) == []
        pages.post("/admin/database/upgrade")
        html = pages.text("/admin/database")
        assert any("Tick the confirmation box" in flash for flash in _flashes(html))
        assert f'id="current-revision"><code>{previous}</code>' in html
        pages.post("/admin/database/upgrade", {"confirm": "y"})
        html = pages.text("/admin/database")
        assert f"Upgraded the schema from {previous} to {head}." in _flashes(html)
        assert len(IDX_ROW_RE.findall(html)) == 12
    finally:
        with app.app_context():
            DatabaseMigrationService().run_migrations()


# --- dashboard and cache page (real Redis) -------------------------------------------------


@pytest.fixture
def redis_pages(redis_app) -> tuple[AdminPages, AuthActions]:
    """Admin pages of an app on a real Redis, signed in as an admin."""
    auth = AuthActions(redis_app.test_client())
    pages = AdminPages(redis_app.test_client())
    user, _ = auth.new_user(admin=True)
    assert pages.login(user["username"]).status_code == 302
    return pages, auth


def _namespaces() -> list[str]:
    from fynix.caching.namespaces import NAMESPACES

    return list(NAMESPACES)


def _flash_count(html: str, pattern: str) -> int:
    found = [re.search(pattern, flash) for flash in _flashes(html)]
    matches = [match for match in found if match]
    assert matches, _flashes(html)
    return int(matches[0].group(1))


@pytest.mark.redis
def test_dashboard_charts_one_bar_per_namespace_with_targets(redis_pages):
    pages, auth = redis_pages
    _user, headers = auth.new_user()
    for _ in range(3):
        auth.client.get("/api/users/me", headers=headers)
    html = pages.text("/admin/")
    bars = re.findall(r'<rect class="bar [a-z-]+" data-namespace="([a-z]+)"', html)
    assert bars == _namespaces()
    targets = re.findall(r'<line class="target" data-namespace="([a-z]+)"', html)
    assert targets
    assert set(targets) <= set(bars)
    assert 'id="redis-status">ok<' in html
    assert 'id="breaker-state">closed<' in html
    assert re.search(r'id="redis-latency">[\d.]+ ms<', html)
    user_row = re.search(r'<tr data-namespace="user">(.*?)</tr>', html, re.S).group(1)
    stats = dict(re.findall(r'data-stat="([a-z]+)">([\d,]+)</td>', user_row))
    assert (stats["hits"], stats["misses"]) == ("2", "1")


@pytest.mark.redis
def test_warm_then_clear_all_show_their_counts(redis_pages):
    pages, auth = redis_pages
    auth.new_user()
    pages.post("/admin/cache/warm", {"users": "5"})
    warmed = _flash_count(pages.text("/admin/cache"), r"^Warmed (\d+) entr")
    assert warmed >= 1
    pages.post("/admin/cache/clear")
    deleted = _flash_count(pages.text("/admin/cache"), r"^Deleted (\d+) entr(?:y|ies)\.$")
    assert deleted >= warmed
    pages.post("/admin/cache/clear")
    assert "Deleted 0 entries." in _flashes(pages.text("/admin/cache"))


@pytest.mark.redis
def test_clear_by_pattern_previews_before_deleting(redis_pages):
    pages, auth = redis_pages
    _user, headers = auth.new_user()
    auth.client.get("/api/users/me", headers=headers)
    preview = pages.post("/admin/cache/pattern", {"pattern": "user:*"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    count = int(
        re.search(r"<strong>(\d+) entr(?:y|ies) match(?:es)?\s*<code>user:\*</code>", html).group(1)
    )
    assert count >= 1
    again = pages.post("/admin/cache/pattern", {"pattern": "user:*"}).get_data(as_text=True)
    assert f"<strong>{count} " in again  # the preview deleted nothing
    done = pages.post("/admin/cache/pattern", {"pattern": "user:*", "confirm": "yes"})
    assert done.status_code == 302
    deleted = _flash_count(
        pages.text("/admin/cache"), r"^Deleted (\d+) entr(?:y|ies) matching user:\*\.$"
    )
    assert deleted == count
    after = pages.post("/admin/cache/pattern", {"pattern": "user:*"}).get_data(as_text=True)
    assert "<strong>0 entries match" in after


@pytest.mark.redis
@pytest.mark.parametrize("pattern", ["has space", ""])
def test_invalid_pattern_is_refused(redis_pages, pattern):
    pages, _auth = redis_pages
    response = pages.post("/admin/cache/pattern", {"pattern": pattern})
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)


@pytest.mark.redis
def test_cache_page_lists_the_ttls_in_force(redis_pages):
    pages, _auth = redis_pages
    html = pages.text("/admin/cache")
    app = pages.client.application
    for name in _namespaces():
        assert f'<tr data-namespace="{name}">' in html
    assert re.search(
        rf'data-namespace="portfolio">\s*<th scope="row">portfolio</th>\s*<td>[^<]+</td>\s*'
        rf'<td class="num">{app.config["CACHE_TTL_PORTFOLIO"]:,}</td>',
        html,
    )


@pytest.mark.redis
def test_cache_page_key_count_equals_the_pattern_preview(redis_pages):
    pages, auth = redis_pages
    _user, headers = auth.new_user()
    position = {"symbol": "AAPL", "quantity": "1", "average_cost": "10.00"}
    auth.client.post("/api/portfolio/positions", json=position, headers=headers)  # a generation
    auth.client.get("/api/portfolio/summary", headers=headers)  # an entry
    html = pages.text("/admin/cache")
    listed = re.search(
        r'data-namespace="portfolio">.*?<td class="num">([\d,]+)</td>\s*</tr>', html, re.S
    )
    preview = pages.post("/admin/cache/pattern", {"pattern": "portfolio:*"}).get_data(as_text=True)
    matching = re.search(r"<strong>(\d+) entr(?:y|ies) match", preview)
    assert int(listed.group(1).replace(",", "")) == int(matching.group(1))
