"""Gunicorn settings for ``gunicorn wsgi:app`` (read from the repository root).

Every setting that differs between machines comes from the environment:
GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_WORKERS (default 2),
GUNICORN_TIMEOUT (30 s), GUNICORN_GRACEFUL_TIMEOUT (30 s) and GUNICORN_CONTROL_SOCKET
(default off: set it to 1 to manage the server with ``gunicornc``).
PROMETHEUS_MULTIPROC_DIR (default: a new temporary directory) is where the workers keep
their metrics, so that /metrics sums them; it is emptied when the server starts and stops.
Migrations are a release step (``flask --app wsgi db upgrade``), never run by workers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from config import env_bool, env_int

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = env_int("GUNICORN_WORKERS", 2)
threads = 1
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Each worker builds its own app: no connection pool or Redis socket is shared across fork.
preload_app = False

METRICS_DIR_PREFIX = "fynix-metrics-"


def metrics_dir() -> Path:
    """PROMETHEUS_MULTIPROC_DIR for the workers: the operator's, else a new temporary one.

    Set while this file is read, before any worker imports prometheus_client, which
    chooses file-backed values only if the variable exists when it is imported. A reload
    (SIGHUP) reads this file again and keeps the directory already chosen.
    """
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix=METRICS_DIR_PREFIX)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return Path(path)


METRICS_DIR = metrics_dir()

# The control socket (gunicornc) lives at one per-user path, so two servers on a host would
# fight over it; it is opt-in.
control_socket_disable = not env_bool("GUNICORN_CONTROL_SOCKET", False)

# Both logs go to stderr; an access line is one JSON object carrying the request id.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["server"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
    "handlers": {
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stderr",
        },
    },
    "formatters": {
        "server": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"},
        "access": {"format": "%(message)s"},
    },
}
access_log_format = (
    '{"ts": "%(t)s", "logger": "gunicorn.access", "remote": "%(h)s", "method": "%(m)s", '
    '"path": "%(U)s", "query": "%(q)s", "status": %(s)s, "bytes": "%(b)s", '
    '"duration_ms": %(M)s, "request_id": "%({x-request-id}o)s", "user_agent": "%(a)s"}'
)


def post_fork(server, worker) -> None:  # noqa: ANN001 (gunicorn's Arbiter and Worker)
    """gunicorn's own answers to requests it cannot parse (414, 431, 400) are JSON too."""
    from fynix import gunicorn_errors

    gunicorn_errors.install()


def remove_metrics_files() -> None:
    """Drop the workers' metric files: values of an earlier server must not be summed in."""
    for path in METRICS_DIR.glob("*.db"):
        path.unlink(missing_ok=True)


def on_starting(server) -> None:  # noqa: ANN001 (gunicorn's Arbiter)
    """Start with an empty metrics directory."""
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    remove_metrics_files()


def child_exit(server, worker) -> None:  # noqa: ANN001 (gunicorn's Arbiter and Worker)
    """Drop a dead worker's gauges; its counters and histograms stay in the sums."""
    # Imported here, in the master, once PROMETHEUS_MULTIPROC_DIR is set (see metrics_dir).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:  # noqa: ANN001 (gunicorn's Arbiter)
    """Leave no metric files behind, nor the temporary directory made for them."""
    remove_metrics_files()
    if METRICS_DIR.name.startswith(METRICS_DIR_PREFIX) and METRICS_DIR.parent == Path(
        tempfile.gettempdir()
    ):
        METRICS_DIR.rmdir()
