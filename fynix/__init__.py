"""Fynix: the backend of a personal-investing app (Flask application factory)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from werkzeug.routing import Map

from config import Config, ProductionConfig, config_from_env
from fynix.security import register_security


class FynixMap(Map):
    """URL map that leaves ``//`` in a path alone: such a path matches no route (a JSON 404)
    instead of Werkzeug's 308 redirect to the merged path with an HTML body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("merge_slashes", False)
        super().__init__(*args, **kwargs)


class FynixFlask(Flask):
    """Flask whose own answers (routing, OPTIONS) are JSON or empty, never an HTML page."""

    url_map_class = FynixMap

    def make_default_options_response(self) -> Response:
        """204 with ``Allow`` and no body: Flask's default is an empty 200 typed text/html.

        No CORS is configured, so OPTIONS only ever says which methods a URL allows.
        """
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


def create_app(config_class: type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the app: config, logging, extensions, metrics, blueprints, errors, commands."""
    config_class = config_class or config_from_env()
    if issubclass(config_class, ProductionConfig):
        config_class.validate()
    app = FynixFlask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    app.config.from_pyfile("settings.py", silent=True)
    app.config.update(overrides)
    app.json.sort_keys = False

    register_proxies(app)
    register_body_limit(app)
    register_logging(app)
    register_extensions(app)
    register_hit_server(app)
    register_metrics(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_proxies(app: Flask) -> None:
    """Trust X-Forwarded-* from PROXY_FIX_X_FOR load balancers (client address for limits)."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_body_limit(app: Flask) -> None:
    """MAX_CONTENT_LENGTH for chunked bodies too (werkzeug checks Content-Length itself)."""
    from fynix.common.inputs import ChunkedBodyLimit

    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])


def register_logging(app: Flask) -> None:
    """JSON logs with a request id on every line."""
    from fynix.logging_setup import configure_logging, register_request_id

    configure_logging(app)
    register_request_id(app)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of fynix.extensions to this app."""
    from fynix.cache_hooks import cache_hooks
    from fynix.caching import init_cache
    from fynix.extensions import api, csrf, db, migrate
    from fynix.sessions import AdminOnlySessionInterface

    _ensure_sqlite_folder(app)
    db.init_app(app)
    import fynix.common.sqlite  # WAL and busy timeout on SQLite connections
    import fynix.models  # noqa: F401  (register every table on db.metadata)

    migrate.init_app(app, db, directory=str(_migrations_dir()), compare_type=True)
    init_cache(app, cache_hooks(app))
    configure_rate_limits(app)
    app.session_interface = AdminOnlySessionInterface()
    csrf.init_app(app)
    api.init_app(app, spec_kwargs=_spec_kwargs())


def configure_rate_limits(app: Flask) -> None:
    """Limits in REDIS_URL's Redis (shared by every worker and node) with the cache's bounded
    timeouts, or in memory; RATELIMIT_FAIL_CLOSED picks what happens when that Redis fails."""
    from fynix.caching.backends import redis_options
    from fynix.extensions import limiter

    config = app.config
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_options(config))
    # Fail open (default): per-process in-memory limits while Redis is unreachable.
    # Fail closed: a limited request is refused with 503 until Redis answers again.
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", not config["RATELIMIT_FAIL_CLOSED"])
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", False)
    limiter.init_app(app)
    # Every Fynix limit is a route decorator, which Flask-Limiter checks inline; with no
    # default, application or blueprint limits its global before_request check only
    # resolves "no limit" on every request, at more than a cache hit's own cost.
    # Removed by identity, not by name (tests/test_dependency_contracts.py pins that it is gone).
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[:] = [hook for hook in hooks if getattr(hook, "__self__", None) is not limiter]


def register_hit_server(app: Flask) -> None:
    """Cache HITs of static GET routes are sent before Flask dispatches (CACHE_FAST_PATH)."""
    from fynix.hitserver import HitServer

    if app.config["CACHE_FAST_PATH"]:
        app.wsgi_app = HitServer(app, app.wsgi_app)


def register_metrics(app: Flask) -> None:
    """Request metrics and /metrics; every collector read at scrape time is listed here."""
    from fynix.market.feed.status import FeedCollector
    from fynix.metrics import cache_collector, init_metrics

    init_metrics(app, cache_collector, FeedCollector)


def register_blueprints(app: Flask) -> None:
    """API blueprints through flask-smorest (documented); pages and probes through Flask."""
    from fynix.admin import blp as admin_blp
    from fynix.ai.views import blp as ai_blp
    from fynix.auth.views import blp as auth_blp
    from fynix.caching.views import blp as cache_blp
    from fynix.common.api import register_converters
    from fynix.docs import blp as docs_assets_blp
    from fynix.extensions import api, csrf
    from fynix.health import blp as health_blp
    from fynix.market.views import blp as market_blp
    from fynix.notifications.views import blp as notifications_blp
    from fynix.portfolio.views import blp as portfolio_blp
    from fynix.users.views import blp as users_blp

    register_converters(app)
    for blueprint in (
        auth_blp,
        users_blp,
        portfolio_blp,
        market_blp,
        notifications_blp,
        ai_blp,
        cache_blp,
    ):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer-token JSON API: no cookies, so no CSRF
    app.register_blueprint(health_blp)
    app.register_blueprint(docs_assets_blp)
    app.register_blueprint(admin_blp)


def register_errorhandlers(app: Flask) -> None:
    """One JSON error envelope for the API."""
    from fynix.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    """flask seed-demo, users, market, cache-warm."""
    from fynix.cli import register_cli

    register_cli(app)


def _spec_kwargs() -> dict:
    return {
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            }
        },
        "security": [{"bearerAuth": []}],
    }


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _ensure_sqlite_folder(app: Flask) -> None:
    """The embedded SQLite file lives in instance/, which may not exist on a fresh clone."""
    from pathlib import Path

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite://":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
