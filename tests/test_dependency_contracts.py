"""What Fynix relies on in its libraries beyond their plainly public API, pinned: an
upgrade that changes any of it fails here, not in production.

- Flask-Limiter: its app-wide ``before_request`` check is removed (found by the bound
  method's ``__self__``, never by its private name) because every limit is a route
  decorator; limits must still apply.
- Flask-Caching: ``RedisCache`` accepts a ready redis-py client as ``CACHE_REDIS_HOST``, so
  the configured backend uses the client Fynix built (bounded timeouts).
- flask-smorest: guards document their refusals through the view's ``_apidoc`` attribute,
  and ``FynixApi`` extends ``Api._init_spec`` and replaces ``_register_error_handlers``.
- gunicorn: ``gunicorn.util.write_error`` is replaced to answer its own errors as JSON
  (pinned by ``tests/test_gunicorn_errors.py`` against a real gunicorn).
"""

from __future__ import annotations

import pytest

from fynix.caching.manager import get_manager
from fynix.extensions import cache, limiter

pytestmark = pytest.mark.redis


def test_the_limiters_global_check_is_gone_and_route_limits_still_apply(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    hooks = app.before_request_funcs.get(None, [])
    assert not [hook for hook in hooks if getattr(hook, "__self__", None) is limiter]
    client = app.test_client()
    bad = {"login": "nobody", "password": "wrong-password"}
    statuses = [
        client.post(
            "/api/auth/login", json=bad, environ_base={"REMOTE_ADDR": "192.0.2.77"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_flask_caching_uses_the_redis_client_fynix_built(app_factory, redis_server):
    app = app_factory(REDIS_URL=redis_server)
    with app.app_context():
        cache.set("contract-probe", "through flask-caching", timeout=60)
        assert cache.get("contract-probe") == "through flask-caching"
        client = get_manager(app).store.client
        pool_options = client.connection_pool.connection_kwargs
        assert pool_options["socket_timeout"] == app.config["REDIS_SOCKET_TIMEOUT"]
        # The same client holds what Flask-Caching wrote (under its key prefix).
        prefixed = list(client.scan_iter(f"{app.config['CACHE_KEY_PREFIX']}*probe*"))
        assert prefixed
        cache.delete("contract-probe")


def test_guards_document_their_refusals_and_the_envelope_is_fynixs(client):
    spec = client.get("/api/openapi.json").get_json()
    me = spec["paths"]["/api/users/me"]["get"]["responses"]
    assert "401" in me
    put_quote = spec["paths"]["/api/market/quotes/{symbol}"]["put"]["responses"]
    assert {"401", "403"} <= set(put_quote)
    refused = client.get("/api/users/me")
    assert refused.status_code == 401
    assert set(refused.get_json()) >= {"status", "error", "message"}  # not flask-smorest's
