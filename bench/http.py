"""HTTP benchmark: five variants of four endpoints under gunicorn, PostgreSQL and Redis.

(a) CACHE_ENABLED=false, (b) Fynix cached, (c) the same view behind plain Flask-Caching
``@cache.cached`` with a per-user key, (d) the ceiling: the same bytes with no cache and
no database, (e) the floor of a Redis hit: one MGET and the bytes. Each variant runs on
its own gunicorn (the shipped gunicorn.conf.py) in turn, so they never share the CPU.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import redis
import sqlalchemy as sa

from bench.common import RESULTS_DIR, bench_app_context, ratio
from bench.loadgen import build_request, fetch, run_load
from bench.peer_app import ENDPOINTS, FLOOR_KEY
from bench.servers import server_env, start_gunicorn

VARIANTS = {
    "a": "uncached (CACHE_ENABLED=false)",
    "b": "Fynix cached",
    "c": "peer: Flask-Caching @cache.cached",
    "d": "ceiling: bytes, no cache, no DB",
    "e": "floor: one Redis MGET",
}
CONCURRENCY = 4
TARGET_HOLDINGS = 50


def pick_summary_user(url: str) -> tuple[int, int]:
    """(user id, positions) of the user whose holdings count is closest to 50."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT user_id, count(*) AS n FROM portfolio_positions GROUP BY user_id "
                    "ORDER BY abs(count(*) - :target), user_id LIMIT 1"
                ),
                {"target": TARGET_HOLDINGS},
            ).one()
    finally:
        engine.dispose()
    return row.user_id, row.n


def mint_tokens(url: str, user_ids: list[int]) -> dict[int, str]:
    """Bearer tokens signed with the benchmark servers' SECRET_KEY."""
    from fynix.auth.tokens import issue_token
    from fynix.extensions import db
    from fynix.users.models import User

    with bench_app_context(url):
        stamps = dict(
            db.session.execute(
                sa.select(User.id, User.security_stamp).where(User.id.in_(user_ids))
            ).all()
        )
        return {user_id: issue_token(user_id, stamps[user_id])[0] for user_id in user_ids}


def clear_prefix(redis_url: str, pattern: str = "fynixbench*") -> int:
    """Delete the benchmark's own keys (SCAN + DEL, never FLUSHDB)."""
    client = redis.Redis.from_url(redis_url)
    deleted = 0
    batch = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    client.close()
    return deleted


@contextmanager
def serving(app_spec: str, env: dict, name: str):
    """A gunicorn for the duration of the block, stopped by PID."""
    server = start_gunicorn(app_spec, env, name)
    try:
        yield server
    finally:
        server.stop()


def _requests(prefix: str, token: str) -> dict[str, bytes]:
    auth = {"Authorization": f"Bearer {token}"}
    built = {}
    for name, (path, per_user) in ENDPOINTS.items():
        target = path if prefix == "" else f"/bench/{prefix}/{name}"
        built[name] = build_request("GET", target, auth if per_user else None)
    return built


def _measure(server, raw: bytes, quick: bool) -> dict:
    """Check one response is 200, then load it."""
    first = fetch(server.base, raw)
    if first.status != 200:
        raise RuntimeError(f"warm-up answered {first.status}: {first.body[:300]!r}")
    seconds, warmup = (0.5, 0.2) if quick else (3.0, 0.5)
    summary = run_load(
        server.base, raw, concurrency=CONCURRENCY, seconds=seconds, warmup=warmup
    ).summary()
    if summary["errors"] or set(summary["statuses"]) != {200}:
        raise RuntimeError(f"load run had errors or non-200 answers: {summary}")
    summary["bytes"] = len(first.body)
    return summary


def _capture_payloads(
    server, requests: dict[str, bytes], redis_url: str, filename: str = "http-payloads.json"
) -> str:
    """Save the uncached answers for the ceiling, and store them for the floor's MGET."""
    payloads = {}
    client = redis.Redis.from_url(redis_url)
    for name, raw in requests.items():
        response = fetch(server.base, raw)
        if response.status != 200:
            raise RuntimeError(f"{name} answered {response.status}: {response.body[:300]!r}")
        content_type = response.headers.get("content-type", "application/json")
        payloads[name] = {"body": response.body.decode(), "content_type": content_type}
        client.set(FLOOR_KEY.format(name=name), response.body)
    client.close()
    path = RESULTS_DIR / filename
    path.write_text(json.dumps(payloads))
    return str(path)


def run_http(pg_url: str, redis_url: str, quick: bool = False) -> dict:
    """Measure every endpoint in every variant; returns figures and ratios."""
    user_id, holdings = pick_summary_user(pg_url)
    token = mint_tokens(pg_url, [user_id])[user_id]
    clear_prefix(redis_url)
    figures: dict[str, dict[str, dict]] = {name: {} for name in ENDPOINTS}
    env_off = server_env(pg_url, redis_url, cache_enabled=False)
    env_on = server_env(pg_url, redis_url, cache_enabled=True)
    real = _requests("", token)
    with serving("wsgi:app", env_off, "a") as server:
        payload_path = _capture_payloads(server, real, redis_url)
        for name, raw in real.items():
            figures[name]["a"] = _measure(server, raw, quick)
    with serving("wsgi:app", env_on, "b") as server:
        for name, raw in real.items():
            figures[name]["b"] = _measure(server, raw, quick)
    bench_env = dict(env_off, BENCH_PAYLOADS=payload_path)
    with serving("bench.peer_app:build_app()", bench_env, "cde") as server:
        for variant, prefix in (("c", "peer"), ("d", "ceiling"), ("e", "floor")):
            for name, raw in _requests(prefix, token).items():
                figures[name][variant] = _measure(server, raw, quick)
    clear_prefix(redis_url)
    return {
        "user_id": user_id,
        "holdings": holdings,
        "concurrency": CONCURRENCY,
        "variants": VARIANTS,
        "figures": figures,
        "ratios": {name: _ratios(by_variant) for name, by_variant in figures.items()},
    }


def _ratios(by_variant: dict[str, dict]) -> dict[str, float | None]:
    """Throughput ratios of (b) to the others, plus (e)/(d): one round trip vs the ceiling."""
    rps = {variant: figures["rps"] for variant, figures in by_variant.items()}
    return {
        "b/a": ratio(rps["b"], rps["a"]),
        "b/c": ratio(rps["b"], rps["c"]),
        "b/d": ratio(rps["b"], rps["d"]),
        "b/e": ratio(rps["b"], rps["e"]),
        "e/d": ratio(rps["e"], rps["d"]),
        "p50 a/b": ratio(by_variant["a"]["p50_ms"], by_variant["b"]["p50_ms"]),
    }
