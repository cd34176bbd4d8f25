"""The admin pages in a real browser: Playwright for Python driving Debian's Chromium.

The app is served over HTTP on 127.0.0.1 with a real Redis; every request the page makes
is recorded and must go to the app itself. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from fynix.extensions import db
from tests.conftest import AuthActions
from tests.services import free_port, unavailable

pytestmark = [pytest.mark.browser, pytest.mark.redis]

CHROMIUM = os.environ.get("FYNIX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PASSWORD = "correct-horse-1"


@dataclass
class LiveServer:
    """The app served by werkzeug on a loopback port, in a background thread."""

    app: object
    host: str
    server: object = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def api(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        """Call the JSON API over real HTTP; returns (status, json)."""
        request = urllib.request.Request(self.url + path, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, data=data, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")


@pytest.fixture
def live_server(redis_app) -> Iterator[LiveServer]:
    """``redis_app`` over HTTP on 127.0.0.1 (threaded werkzeug server)."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, redis_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="admin-live-server", daemon=True)
    thread.start()
    live = LiveServer(app=redis_app, host=f"127.0.0.1:{port}", server=server, thread=thread)
    yield live
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Session:
    """A browser page on the live server, recording what it requests and logs."""

    page: object
    server: LiveServer
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def flashes(self) -> list[str]:
        return [text.strip() for text in self.page.locator(".flash").all_inner_texts()]

    def login(self, username: str) -> None:
        """Sign in through the form the anonymous visitor is sent to."""
        self.page.fill("#login", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button:has-text('Sign in')")

    def assert_only_own_host(self, expected_status: int | None = None) -> None:
        """Every request went to the app; nothing broke the CSP or logged an error."""
        assert self.requests, "the page made no request at all"
        outside = [url for url in self.requests if urlsplit(url).netloc != self.server.host]
        assert outside == []
        expected = f"the server responded with a status of {expected_status} "
        errors = [text for text in self.console_errors if expected not in text]
        assert errors == []


@pytest.fixture
def session(browser, live_server) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    recorded = Session(page=page, server=live_server)
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on(
        "console",
        lambda message: message.type == "error" and recorded.console_errors.append(message.text),
    )
    yield recorded
    context.close()


@pytest.fixture
def people(live_server) -> tuple[dict, dict, AuthActions]:
    """An admin and a normal user (with a bearer token) on the live app's database."""
    auth = AuthActions(live_server.app.test_client())
    admin, _ = auth.new_user(admin=True, username="ada_admin")
    user, headers = auth.new_user(username="bob_user")
    user["token"] = headers["Authorization"].removeprefix("Bearer ")
    return admin, user, auth


def _make_traffic(server: LiveServer, token: str) -> None:
    """Some cached reads over HTTP, so the charts and key counts have data."""
    for path in ("/api/users/me", "/api/notifications", "/api/notifications/unread-count"):
        for _ in range(3):
            server.api("GET", path, token)


def _namespaces() -> dict:
    from fynix.caching.namespaces import NAMESPACES

    return NAMESPACES


def _count(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, text
    return int(match.group(1))


def test_login_then_dashboard_chart_has_one_bar_per_namespace(session, people):
    admin, user, _auth = people
    _make_traffic(session.server, user["token"])
    session.goto("/admin/")
    assert urlsplit(session.page.url).path == "/admin/login"
    assert parse_qs(urlsplit(session.page.url).query)["next"] == ["/admin/"]
    session.screenshot("01-login")
    session.login(admin["username"])
    assert urlsplit(session.page.url).path == "/admin/"
    assert f"Signed in as {admin['username']}." in session.flashes()
    namespaces = _namespaces()
    bars = session.page.locator("svg#hit-ratio-chart rect.bar")
    assert bars.count() == len(namespaces)
    assert [bars.nth(i).get_attribute("data-namespace") for i in range(bars.count())] == list(
        namespaces
    )
    with_target = [name for name, ns in namespaces.items() if ns.target_hit_ratio is not None]
    assert session.page.locator("svg#hit-ratio-chart line.target").count() == len(with_target)
    user_bar = session.page.locator('rect.bar[data-namespace="user"]')
    assert float(user_bar.get_attribute("width")) > 0
    assert session.page.inner_text("#redis-status") == "ok"
    assert session.page.inner_text("#breaker-state") == "closed"
    session.screenshot("02-dashboard")
    session.assert_only_own_host()


def test_cache_page_warm_clear_and_pattern_preview(session, people):
    admin, user, _auth = people
    session.goto("/admin/cache")
    session.login(admin["username"])
    assert urlsplit(session.page.url).path == "/admin/cache"
    session.page.click("button:has-text('Warm the cache')")
    warmed = _count(" ".join(session.flashes()), r"Warmed (\d+) entr")
    assert warmed >= 1
    session.screenshot("03-cache-warmed")
    session.page.click("button:has-text('Clear all cache entries')")
    deleted = _count(" ".join(session.flashes()), r"Deleted (\d+) entr(?:y|ies)\.")
    assert deleted >= warmed

    _make_traffic(session.server, user["token"])
    session.page.fill("#pattern", "user:*")
    session.page.click("button:has-text('Preview matching entries')")
    preview = session.page.inner_text("#pattern-preview")
    matching = _count(preview, r"(\d+) entr(?:y|ies) match(?:es)? user:\*")
    assert matching >= 1
    session.screenshot("04-cache-pattern-preview")
    session.page.click("#pattern-confirm-form button")
    assert f"Deleted {matching} {'entry' if matching == 1 else 'entries'} matching user:*." in (
        session.flashes()
    )
    session.screenshot("05-cache-pattern-deleted")
    session.assert_only_own_host()


def test_database_page_shows_12_indexes_and_head(session, people):
    from fynix.services.database_migration import DatabaseMigrationService

    admin, _user, _auth = people
    with session.server.app.app_context():
        head = DatabaseMigrationService().check_migration_status()["head"]
        db.session.remove()
    session.goto("/admin/database")
    session.login(admin["username"])
    assert session.page.locator('tr.index-row[data-name^="idx_"]').count() == 12
    assert session.page.inner_text("#head-revision") == head
    assert session.page.inner_text("#current-revision") == head
    assert session.page.inner_text("#schema-state") == "at head"
    assert session.page.locator("tr.plan-row").count() == 12
    session.screenshot("06-database")
    session.assert_only_own_host()


def test_promote_a_user_and_send_a_notification(session, people):
    admin, user, _auth = people
    server = session.server
    assert server.api("GET", "/api/users/me", user["token"])[1]["is_admin"] is False
    session.goto("/admin/users")
    session.login(admin["username"])
    session.page.fill("#q", "BOB_")
    session.page.click("button:has-text('Search')")
    row = session.page.locator(f'tr.user-row[data-username="{user["username"]}"]')
    assert row.count() == 1
    row.locator("button:has-text('Grant admin')").click()
    assert f"{user['username']} is now an administrator." in session.flashes()
    assert "q=BOB_" in session.page.url  # back on the same search
    assert row.locator(".admin-flag").inner_text() == "admin"
    session.screenshot("07-users-promoted")
    assert server.api("GET", "/api/users/me", user["token"])[1]["is_admin"] is True

    assert server.api("GET", "/api/notifications", user["token"])[1]["total"] == 0
    row.locator("a:has-text('Send notification')").click()
    session.page.fill("#type", "system")
    session.page.fill("#title", "Scheduled maintenance")
    session.page.fill("#body", "The app is read-only tonight from 22:00 to 22:15 UTC.")
    session.screenshot("08-notify-form")
    session.page.click("button:has-text('Send')")
    assert any("“Scheduled maintenance” to bob_user" in flash for flash in session.flashes())
    assert "q=BOB_" in session.page.url
    assert row.locator(".unread-count").inner_text() == "1"
    session.screenshot("09-users-notified")
    status, body = server.api("GET", "/api/notifications", user["token"])
    assert status == 200
    assert [item["title"] for item in body["items"]] == ["Scheduled maintenance"]
    session.assert_only_own_host()


def test_a_normal_users_session_gets_the_403_page(session, people):
    _admin, user, _auth = people
    session.goto("/admin/users")
    session.login(user["username"])
    assert session.page.inner_text(".error-code") == "403"
    assert f"The account {user['username']} is not an administrator." in session.page.inner_text(
        "main"
    )
    assert session.page.locator("nav.mainnav").count() == 0
    session.screenshot("10-forbidden")
    session.page.click("button:has-text('Log out')")
    assert urlsplit(session.page.url).path == "/admin/login"
    assert "Signed out." in session.flashes()
    session.assert_only_own_host(expected_status=403)
