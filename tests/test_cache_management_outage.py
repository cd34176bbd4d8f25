"""Every cache-management path with Redis down or hung: 503 JSON from the API, a degraded
page in the admin, a working probe and metrics; never a 500."""

from __future__ import annotations

import pytest

from tests.admin_pages import signed_in_pages

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(params=["stopped", "hung"])
def broken(request, app, app_factory, own_redis):
    """An admin (API token and admin page session) on an app whose Redis then fails."""
    redis_app = app_factory(REDIS_URL=own_redis.url, CACHE_BREAKER_THRESHOLD=1)  # `app`: cleanup
    pages, auth, headers = signed_in_pages(redis_app)
    for _ in range(2):
        auth.client.get("/api/users/me", headers=headers)
    if request.param == "stopped":
        own_redis.stop()
    else:
        own_redis.pause()
    return auth.client, headers, pages


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cache/stats"),
        ("POST", "/cache/clear"),
        ("POST", "/cache/warm"),
        ("DELETE", "/cache/pattern/user:*"),
    ],
)
def test_cache_api_answers_503_json(broken, method, path):
    client, headers, _ = broken
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 503
    assert response.is_json
    assert response.get_json()["message"] == "The cache backend is unavailable; retry shortly."
    assert response.headers["Retry-After"] == "2"


def test_probes_and_metrics_still_answer(broken):
    client, headers, _ = broken
    health = client.get("/cache/health", headers=headers)
    assert (health.status_code, health.get_json()["status"]) == (200, "down")
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json()["status"]) == (200, "degraded")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "fynix_cache_up 0.0" in metrics.get_data(as_text=True)
    me = client.get("/api/users/me", headers=headers)
    assert (me.status_code, me.headers["X-Cache"]) == (200, "BYPASS")


@pytest.mark.parametrize("path", ["/admin/", "/admin/cache"])
def test_admin_pages_are_degraded_not_broken(broken, path):
    _, _, pages = broken
    html = pages.text(path)
    assert 'id="cache-down"' in html


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/admin/cache/warm", {"users": "5"}),
        ("/admin/cache/clear", {}),
        ("/admin/cache/pattern", {"pattern": "user:*"}),
        ("/admin/cache/pattern", {"pattern": "user:*", "confirm": "yes"}),
    ],
)
def test_admin_cache_actions_say_the_backend_is_unreachable(broken, path, form):
    _, _, pages = broken
    response = pages.post(path, form)
    assert response.status_code == 302
    assert "The cache backend is unreachable; nothing was changed." in pages.text("/admin/cache")
