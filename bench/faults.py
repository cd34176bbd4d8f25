"""Stampede and outage figures.

Stampede: 100 concurrent cold requests on one key; computations are counted by the bench
app (every SQL statement on portfolio_positions increments a Redis counter), divided by
the statements one computation issues (calibrated on a single cold request).
Outage: a throwaway redis-server is hung with SIGSTOP; once the circuit breaker is open,
the cached app's latency is compared with the uncached app's.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import redis
import sqlalchemy as sa

from bench.common import median
from bench.http import clear_prefix, mint_tokens, serving
from bench.loadgen import Connection, build_request, fetch, run_load
from bench.peer_app import COUNTER_KEY
from bench.servers import server_env, start_redis

STAMPEDE = 100
STAMPEDE_WORKERS = 8
COUNTER_REDIS = "redis://127.0.0.1:6379/11"


def _summary_users(url: str, count: int) -> list[int]:
    """``count`` users holding close to 50 positions (each key is cold once)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    sa.text(
                        "SELECT user_id FROM portfolio_positions GROUP BY user_id "
                        "ORDER BY abs(count(*) - 50), user_id LIMIT :n"
                    ),
                    {"n": count},
                )
            )
    finally:
        engine.dispose()


def _burst(address: tuple[str, int], raw: bytes, count: int) -> dict:
    """``count`` connections send the same request at once; statuses, X-Cache, latencies."""
    barrier = threading.Barrier(count)
    statuses: Counter = Counter()
    x_cache: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        conn = Connection(*address, timeout=60)
        try:
            barrier.wait(timeout=30)
            started = time.perf_counter()
            response = conn.request(raw)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[response.status] += 1
                x_cache[response.headers.get("x-cache", "-")] += 1
                latencies.append(elapsed)
        finally:
            conn.close()

    threads = [threading.Thread(target=one, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return {
        "statuses": dict(statuses),
        "x_cache": dict(x_cache),
        "p50_ms": round(median(latencies), 2),
        "max_ms": round(max(latencies or [0]), 2),
    }


def wait_for_all_workers(address: tuple[str, int], workers: int, timeout: float = 60) -> int:
    """Block until ``workers`` distinct worker processes have answered /bench/pid."""
    import json

    seen: set[int] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def ask() -> None:
        response = fetch(address, build_request("GET", "/bench/pid"))
        if response.status == 200:
            with lock:
                seen.add(json.loads(response.body)["pid"])

    while len(seen) < workers and time.monotonic() < deadline:
        threads = [threading.Thread(target=ask, daemon=True) for _ in range(2 * workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    return len(seen)


def _computations(counter: redis.Redis, server, raw: bytes, per_computation: int, burst: int):
    counter.delete(COUNTER_KEY)
    outcome = _burst(server.base, raw, burst)
    statements = int(counter.get(COUNTER_KEY) or 0)
    outcome["statements"] = statements
    outcome["computations"] = statements / per_computation if per_computation else None
    return outcome


def run_stampede(pg_url: str, redis_url: str, quick: bool = False) -> dict:
    """Cold burst on one summary key: Fynix (lock) vs the Flask-Caching peer (no lock)."""
    burst, workers = (20, 2) if quick else (STAMPEDE, STAMPEDE_WORKERS)
    users = _summary_users(pg_url, 4)
    tokens = mint_tokens(pg_url, users)
    counter = redis.Redis.from_url(COUNTER_REDIS)
    results = {"burst": burst, "workers": workers}
    clear_prefix(redis_url)
    for variant, cache_on, prefix in (("fynix", True, None), ("peer", False, "/bench/peer")):
        env = server_env(pg_url, redis_url, cache_enabled=cache_on, BENCH_COUNT_SQL="1",
                         BENCH_REDIS_URL=COUNTER_REDIS,
                         GUNICORN_WORKERS=str(workers))  # fmt: skip
        path = f"{prefix}/summary" if prefix else "/api/portfolio/summary"
        calibrate_user, burst_user = (users[0], users[1]) if cache_on else (users[2], users[3])

        def request_for(user: int, path: str = path) -> bytes:
            return build_request("GET", path, {"Authorization": f"Bearer {tokens[user]}"})

        with serving("bench.peer_app:build_app()", env, f"stampede-{variant}") as server:
            ready = wait_for_all_workers(server.base, workers)
            counter.delete(COUNTER_KEY)
            first = fetch(server.base, request_for(calibrate_user))
            if first.status != 200:
                raise RuntimeError(f"stampede calibration answered {first.status}")
            per_computation = int(counter.get(COUNTER_KEY) or 0)
            counter.delete(COUNTER_KEY)
            fetch(server.base, request_for(calibrate_user))
            hit_statements = int(counter.get(COUNTER_KEY) or 0)
            outcome = _computations(
                counter, server, request_for(burst_user), per_computation, burst
            )
        outcome.update(statements_per_computation=per_computation, hit_statements=hit_statements,
                       workers_ready=ready)  # fmt: skip
        results[variant] = outcome
    counter.delete(COUNTER_KEY)
    counter.close()
    clear_prefix(redis_url)
    return results


def _wait_for_breaker(server, raw: bytes, timeout_ms: float, bound: int) -> dict:
    """Sequential requests until 10 in a row are BYPASS and fast; how long that took."""
    started = time.perf_counter()
    in_a_row = sent = 0
    slowest = 0.0
    while in_a_row < 10 and sent < bound:
        t0 = time.perf_counter()
        response = fetch(server.base, raw)
        elapsed = (time.perf_counter() - t0) * 1000
        sent += 1
        slowest = max(slowest, elapsed)
        fast = response.headers.get("x-cache") == "BYPASS" and elapsed < timeout_ms * 0.8
        in_a_row = in_a_row + 1 if fast and response.status == 200 else 0
    return {"open": in_a_row >= 10, "requests": sent, "slowest_ms": round(slowest, 1),
            "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip


def run_outage(pg_url: str, quick: bool = False) -> dict:
    """p50/p99 with Redis hung (after the breaker opens) vs healthy vs uncached."""
    user = _summary_users(pg_url, 1)[0]
    raw = build_request(
        "GET",
        "/api/portfolio/summary",
        {"Authorization": f"Bearer {mint_tokens(pg_url, [user])[user]}"},
    )
    seconds = 0.5 if quick else 3.0
    results: dict = {"user_id": user, "seconds": seconds}
    redis_server = start_redis()
    try:
        env = server_env(pg_url, redis_server.url, cache_enabled=True)
        with serving("wsgi:app", env, "outage") as server:
            results["healthy"] = run_load(
                server.base, raw, concurrency=4, seconds=seconds
            ).summary()
            redis_server.pause()
            timeout_ms = float(env.get("REDIS_SOCKET_TIMEOUT", 0.25)) * 1000
            results["breaker"] = _wait_for_breaker(server, raw, timeout_ms, bound=200)
            # Longer than the breaker's cooldown, so the half-open probes are in the figures.
            hung_seconds = seconds if quick else 6.0
            results["hung"] = run_load(
                server.base, raw, concurrency=4, seconds=hung_seconds
            ).summary()
            redis_server.resume()
    finally:
        redis_server.stop()
    with serving("wsgi:app", server_env(pg_url, None, cache_enabled=False), "outage-uncached") as s:
        results["uncached"] = run_load(s.base, raw, concurrency=4, seconds=seconds).summary()
    if not results["breaker"]["open"]:
        raise RuntimeError(f"the breaker never opened: {results['breaker']}")
    hung, uncached = results["hung"], results["uncached"]
    results["ratios"] = {
        "p50 hung/uncached": hung["p50_ms"] / uncached["p50_ms"] if uncached["p50_ms"] else None,
        "p99 hung/uncached": hung["p99_ms"] / uncached["p99_ms"] if uncached["p99_ms"] else None,
    }
    return results


def run_faults(pg_url: str, redis_url: str, quick: bool = False) -> dict:
    """Both fault figures."""
    return {"stampede": run_stampede(pg_url, redis_url, quick), "outage": run_outage(pg_url, quick)}
