"""The admin pages in a real browser: Playwright for Python driving Debian's Chromium.

The app is served over HTTP on 127.0.0.1 with a real Redis; every request the page makes
is recorded and must go to the app itself. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
    served: list[tuple[str, int]] = field(default_factory=list)  # (path, status), in order

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
    live = LiveServer(app=redis_app, host=f"127.0.0.1:{port}")

    def recording(environ, start_response):
        """Note the status of every response, also of requests the page itself never sees."""

        def start(status, headers, exc_info=None):
            live.served.append((environ["PATH_INFO"], int(status.split()[0])))
            return start_response(status, headers, exc_info)

        return redis_app(environ, start)

    server = make_server("127.0.0.1", port, recording, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="admin-live-server", daemon=True)
    thread.start()
    live.server, live.thread = server, thread
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
        self.page.wait_for_load_state()  # the page a submitted form leads to, not the form's
        return [text.strip() for text in self.page.locator(".flash").all_inner_texts()]

    def login(self, username: str) -> None:
        """Sign in through the form the anonymous visitor is sent to."""
        self.page.fill("#login", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button:has-text('Sign in')")
        self.page.wait_for_load_state()  # the page it lands on, styled

    def assert_only_own_host(self, expected_status: int | None = None) -> None:
        """Every request went to the app; nothing broke the CSP or logged an error."""
        assert self.requests, "the page made no request at all"
        outside = [url for url in self.requests if urlsplit(url).netloc != self.server.host]
        assert outside == []
        expected = f"the server responded with a status of {expected_status} "
        errors = [text for text in self.console_errors if expected not in text]
        assert errors == []


@contextmanager
def open_session(browser, live_server: LiveServer, **context_options) -> Iterator[Session]:
    """A fresh browser context (no cookies, no cached favicon) recording its page."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    recorded = Session(page=page, server=live_server)
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on(
        "console",
        lambda message: message.type == "error" and recorded.console_errors.append(message.text),
    )
    try:
        yield recorded
    finally:
        context.close()


@pytest.fixture
def session(browser, live_server) -> Iterator[Session]:
    """A laptop-sized browser window."""
    with open_session(browser, live_server, viewport={"width": 1366, "height": 900}) as recorded:
        yield recorded


@pytest.fixture
def phone(browser, live_server) -> Iterator[Session]:
    """A phone 420 CSS pixels wide."""
    with open_session(
        browser, live_server, viewport={"width": 420, "height": 860}, is_mobile=True, has_touch=True
    ) as recorded:
        yield recorded


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
    assert user_bar.bounding_box()["width"] > 0
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
    assert session.page.locator("tr.plan-row").count() == 13  # one per hot query
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


# --- on a phone ----------------------------------------------------------------------------

# WCAG AA contrast of an element's text against the background it is painted on: the
# nearest ancestor with an opaque background, whose box must contain the element's box
# (text that overflows its dark bar is painted on the light page behind it).
CONTRAST_JS = """(el) => {
  const rgba = (css) => {
    const v = (css.match(/[\\d.]+/g) || []).map(Number);
    return v.length === 3 ? [...v, 1] : v;
  };
  const channel = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (e) => rgba(getComputedStyle(e).backgroundColor);
  let holder = el;
  while (holder.parentElement && background(holder)[3] === 0) holder = holder.parentElement;
  const [a, b] = [lum(rgba(getComputedStyle(el).color)), lum(background(holder))];
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  };
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  return {ratio: ratio, box: box(el), holder: box(holder)};
}"""
CHART_TEXT_JS = """(svg) => [...svg.querySelectorAll("text")].map((t) => {
  const r = t.getBoundingClientRect();
  const row = t.parentElement.dataset.namespace || null;
  return {text: t.textContent.trim(), kind: t.getAttribute("class"), row: row,
          left: r.left, right: r.right, height: r.height};
})"""
PHONE_PAGES = ["/admin/", "/admin/cache", "/admin/database", "/admin/users", "notify"]


