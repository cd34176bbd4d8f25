"""The benchmark's servers: gunicorn with the benchmark's environment, redis-server.

Starting, waiting for and stopping processes is the shared harness in tests/processes.py;
this module adds what only the benchmark wants: its environment and a log file per server.
"""

from __future__ import annotations

import os

from bench.common import BENCH_SECRET, RESULTS_DIR, ROOT
from tests.processes import Gunicorn, launch_gunicorn, start_redis

__all__ = ["server_env", "start_gunicorn", "start_redis"]


def server_env(database_url: str, redis_url: str | None, cache_enabled: bool, **extra: str) -> dict:
    """The environment of a benchmark server: production config, our own databases."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUNICORN_")}
    env.update(
        FYNIX_ENV="production",
        SECRET_KEY=BENCH_SECRET,
        DATABASE_URL=database_url,
        CACHE_ENABLED="true" if cache_enabled else "false",
        CACHE_KEY_PREFIX="fynixbench",
        RATELIMIT_ENABLED="false",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_CLUSTER_NODES", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def start_gunicorn(app_spec: str, env: dict, name: str, workers: int | None = None) -> Gunicorn:
    """Start ``gunicorn app_spec`` (workers: the argument, else GUNICORN_WORKERS, else 2),
    logging to bench/results/gunicorn-NAME.log."""
    workers = workers or int(env.get("GUNICORN_WORKERS", "2"))
    log_path = RESULTS_DIR / f"gunicorn-{name}.log"
    return launch_gunicorn(env, app_spec, workers, log_path)
