"""Who may call what, the rate limits, and the security headers every route sends."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import PASSWORD, AuthActions, assert_envelope, empty_tables
from tests.services import free_port

# Every (method, rule) of the URL map and who may call it. A new route fails
# test_every_route_is_classified until it is added here, so none is forgotten.
PUBLIC, USER, ADMIN, PAGE, OPEN = "public", "user", "admin", "admin-page", "admin-open"
ACCESS = {
    ("POST", "/api/auth/register"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("GET", "/api/public/market-overview"): PUBLIC,
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/api/docs/static/<path:filename>"): PUBLIC,
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,  # METRICS_TOKEN guards it when set
    ("POST", "/api/auth/password"): USER,
    ("POST", "/api/auth/logout"): USER,
    ("GET", "/api/users/me"): USER,
    ("PATCH", "/api/users/me"): USER,
    ("GET", "/api/portfolio/positions"): USER,
    ("POST", "/api/portfolio/positions"): USER,
    ("GET", "/api/portfolio/positions/<int:position_id>"): USER,
    ("PATCH", "/api/portfolio/positions/<int:position_id>"): USER,
    ("DELETE", "/api/portfolio/positions/<int:position_id>"): USER,
    ("GET", "/api/portfolio/summary"): USER,
    ("GET", "/api/market/quotes"): USER,
    ("GET", "/api/market/quotes/<symbol>"): USER,
    ("PUT", "/api/market/quotes/<symbol>"): ADMIN,
    ("GET", "/api/notifications"): USER,
    ("POST", "/api/notifications"): ADMIN,
    ("GET", "/api/notifications/unread-count"): USER,
    ("POST", "/api/notifications/read-all"): USER,
    ("POST", "/api/notifications/<int:notification_id>/read"): USER,
    ("DELETE", "/api/notifications/<int:notification_id>"): USER,
    ("POST", "/api/ai/interactions"): USER,
    ("GET", "/api/ai/threads"): USER,
    ("GET", "/api/ai/threads/<client_id:thread_id>"): USER,
    ("GET", "/cache/stats"): ADMIN,
    ("POST", "/cache/clear"): ADMIN,
    ("POST", "/cache/warm"): ADMIN,
    ("DELETE", "/cache/pattern/<path:pattern>"): ADMIN,
    ("GET", "/cache/health"): ADMIN,
    ("GET", "/admin/login"): OPEN,
    ("POST", "/admin/login"): OPEN,
    ("POST", "/admin/logout"): OPEN,
    ("GET", "/admin/static/<path:filename>"): OPEN,
    ("GET", "/admin/"): PAGE,
    ("GET", "/admin/cache"): PAGE,
    ("POST", "/admin/cache/clear"): PAGE,
    ("POST", "/admin/cache/pattern"): PAGE,
    ("POST", "/admin/cache/warm"): PAGE,
    ("GET", "/admin/database"): PAGE,
    ("POST", "/admin/database/upgrade"): PAGE,
    ("POST", "/admin/database/measure"): PAGE,
    ("GET", "/admin/users"): PAGE,
    ("POST", "/admin/users/<int:user_id>/grant-admin"): PAGE,
    ("POST", "/admin/users/<int:user_id>/revoke-admin"): PAGE,
    ("GET", "/admin/users/<int:user_id>/notify"): PAGE,
    ("POST", "/admin/users/<int:user_id>/notify"): PAGE,
    ("GET", "/admin/<path:unknown>"): PAGE,
    ("POST", "/admin/<path:unknown>"): PAGE,
}


def routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, example URL) for every route of ``app``."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        url = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1))
        found += [(m, rule.rule, url) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


@pytest.fixture
def guarded(app_factory):
    """An app whose admin forms skip CSRF, so the access guard itself is what answers."""
    app = app_factory(WTF_CSRF_ENABLED=False)
    yield app
    empty_tables(app)


# -- who may call what ---------------------------------------------------------------


def test_every_route_is_classified(app):
    found = {(method, rule) for method, rule, _ in routes(app)}
    assert found - ACCESS.keys() == set(), "classify these routes in ACCESS"
    assert ACCESS.keys() - found == set(), "these classified routes no longer exist"
    for (_, rule), kind in ACCESS.items():
        if rule.startswith("/cache/"):
            assert kind == ADMIN, rule
        if rule.startswith("/admin/"):
            assert kind in {PAGE, OPEN}, rule
    assert {rule for (_, rule), kind in ACCESS.items() if kind == OPEN} == {
        "/admin/login",
        "/admin/logout",
        "/admin/static/<path:filename>",
    }


def test_api_and_cache_routes_refuse_anonymous_and_non_admin_callers(guarded):
    client = guarded.test_client()
    _, user = AuthActions(client).new_user()
    for method, rule, url in routes(guarded):
        kind = ACCESS[(method, rule)]
        if kind in {USER, ADMIN}:
            anonymous = client.open(url, method=method, json={})
            assert_envelope(anonymous, 401)
        if kind == ADMIN:
            assert_envelope(client.open(url, method=method, json={}, headers=user), 403)


def test_admin_pages_send_anonymous_to_login_and_refuse_non_admins(guarded):
    anonymous = guarded.test_client()
    member = guarded.test_client()
    user, _ = AuthActions(member).new_user()
    signed_in = member.post("/admin/login", data={"login": user["username"], "password": PASSWORD})
    assert signed_in.status_code == 302
    for method, rule, url in routes(guarded):
        if ACCESS[(method, rule)] != PAGE:
            continue
        response = anonymous.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.location.startswith("/admin/login"), (method, url)
        assert member.open(url, method=method).status_code == 403, (method, url)


# -- rate limiting ---------------------------------------------------------------------


def limited_client(app):
    """A client with its own remote address, so no other test's attempts count."""
    address = f"127.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def assert_rate_limited(response) -> None:
    body = assert_envelope(response, 429)
    assert body["message"].startswith("Too many requests")
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_login_is_rate_limited_in_redis_shared_by_every_worker(app_factory, redis_server):
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}
    first = app_factory(RATELIMIT_STORAGE_URI=redis_server, **settings)
    client = limited_client(first)
    bad = {"login": "nobody", "password": "wrong-password"}
    for _ in range(2):
        response = client.post("/api/auth/login", json=bad)
        assert_envelope(response, 401)
        assert response.headers["X-RateLimit-Limit"] == "3"
    # A second app (another worker) binds a new storage on the same Redis and keeps the count.
    second = app_factory(RATELIMIT_STORAGE_URI=redis_server, **settings)
    other_worker = second.test_client()
    other_worker.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"]
    assert_envelope(other_worker.post("/api/auth/login", json=bad), 401)
    assert_rate_limited(other_worker.post("/api/auth/login", json=bad))
    fresh_address = limited_client(second)
    assert_envelope(fresh_address.post("/api/auth/login", json=bad), 401)


