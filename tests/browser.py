"""A live server and headless Chromium for the browser tests (a pytest plugin, see conftest).

The app is served over HTTP on 127.0.0.1 with a real Redis; every request a page makes is
recorded. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD, AuthActions
from tests.services import free_port, unavailable

CHROMIUM = os.environ.get("FYNIX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


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

    def make_traffic(self, token: str) -> None:
        """Some cached reads over HTTP, so the charts and key counts have data."""
        for path in ("/api/users/me", "/api/notifications", "/api/notifications/unread-count"):
            for _ in range(3):
                self.api("GET", path, token)


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