def _inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return all(
        (inner[side] >= outer[side] - slack) if side in ("left", "top") else
        (inner[side] <= outer[side] + slack)
        for side in ("left", "right", "top", "bottom")
    )  # fmt: skip


def _assert_fits_the_screen(phone: Session) -> None:
    width = phone.page.evaluate("() => window.innerWidth")
    assert width == 420
    assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("path", PHONE_PAGES)
def test_every_admin_page_fits_a_phone_and_its_top_bar_stays_readable(phone, people, path):
    admin, user, _auth = people
    name = f"phone-{path.strip('/').replace('/', '-') or 'dashboard'}"
    if path == "notify":
        path = f"/admin/users/{user['id']}/notify"
    phone.goto(path)
    _assert_fits_the_screen(phone)  # the login page too
    phone.login(admin["username"])
    assert urlsplit(phone.page.url).path == path
    _assert_fits_the_screen(phone)
    items = [phone.page.locator("nav.mainnav a").nth(i) for i in range(4)]
    assert [item.inner_text() for item in items] == ["Dashboard", "Cache", "Database", "Users"]
    items += [phone.page.locator(".whoami"), phone.page.locator(".logout button")]
    assert items[4].inner_text() == admin["username"]
    screen = {"left": 0, "right": 420, "top": 0, "bottom": 10_000}
    for item in items:
        assert item.is_visible()
        seen = item.evaluate(CONTRAST_JS)
        assert _inside(seen["box"], seen["holder"]), (item.inner_text(), seen)
        assert _inside(seen["box"], screen), (item.inner_text(), seen)
        assert seen["ratio"] >= 4.5, (item.inner_text(), seen)
    phone.screenshot(name)
    phone.assert_only_own_host()


def test_dashboard_chart_labels_are_legible_on_a_phone(phone, people):
    admin, user, _auth = people
    _make_traffic(phone.server, user["token"])
    phone.goto("/admin/")
    phone.login(admin["username"])
    chart = phone.page.locator("svg#hit-ratio-chart")
    box = chart.bounding_box()
    frame = {"left": box["x"], "right": box["x"] + box["width"]}
    texts = chart.evaluate(CHART_TEXT_JS)
    labels = [text for text in texts if text["kind"] == "label"]
    assert [text["text"] for text in labels] == list(_namespaces())
    for text in texts:
        assert text["left"] >= max(frame["left"], 0) - 0.5, text  # not clipped on the left
        assert text["right"] <= min(frame["right"], 420) + 0.5, text  # nor on the right
        assert text["height"] >= 12, text  # rendered at a readable size, not scaled down
    for label in labels:
        (value,) = [t for t in texts if t["kind"] == "value" and t["row"] == label["row"]]
        assert label["right"] < value["left"], (label, value)  # name and ratio never overlap
    phone.screenshot("phone-dashboard-chart")
    phone.assert_only_own_host()


# --- no failed request ---------------------------------------------------------------------


def _wait_until_served(server: LiveServer, path: str, seconds: float = 10.0) -> None:
    """The browser asks for the favicon after the page has loaded: wait for it (a hang guard)."""
    deadline = time.monotonic() + seconds
    while path not in [served for served, _status in server.served]:
        assert time.monotonic() < deadline, f"{path} was never requested: {server.served}"
        time.sleep(0.05)


def test_docs_and_admin_pages_load_with_no_failed_request(session, people):
    admin, _user, _auth = people
    session.goto("/api/docs")
    session.page.wait_for_selector(".swagger-ui .opblock")  # the spec was fetched and drawn
    _wait_until_served(session.server, "/favicon.ico")
    session.goto("/admin/login")
    session.login(admin["username"])
    for path in ("/admin/", "/admin/cache", "/admin/database", "/admin/users"):
        session.goto(path)
        session.page.wait_for_load_state("networkidle")
    failed = [(path, status) for path, status in session.server.served if status >= 400]
    assert failed == []
    assert ("/favicon.ico", 200) in session.server.served
    session.assert_only_own_host()
