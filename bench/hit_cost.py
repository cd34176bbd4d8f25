"""Instructions per cached GET HIT, counted by callgrind (metrics on/off) against a bare MGET view.

Run under valgrind; the measured loop is collected because it runs inside a call of libc's
``qsort`` (from a ctypes comparator), which the hit path never calls. glibc's ``qsort``
tail-calls ``qsort_r``, so that is the function to toggle on:

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=qsort_r \\
        --callgrind-out-file=bench/results/callgrind.out \\
        .venv/bin/python -m bench.hit_cost --variant metrics --requests 2000

``callgrind_annotate FILE | head`` gives the total ("PROGRAM TOTALS"). Python's start-up
sorts once too (about 60 000 instructions): a run with ``--requests 0`` measures that
constant; per request = (total - constant) / requests. Variants: ``metrics`` (the shipped
default; add PROMETHEUS_MULTIPROC_DIR=<empty dir> for gunicorn's file-backed values),
``no-metrics`` (METRICS_ENABLED=false) and ``floor`` (a bare Flask view doing one Redis
MGET). Without valgrind it runs the same loop and prints a rough time per request.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from flask import Flask, Response
from werkzeug.test import EnvironBuilder

from bench.common import BENCH_SECRET, DEFAULT_REDIS, migrate_to

WARMUP = 200
SUMMARY = "/api/portfolio/summary"


def fynix_hit(redis_url: str, database_url: str, metrics: bool) -> tuple[Flask, dict]:
    """The Fynix app, a user with a position and a cached summary: (app, GET environ)."""
    from config import DevelopmentConfig
    from fynix import create_app

    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"fynixbench-hit-{uuid.uuid4().hex[:8]}",
        METRICS_ENABLED=metrics,
        SECRET_KEY=BENCH_SECRET,
        LOG_LEVEL="WARNING",
        RATELIMIT_ENABLED=False,
        ARGON2_TIME_COST=1,
        ARGON2_MEMORY_COST=8192,
    )
    client = app.test_client()
    user = {"email": "hit@example.com", "username": "hit", "password": "hit-cost-password"}
    assert client.post("/api/auth/register", json=user).status_code == 201
    login = client.post("/api/auth/login", json={"login": "hit", "password": user["password"]})
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    position = {"symbol": "AAPL", "quantity": "10", "average_cost": "150.00"}
    assert client.post("/api/portfolio/positions", json=position, headers=headers).status_code
    client.get(SUMMARY, headers=headers)
    return app, EnvironBuilder(path=SUMMARY, headers=headers).get_environ()


def floor_hit(redis_url: str) -> tuple[Flask, dict]:
    """A bare Flask view answering one Redis MGET's bytes: the floor of any Redis hit."""
    app = Flask(__name__)
    client = redis.Redis.from_url(redis_url)
    key = f"fynixbench-floor-{uuid.uuid4().hex[:8]}"
    client.set(key, b'{"positions_count": 1}', ex=3600)

    @app.get("/floor")
    def floor():
        (body,) = client.mget([key])
        return Response(body, content_type="application/json")

    return app, EnvironBuilder(path="/floor").get_environ()


def request_loop(app: Flask, environ: dict, count: int) -> tuple[Callable[[], None], list]:
    """A function making ``count`` WSGI calls, and the list of (status, headers) it fills."""
    seen: list[tuple[str, list]] = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        seen.append((status, headers))

    def run() -> None:
        for _ in range(count):
            b"".join(app(dict(environ), start_response))

    return run, seen


def inside_qsort(run: Callable[[], object]) -> None:
    """Call ``run`` from within libc's qsort, the function callgrind's toggle watches."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def compare(_a: int, _b: int) -> int:
        run()
        return 0

    pair = (ctypes.c_int * 2)(1, 2)  # two elements: one comparison, one loop
    libc.qsort(pair, 2, ctypes.sizeof(ctypes.c_int), compare_type(compare))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.hit_cost", description=__doc__)
    parser.add_argument("--variant", choices=["metrics", "no-metrics", "floor"], required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fynix-hit-cost-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'hit.db'}"
        if args.variant == "floor":
            app, environ = floor_hit(args.redis_url)
        else:
            migrate_to(database_url, "head")
            app, environ = fynix_hit(args.redis_url, database_url, args.variant == "metrics")
        request_loop(app, environ, WARMUP)[0]()  # fill lazy caches (labels, connections)
        run, seen = request_loop(app, environ, args.requests)
        started = time.perf_counter()
        inside_qsort(run)
        elapsed = time.perf_counter() - started
    # Every answer must be a 200 and, from Fynix, a cache HIT.
    outcomes = {(status, dict(headers).get("X-Cache", "-")) for status, headers in seen}
    print(f"{args.variant}: {len(seen)} requests, outcomes {sorted(outcomes)}")
    print(f"{elapsed / args.requests * 1e6:.1f} us per request (rough; slow under valgrind)")
    expected = {("200 OK", "-" if args.variant == "floor" else "HIT")}
    return 0 if outcomes <= expected and len(seen) == args.requests else 1


if __name__ == "__main__":
    raise SystemExit(main())
