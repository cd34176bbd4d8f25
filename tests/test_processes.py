"""The shared process harness (tests/processes.py): what tests/ and bench/ rely on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.processes import ROOT, launch_gunicorn

pytestmark = pytest.mark.redis


def test_bench_imports_the_harness_without_pytest():
    # bench/ runs with the runtime and bench requirements only, where pytest is absent.
    code = "import sys, bench.servers, tests.processes; sys.exit('pytest' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 0


def test_a_paused_redis_stops_by_pid_and_leaves_no_directory(own_redis):
    client = redis.Redis.from_url(own_redis.url, socket_timeout=5)
    assert client.ping()
    client.close()
    own_redis.pause()
    own_redis.stop()
    assert own_redis.process.poll() is not None
    assert not Path(own_redis.workdir).exists()


def _running_with(argument: str) -> list[int]:
    """PIDs of live processes whose command line contains ``argument``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if argument.encode() in cmdline.read_bytes().split(b"\0"):
                found.append(int(cmdline.parent.name))
        except OSError:  # the process ended while we looked
            continue
    return found


def test_a_gunicorn_that_cannot_boot_raises_with_its_log_and_leaves_nothing(tmp_path):
    app = f"no_such_module_{tmp_path.name}:app"
    log_path = tmp_path / "gunicorn.log"
    with pytest.raises(RuntimeError, match=re.escape(f"see {log_path}")):
        launch_gunicorn({"PATH": "/usr/bin:/bin"}, app, 1, log_path)
    assert "No module named" in log_path.read_text()
    assert _running_with(app) == []
