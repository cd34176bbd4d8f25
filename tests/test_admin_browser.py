"""The admin pages in a real browser: sign in, the charts, cache actions, users, the 403 page.

Playwright for Python drives Debian's Chromium against the live server of tests/browser.py;
every request the page makes must go to the app itself.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from fynix.caching.namespaces import NAMESPACES
from fynix.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def _count(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, text
    return int(match.group(1))


def test_login_then_dashboard_chart_has_one_bar_per_namespace(session, people):
    admin, user, _auth = people
    session.server.make_traffic(user["token"])
    session.goto("/admin/")
    assert urlsplit(session.page.url).path == "/admin/login"
    assert parse_qs(urlsplit(session.page.url).query)["next"] == ["/admin/"]
    session.screenshot("01-login")
    session.login(admin["username"])
    assert urlsplit(session.page.url).path == "/admin/"
    assert f"Signed in as {admin['username']}." in session.flashes()
    namespaces = NAMESPACES
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

    session.server.make_traffic(user["token"])
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
