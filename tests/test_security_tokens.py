"""Tokens (expired, forged, tampered), production headers, nothing secret in errors or logs."""

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
from tests.conftest import AuthActions, assert_envelope

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
