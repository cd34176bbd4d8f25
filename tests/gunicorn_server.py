"""Run the real app under gunicorn (the shipped gunicorn.conf.py) on a loopback port."""

from __future__ import annotations

import os

from tests.processes import ROOT, Gunicorn, free_port, launch_gunicorn

# ROOT and free_port were importable from here before the harness moved to tests/processes.py.
__all__ = ["ROOT", "Gunicorn", "free_port", "start_gunicorn"]

# Production config with a fixed secret, no rate limits and cheap password hashes.
TEST_ENV = {
    "FYNIX_ENV": "production",
    "SECRET_KEY": "gunicorn-test-secret-key-0123456789",
    "RATELIMIT_ENABLED": "false",
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST": "8192",
}


def start_gunicorn(env: dict[str, str], workers: int = 2) -> Gunicorn:
    """Start ``gunicorn wsgi:app`` with ``env`` and wait until /healthz answers."""
    return launch_gunicorn({**os.environ, **TEST_ENV, **env}, "wsgi:app", workers)
