"""Bench-only app: Fynix plus the comparison endpoints the HTTP benchmark needs.

``gunicorn 'bench.peer_app:build_app()'`` serves the whole Fynix app and, under /bench/:

- ``/bench/peer/<name>``: the real view of <name> wrapped with plain Flask-Caching
  ``@cache.cached`` (RedisCache, pickled responses) keyed per user: the peer (c);
- ``/bench/ceiling/<name>``: the same bytes from memory, no cache, no database (d);
- ``/bench/floor/<name>``: a bare view doing one MGET and returning the bytes (e).

``gunicorn 'bench.peer_app:bare_app()'`` serves only (d) and (e), on a plain Flask app
without Fynix's hooks (request ids, metrics, security headers): the strict ceiling and
floor the hit path benchmark (bench/hitpath.py) compares a Fynix HIT with.

With BENCH_COUNT_SQL=1 every SQL statement touching portfolio_positions increments a
counter in Redis (the stampede benchmark counts computations with it). With
BENCH_SQL_HEADER=1 every response says in ``X-Bench-SQL`` how many SQL statements its
request sent (the workload sums them per namespace; no Redis command is added).
Never part of the shipped application.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request
from flask_caching import Cache

from fynix import create_app
from fynix.auth.guard import bearer_claims

# name -> (path of the real endpoint, per-user?)
ENDPOINTS = {
    "summary": ("/api/portfolio/summary", True),
    "notifications": ("/api/notifications", True),
    "unread": ("/api/notifications/unread-count", True),
    "public": ("/api/public/market-overview", False),
}
FLOOR_KEY = "fynixbench:floor:{name}"
COUNTER_KEY = "fynixbench:count:positions"
PEER_TTL = int(os.environ.get("BENCH_PEER_TTL", "300"))

peer_cache = Cache()
bench = Blueprint("bench", __name__, url_prefix="/bench")
bare = Blueprint("bare", __name__, url_prefix="/bench")  # (d) and (e), in either app


def _call_real_view(path: str):
    """Dispatch to the real view of ``path`` inside the current request."""
    adapter = current_app.url_map.bind("127.0.0.1")
    endpoint, view_args = adapter.match(path, "GET")
    return current_app.view_functions[endpoint](**view_args)


def _make_peer(name: str, path: str, per_user: bool) -> Callable:
    def cache_key(*args, **kwargs) -> str:
        claims = bearer_claims()
        owner = (claims.user_id if claims else None) if per_user else "public"
        return f"{name}:{owner}:{request.query_string.decode()}"

    @peer_cache.cached(timeout=PEER_TTL, make_cache_key=cache_key)
    def peer():
        return _call_real_view(path)

    peer.__name__ = f"peer_{name}"
    return peer


PEERS = {name: _make_peer(name, path, per_user) for name, (path, per_user) in ENDPOINTS.items()}


@bench.get("/peer/<name>")
def peer_view(name: str):
    """(c) The real view behind Flask-Caching's @cache.cached with a per-user key."""
    return PEERS[name]()


@bare.get("/ceiling/<name>")
def ceiling_view(name: str):
    """(d) The same bytes, no cache and no database: Flask and gunicorn alone."""
    body, content_type = current_app.extensions["bench_payloads"][name]
    return Response(body, content_type=content_type)


@bare.get("/floor/<name>")
def floor_view(name: str):
    """(e) One Redis round trip (MGET) and the bytes: the floor of any Redis-backed hit."""
    (body,) = current_app.extensions["bench_redis"].mget([FLOOR_KEY.format(name=name)])
    return Response(body, content_type="application/json")


@bench.get("/pid")
def pid_view():
    """The worker's process id, after a short nap, so concurrent calls reach every worker."""
    time.sleep(0.05)
    return {"pid": os.getpid()}


def _load_payloads(path: str | None) -> dict[str, tuple[bytes, str]]:
    if not path:
        return {}
    data = json.loads(Path(path).read_text())
    return {name: (item["body"].encode(), item["content_type"]) for name, item in data.items()}


def _count_positions_sql(client: redis.Redis) -> None:
    def before_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        if "portfolio_positions" in statement:
            client.incr(COUNTER_KEY)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before_execute)


def _sql_header(application: Flask) -> None:
    """``X-Bench-SQL``: the statements of the request, counted around the whole WSGI call,
    so that HITs answered before Flask dispatches (the fast path) carry the header too."""
    counter = threading.local()

    def before_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements = getattr(counter, "statements", 0) + 1

    inner = application.wsgi_app

    def counted(environ: dict, start_response: Callable) -> Any:
        counter.statements = 0

        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            headers = [*headers, ("X-Bench-SQL", str(counter.statements))]
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before_execute)
    application.wsgi_app = counted


def build_app() -> Flask:
    """The Fynix app from the environment, plus the /bench/ blueprint."""
    application = create_app()
    redis_url = os.environ.get("BENCH_REDIS_URL") or application.config["REDIS_URL"]
    client = redis.Redis.from_url(redis_url)
    peer_cache.init_app(
        application,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": application.config["REDIS_URL"],
            "CACHE_KEY_PREFIX": "fynixbench-peer:",
            "CACHE_DEFAULT_TIMEOUT": PEER_TTL,
        },
    )
    application.extensions["bench_redis"] = client
    application.extensions["bench_payloads"] = _load_payloads(os.environ.get("BENCH_PAYLOADS"))
    if os.environ.get("BENCH_COUNT_SQL") == "1":
        _count_positions_sql(client)
    if os.environ.get("BENCH_SQL_HEADER") == "1":
        _sql_header(application)
    application.register_blueprint(bench)
    application.register_blueprint(bare)
    return application


def bare_app() -> Flask:
    """A plain Flask app with only (d) and (e) (and /healthz for the harness)."""
    application = Flask("fynix_bench_bare")
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ["REDIS_URL"]
    application.extensions["bench_redis"] = redis.Redis.from_url(redis_url)
    application.extensions["bench_payloads"] = _load_payloads(os.environ.get("BENCH_PAYLOADS"))
    application.register_blueprint(bare)
    application.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    return application