def test_registration_is_rate_limited(app_factory, redis_server):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_REGISTER="2 per minute",
        RATELIMIT_STORAGE_URI=redis_server,
    )
    auth = AuthActions(limited_client(app))
    assert auth.register().status_code == 201
    assert auth.register().status_code == 201
    assert_rate_limited(auth.register())
    assert (
        auth.client.post("/api/auth/login", json={"login": "x", "password": "y"}).status_code == 401
    )


def test_rate_limit_falls_back_to_memory_when_redis_is_down(app_factory):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute", RATELIMIT_STORAGE_URI=dead_redis
    )
    client = limited_client(app)
    bad = {"login": "nobody", "password": "wrong-password"}
    assert_envelope(client.post("/api/auth/login", json=bad), 401)
    assert_envelope(client.post("/api/auth/login", json=bad), 401)
    assert_rate_limited(client.post("/api/auth/login", json=bad))


# -- headers -----------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(guarded):
    client = guarded.test_client()
    for method, _, url in routes(guarded):
        with client.open(url, method=method) as response:  # closes a streamed file
            assert response.headers["X-Content-Type-Options"] == "nosniff", url
            assert response.headers["X-Frame-Options"] == "DENY", url
            assert response.headers["Referrer-Policy"] in {"no-referrer", "same-origin"}, url
            assert "Strict-Transport-Security" not in response.headers, url
    policy = client.get("/api/nowhere").headers["Content-Security-Policy"]
    assert policy == "default-src 'none'; frame-ancestors 'none'"
