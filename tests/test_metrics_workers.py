"""/metrics under gunicorn: every worker's requests summed, per-worker gauges, directory upkeep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.gunicorn_server import Gunicorn, served_env, start_gunicorn
from tests.metrics_samples import LATENCY_COUNT, REQUESTS, parse, request_labels, value

pytestmark = [pytest.mark.redis, pytest.mark.slow]

HEALTHZ = request_labels("/healthz", "GET", 200)
NOT_FOUND = request_labels("<unmatched>", "GET", 404)


@pytest.fixture(scope="module")
def server(database_url, redis_server) -> Iterator[Gunicorn]:
    """gunicorn with 2 workers on the test database and Redis, its own metrics directory."""
    instance = start_gunicorn(served_env(database_url, redis_server))
    yield instance
    instance.stop()


def scrape(server: Gunicorn) -> dict:
    """Every sample of the server's /metrics."""
    status, _, body = server.request("GET", "/metrics")
    assert status == 200
    return parse(body.decode())


@contextmanager
def only_other_worker(pid: int) -> Iterator[None]:
    """Freeze worker ``pid`` (SIGSTOP) so that the other worker accepts every connection."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def scrape_until(server: Gunicorn, ready: Callable[[dict], bool], what: str) -> dict:
    """Scrape until ``ready(samples)`` (generous timeout: it only detects a hang)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        samples = scrape(server)
        if ready(samples):
            return samples
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_pids_in(samples: dict) -> set[str]:
    """The pid labels of the breaker gauge: one per live worker that sampled itself."""
    return {dict(labels)["pid"] for name, labels in samples if name == "fynix_cache_breaker_state"}


def test_counts_are_summed_over_both_workers(server):
    first, second = server.worker_pids()
    before = scrape(server)
    with only_other_worker(first):
        for _ in range(7):
            assert server.request("GET", "/healthz")[0] == 200
        assert server.request("GET", f"/{uuid.uuid4().hex}")[0] == 404
        answered_by_second = scrape(server)
    with only_other_worker(second):
        for _ in range(5):
            assert server.request("GET", "/healthz")[0] == 200
        assert server.request("GET", f"/{uuid.uuid4().hex}")[0] == 404
        answered_by_first = scrape(server)
    after = scrape(server)
    assert value(answered_by_second, REQUESTS, **HEALTHZ) - value(before, REQUESTS, **HEALTHZ) == 7
    for samples in (answered_by_first, after):  # one worker's scrape shows both workers' work
        assert value(samples, REQUESTS, **HEALTHZ) - value(before, REQUESTS, **HEALTHZ) == 12
        assert value(samples, REQUESTS, **NOT_FOUND) - value(before, REQUESTS, **NOT_FOUND) == 2
        assert value(samples, LATENCY_COUNT, **HEALTHZ) == value(samples, REQUESTS, **HEALTHZ)
    bucket = "fynix_http_request_duration_seconds_bucket"
    assert value(after, bucket, **HEALTHZ, le="+Inf") == value(after, LATENCY_COUNT, **HEALTHZ)
    # Random paths share one series, and there is no pid label on request metrics.
    assert sum(1 for name, labels in after if name == REQUESTS and dict(labels) == NOT_FOUND) == 1


def test_each_worker_reports_its_breaker_and_pool(server):
    pids = {str(pid) for pid in server.worker_pids()}
    samples = scrape_until(
        server, lambda samples: worker_pids_in(samples) == pids, "both workers' gauges"
    )
    for pid in pids:
        mine = {
            (name, labels): v for (name, labels), v in samples.items() if ("pid", pid) in labels
        }
        assert value(mine, "fynix_cache_breaker_state", state="closed") == 1
        assert value(mine, "fynix_cache_breaker_state", state="open") == 0
        assert value(mine, "fynix_cache_pending_invalidations") == 0
        assert value(mine, "fynix_db_pool_size") >= 1
    assert value(samples, "fynix_cache_up") == 1


def test_a_dead_workers_counts_stay_and_its_gauges_go(server):
    for _ in range(3):
        server.request("GET", "/healthz")
    before = scrape(server)
    victim = server.worker_pids()[0]
    os.kill(victim, signal.SIGTERM)  # the master reaps it (child_exit) and starts another

    def replaced(samples: dict) -> bool:
        pids = {str(pid) for pid in server.worker_pids()}
        return len(pids) == 2 and str(victim) not in pids and worker_pids_in(samples) == pids

    samples = scrape_until(server, replaced, "a replacement worker and the victim's gauges gone")
    assert str(victim) not in worker_pids_in(samples)
    assert value(samples, REQUESTS, **HEALTHZ) == value(before, REQUESTS, **HEALTHZ)


def test_metrics_directory_is_emptied_at_start_and_stop(tmp_path, database_url):
    stale = "from prometheus_client import Counter; Counter('fynix_http_requests', 'x', ['route'])"
    subprocess.run(
        [sys.executable, "-c", f"{stale}.labels('/stale').inc()"],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
        check=True,
    )
    assert list(tmp_path.glob("*.db"))
    instance = start_gunicorn(
        {"DATABASE_URL": database_url, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, workers=1
    )
    try:
        status, _, body = instance.request("GET", "/metrics")
        assert status == 200
        assert "/stale" not in body.decode()
        assert "/healthz" in body.decode()
    finally:
        instance.stop()
    assert tmp_path.is_dir()  # the operator's directory stays, emptied
    assert not list(tmp_path.glob("*.db"))
