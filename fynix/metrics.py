"""Prometheus metrics: requests per route, per-worker gauges, and the /metrics endpoint.

Requests are timed and counted by a WSGI middleware (RequestMetrics). Under gunicorn every
worker writes its values to files in PROMETHEUS_MULTIPROC_DIR (prepared by gunicorn.conf.py)
and a scrape sums them over the workers; a single process without that directory keeps them
in memory. Collectors that read shared state at scrape time (the cache counters in Redis, and
later the market feed) are handed over by the app factory: see ``register_metrics`` in
fynix/__init__.py.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.pool import QueuePool

from fynix.caching.manage import get_stats
from fynix.caching.manager import get_manager
from fynix.caching.metrics import CacheCollector
from fynix.errors import error_response
from fynix.extensions import db

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

blp = Blueprint("metrics", __name__)

# prometheus_client picks in-memory or file-backed values when it is imported; so do we.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
SAMPLE_SECONDS = 1.0
UNMATCHED = "<unmatched>"  # every path that matches no route: 404s add no label values
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BREAKER_STATES = ("closed", "half-open", "open")
# A cache hit takes about a millisecond; a slow AI call up to AI_TIMEOUT (20 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REQUEST_LABELS = ("route", "method", "status")

# registry=None: each scrape builds its own registry (see build_registry).
REQUESTS = Counter(
    "fynix_http_requests",
    "HTTP requests by route template, method and status",
    REQUEST_LABELS,
    registry=None,
)
LATENCY = Histogram(
    "fynix_http_request_duration_seconds",
    "Time the app took to answer, by route template, method and status",
    REQUEST_LABELS,
    buckets=LATENCY_BUCKETS,
    registry=None,
)


def _worker_gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> Gauge:
    # "liveall": one series per live worker (pid label); a dead worker's series disappear.
    return Gauge(name, documentation, labels, multiprocess_mode="liveall", registry=None)


BREAKER_STATE = _worker_gauge(
    "fynix_cache_breaker_state", "1 for this worker's cache circuit breaker state", ["state"]
)
PENDING_INVALIDATIONS = _worker_gauge(
    "fynix_cache_pending_invalidations", "Invalidations this worker waits to replay on Redis"
)
POOL_SIZE = _worker_gauge("fynix_db_pool_size", "Connections the database pool keeps")
POOL_CHECKED_OUT = _worker_gauge("fynix_db_pool_checked_out", "Database connections in use")
POOL_CHECKED_IN = _worker_gauge("fynix_db_pool_checked_in", "Idle database connections")
POOL_OVERFLOW = _worker_gauge(
    "fynix_db_pool_overflow", "Database connections open beyond the pool size"
)
IN_MEMORY_METRICS = (
    REQUESTS,
    LATENCY,
    BREAKER_STATE,
    PENDING_INVALIDATIONS,
    POOL_SIZE,
    POOL_CHECKED_OUT,
    POOL_CHECKED_IN,
    POOL_OVERFLOW,
)

CollectorFactory = Callable[[], Collector]


class RequestMetrics:
    """WSGI middleware: times each request and counts it under its route, method and status.

    It reads the route from the request object Werkzeug puts in ``environ["werkzeug.request"]``
    (documented), not through Flask's context proxies, which would cost more than the rest
    of this work together.
    """

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app
        # Children by (route, method, status): labels() takes a lock and validates on
        # every call, a plain dict read does neither.
        self._children: dict[tuple[str, str, str], tuple] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve the request, then count it and observe its duration."""
        started = perf_counter()
        answered: list[tuple[str, Any]] = []

        def capture(status: str, headers: list, exc_info=None):  # noqa: ANN001 (WSGI)
            # Flask answers inside its request context and clears this key when it ends;
            # a HIT sent before Flask names its route in "fynix.route" instead.
            answered.append((status, environ.get("werkzeug.request")))
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        elapsed = perf_counter() - started
        status, flask_request = answered[-1]
        route = environ.get("fynix.route")
        if route is None:
            rule = flask_request.url_rule
            route = rule.rule if rule is not None else UNMATCHED
        method = environ["REQUEST_METHOD"]
        if method not in METHODS:  # any token is a valid method: keep the labels bounded
            method = "other"
        key = (route, method, status[:3])
        children = self._children.get(key) or self._add_children(key)
        children[0].inc()
        children[1].observe(elapsed)
        return body

    def _add_children(self, key: tuple[str, str, str]) -> tuple:
        children = (REQUESTS.labels(*key), LATENCY.labels(*key))
        self._children[key] = children
        return children


class MetricsState:
    """What /metrics needs of one app: its engine and its scrape-time collectors."""

    def __init__(self, app: Flask, collectors: Iterable[CollectorFactory]) -> None:
        with app.app_context():
            self.engine = db.engine
        self.collectors = list(collectors)


def init_metrics(app: Flask, *collectors: CollectorFactory) -> None:
    """Time requests (unless METRICS_ENABLED is false) and serve /metrics with ``collectors``.

    Each collector factory is called inside every scrape and returns a prometheus
    Collector; use it for state shared by every worker (Redis, the database).
    """
    app.extensions["fynix_metrics"] = MetricsState(app, collectors)
    if app.config["METRICS_ENABLED"]:
        app.wsgi_app = RequestMetrics(app.wsgi_app)
    if MULTIPROCESS:
        _start_sampler(app)
    app.register_blueprint(blp)


def cache_collector() -> Collector:
    """The shared cache counters (hits, misses, ... per namespace) and whether Redis is up."""
    return CacheCollector(get_stats(strict=False))


def sample_worker(app: Flask) -> None:
    """Write this process's breaker state and database pool use to the worker gauges."""
    manager = get_manager(app)
    state = manager.breaker.state
    for name in BREAKER_STATES:
        BREAKER_STATE.labels(name).set(1 if name == state else 0)
    PENDING_INVALIDATIONS.set(manager.pending_invalidations)
    pool = app.extensions["fynix_metrics"].engine.pool
    if isinstance(pool, QueuePool):  # SQLite in memory uses a pool without counters
        POOL_SIZE.set(pool.size())
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_CHECKED_IN.set(pool.checkedin())
        # Negative while the pool has not opened pool_size connections yet.
        POOL_OVERFLOW.set(max(pool.overflow(), 0))


def build_registry(app: Flask) -> CollectorRegistry:
    """Everything one scrape exports: request metrics, worker gauges, shared collectors."""
    sample_worker(app)
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        for metric in IN_MEMORY_METRICS:
            registry.register(metric)
    for factory in app.extensions["fynix_metrics"].collectors:
        registry.register(factory())
    return registry


@blp.get("/metrics")
def get_metrics():
    """Prometheus text format; needs ``Bearer $METRICS_TOKEN`` when that is configured."""
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return error_response(
                401, "A metrics token is required.", headers={"WWW-Authenticate": "Bearer"}
            )
    registry = build_registry(current_app)
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


def _start_sampler(app: Flask) -> None:
    """Sample this worker's gauges every second, so a scrape by any worker shows them all.

    Workers build their own app after the fork (gunicorn.conf.py: preload_app = False),
    so the thread belongs to the worker that serves with this app.
    """
    thread = threading.Thread(
        target=_sample_forever, args=(weakref.ref(app),), name="fynix-metrics", daemon=True
    )
    thread.start()


def _sample_forever(app_ref: weakref.ref) -> None:
    """Sample until the app is gone."""
    while True:
        app = app_ref()
        if app is None:
            return
        try:
            sample_worker(app)
        except Exception:  # never let the sampler die
            log.exception("metrics sampling failed")
        del app
        time.sleep(SAMPLE_SECONDS)
