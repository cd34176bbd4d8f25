"""What the benchmark ran on: CPUs, memory, load, versions of Python, packages, servers."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from importlib import metadata

from bench.common import ROOT, postgres_url

PACKAGES = [
    "Flask",
    "SQLAlchemy",
    "Flask-SQLAlchemy",
    "alembic",
    "psycopg",
    "redis",
    "Flask-Caching",
    "gunicorn",
    "flask-smorest",
    "matplotlib",
]


def machine_info(quick: bool) -> dict:
    """CPU, memory, load, versions of Python, packages and servers."""
    info = {
        "nproc": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "packages": {name: _version(name) for name in PACKAGES},
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    info["postgresql"] = _server_version(quick)
    info["redis_server"] = _redis_version()
    info["commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return info


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _server_version(quick: bool) -> str:
    try:
        import psycopg

        from bench.common import libpq_url

        with psycopg.connect(libpq_url(postgres_url(quick)), connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # the report still says what it could not read
        return f"unknown ({type(exc).__name__})"


def _redis_version() -> str:
    try:
        import redis

        from bench.common import DEFAULT_REDIS

        return redis.Redis.from_url(DEFAULT_REDIS, socket_timeout=2).info("server")["redis_version"]
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"
