"""`python3 scripts/dev.py run --feed`: the newcomer's moving market beside gunicorn."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.feed_helpers import OVERVIEW
from tests.processes import ROOT, free_port, spawn

pytestmark = pytest.mark.slow


def test_dev_run_with_feed_moves_prices_the_server_shows_and_ctrl_c_stops_both(tmp_path):
    """`scripts/dev.py run --feed` without Redis: the server sees the feed's prices (the
    in-process cache shares its generations across the host) and Ctrl-C ends everything."""
    port = free_port()
    env = {
        **os.environ,
        "FYNIX_VENV": str(Path(sys.executable).resolve().parent.parent),
        "FYNIX_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
        "CACHE_LOCAL_DIR": str(tmp_path),
        "REDIS_URL": "",
        "REDIS_CLUSTER_NODES": "",
        "REDIS_SENTINELS": "",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8192",
    }
    log = tmp_path / "dev-run.log"
    dev = spawn([sys.executable, str(ROOT / "scripts" / "dev.py"), "run", "--feed"], log, ROOT, env)

    def aapl() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{OVERVIEW}", timeout=5) as answer:
                items = json.load(answer)["items"]
        except OSError:
            return None
        return next(item["price"] for item in items if item["symbol"] == "AAPL")

    try:
        assert wait_for(lambda: aapl() is not None, 120), log.read_text()
        prices: set[str] = set()

        def moved_twice() -> bool:
            prices.add(aapl())
            return len(prices - {None}) >= 3

        assert wait_for(moved_twice, 90), log.read_text()
        os.killpg(dev.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        assert dev.wait(timeout=90) == 0, log.read_text()
        with pytest.raises(ProcessLookupError):  # gunicorn, its workers and the feed are gone
            os.killpg(dev.pid, 0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dev.pid, signal.SIGKILL)
        dev.wait(timeout=30)
    assert "Feed simulated:" in log.read_text()
