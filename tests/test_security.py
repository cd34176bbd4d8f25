"""Security: who may call what, rate limits, tokens, headers, nothing secret in errors or logs."""

from __future__ import annotations

import base64
import io
import json
import logging
import uuid
from contextlib import contextmanager
from datetime import timedelta

import jwt
import pytest

from config import ProductionConfig
from fynix.extensions import db
from tests.conftest import AuthActions, _empty_tables
from tests.services import free_port

PASSWORD = "correct-horse-1"
ENVELOPE = {"status", "error", "message", "request_id"}

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


def assert_envelope(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) - {"errors"} == ENVELOPE
    assert body["status"] == status
    return body


@pytest.fixture
def guarded(app_factory):
    """An app whose admin forms skip CSRF, so the access guard itself is what answers."""
    app = app_factory(WTF_CSRF_ENABLED=False)
    yield app
    _empty_tables(app)


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


# -- tokens ----------------------------------------------------------------------------


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(user_id: int, **changes) -> dict:
    from fynix.common.clock import utcnow

    now = utcnow()
    payload = {"sub": str(user_id), "aud": "fynix-api", "iat": now, "exp": now + timedelta(hours=1)}
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


def tampered_tokens(app, user_id: int, victim_id: int, valid: str) -> dict[str, str]:
    from fynix.common.clock import utcnow

    key = app.config["SECRET_KEY"]
    header, payload, signature = valid.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["sub"] = str(victim_id)
    past = utcnow() - timedelta(hours=2)
    return {
        "expired": jwt.encode(claims(user_id, iat=past, exp=past + timedelta(hours=1)), key),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg none, other user": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(forged)}.",
        "modified payload": f"{header}.{b64(forged)}.{signature}",
        "other key": jwt.encode(claims(victim_id), "another-secret-key-of-enough-length-0123"),
        "HS384 with the right key": jwt.encode(claims(user_id), key, algorithm="HS384"),
        "other audience": jwt.encode(claims(user_id, aud="someone-else"), key),
        "no expiry": jwt.encode(claims(user_id, exp=None), key),
        "not a user id": jwt.encode(claims(user_id) | {"sub": "admin"}, key),
        "garbage": "not.a.token",
    }


def test_expired_forged_and_tampered_tokens_are_refused(app, client, auth):
    user, headers = auth.new_user()
    victim, _ = auth.new_user(admin=True)
    valid = headers["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/users/me", headers=headers).status_code == 200
    for name, token in tampered_tokens(app, user["id"], victim["id"], valid).items():
        response = client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert_envelope(response, 401)
        assert victim["email"] not in response.get_data(as_text=True), name


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", "bearer x.y.z", ""])
def test_malformed_authorization_headers_are_401(client, header):
    assert_envelope(client.get("/api/portfolio/summary", headers={"Authorization": header}), 401)


def test_a_token_issued_with_a_short_ttl_expires(app_factory):
    app = app_factory(ACCESS_TOKEN_TTL=-1)
    auth = AuthActions(app.test_client())
    _, headers = auth.new_user()
    assert_envelope(auth.client.get("/api/users/me", headers=headers), 401)


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


def test_admin_pages_keep_their_own_content_security_policy(client):
    policy = client.get("/admin/login").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_hsts_only_in_production(database_url):
    class Production(ProductionConfig):
        SECRET_KEY = "production-secret-for-the-header-test-0123456789"
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = None
        REDIS_CLUSTER_NODES = None
        LOG_LEVEL = "WARNING"

    from fynix import create_app

    app = create_app(Production, CACHE_KEY_PREFIX=f"fynixtest-{uuid.uuid4().hex[:10]}")
    try:
        for path in ("/healthz", "/api/nowhere", "/admin/login"):
            hsts = app.test_client().get(path).headers["Strict-Transport-Security"]
            assert hsts.startswith("max-age=31536000"), path
    finally:
        with app.app_context():
            db.engine.dispose()


# -- nothing secret in error bodies or logs ------------------------------------------------


@contextmanager
def captured_logs():
    """Every line the app's loggers write from now on, formatted as in production (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    fynix_logger = logging.getLogger("fynix")
    if fynix_logger.handlers:
        handler.setFormatter(fynix_logger.handlers[0].formatter)
    loggers = [fynix_logger, logging.getLogger()]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_a_crash_answers_the_generic_envelope_and_logs_no_secret(app_factory):
    from sqlalchemy.exc import OperationalError

    from fynix.extensions import csrf

    app = app_factory()
    password = "Sup3r-secret-pa55word"

    @app.post("/_test/crash/<kind>")
    def crash(kind: str):
        from flask import request

        request.get_json()  # the view had the password in hand when it failed
        if kind == "database":
            url = f"postgresql://fynix:{password}@db.internal/fynix"
            raise OperationalError("SELECT 1", {}, ConnectionError(f"cannot reach {url}"))
        return {"ratio": 1 // 0}

    csrf.exempt(crash)  # a JSON route, like the API blueprints

    client = app.test_client()
    _, headers = AuthActions(client).new_user()
    token = headers["Authorization"].removeprefix("Bearer ")
    sent = {"password": password}
    with captured_logs() as stream:
        crashed = client.post("/_test/crash/code", json=sent, headers=headers)
        lost_database = client.post("/_test/crash/database", json=sent, headers=headers)
    for response, status in ((crashed, 500), (lost_database, 503)):
        body = assert_envelope(response, status)
        text = response.get_data(as_text=True)
        for secret in (password, app.config["SECRET_KEY"], token, "Traceback", "ZeroDivision"):
            assert secret not in text, secret
        assert "request_id" in body
    logs = stream.getvalue()
    assert "unhandled error on POST /_test/crash/code" in logs
    assert "database unavailable" in logs
    for secret in (password, app.config["SECRET_KEY"], token):
        assert secret not in logs, secret


def test_validation_errors_do_not_echo_the_password(client):
    password = "x" * 300
    response = client.post(
        "/api/auth/register",
        json={"email": "someone@example.com", "username": "someone", "password": password},
    )
    body = assert_envelope(response, 422)
    assert "password" in body["errors"]
    assert password not in response.get_data(as_text=True)


def test_proxy_fix_uses_the_forwarded_client_address(app_factory):
    """Behind PROXY_FIX_X_FOR trusted proxies, the client address comes from X-Forwarded-For."""
    from flask import request

    seen = []
    for hops in (0, 1):
        app = app_factory(PROXY_FIX_X_FOR=hops)
        app.before_request(lambda: seen.append(request.remote_addr))
        app.test_client().get(
            "/healthz",
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
    assert seen == ["127.0.0.1", "203.0.113.7"]
