"""The admin dashboard and cache page on a real Redis: charts, warm, clear, pattern, TTLs."""

from __future__ import annotations

import re

import pytest

from fynix.caching.namespaces import NAMESPACES
from tests.admin_pages import AdminPages, flashes, signed_in_pages
from tests.conftest import AuthActions

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_pages(redis_app) -> tuple[AdminPages, AuthActions]:
    """Admin pages of an app on a real Redis, signed in as an admin."""
    pages, auth, _headers = signed_in_pages(redis_app)
    return pages, auth


def _flash_count(html: str, pattern: str) -> int:
    found = [re.search(pattern, flash) for flash in flashes(html)]
    matches = [match for match in found if match]
    assert matches, flashes(html)
    return int(matches[0].group(1))


def test_dashboard_charts_one_bar_per_namespace_with_targets(redis_pages):
    pages, auth = redis_pages
    _user, headers = auth.new_user()
    for _ in range(3):
        auth.client.get("/api/users/me", headers=headers)
    html = pages.text("/admin/")
    bars = re.findall(r'<rect class="bar [a-z-]+" data-namespace="([a-z]+)"', html)
    assert bars == list(NAMESPACES)
    targets = re.findall(r'<line class="target" data-namespace="([a-z]+)"', html)
    assert targets
    assert set(targets) <= set(bars)
    assert 'id="redis-status">ok<' in html
    assert 'id="breaker-state">closed<' in html
    assert re.search(r'id="redis-latency">[\d.]+ ms<', html)
    user_row = re.search(r'<tr data-namespace="user">(.*?)</tr>', html, re.S).group(1)
    stats = dict(re.findall(r'data-stat="([a-z]+)">([\d,]+)</td>', user_row))
    assert (stats["hits"], stats["misses"]) == ("2", "1")


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
    assert "Deleted 0 entries." in flashes(pages.text("/admin/cache"))


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


@pytest.mark.parametrize("pattern", ["has space", ""])
def test_invalid_pattern_is_refused(redis_pages, pattern):
    pages, _auth = redis_pages
    response = pages.post("/admin/cache/pattern", {"pattern": pattern})
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_cache_page_lists_the_ttls_in_force(redis_pages):
    pages, _auth = redis_pages
    html = pages.text("/admin/cache")
    app = pages.client.application
    for name in list(NAMESPACES):
        assert f'<tr data-namespace="{name}">' in html
    assert re.search(
        rf'data-namespace="portfolio">\s*<th scope="row">portfolio</th>\s*<td>[^<]+</td>\s*'
        rf'<td class="num">{app.config["CACHE_TTL_PORTFOLIO"]:,}</td>',
        html,
    )


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
