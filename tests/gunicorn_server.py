"""Run the real app under gunicorn (the shipped gunicorn.conf.py) on a loopback port."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Gunicorn:
    """A gunicorn master we started; stopped by PID."""

    port: int
    process: subprocess.Popen

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        """One request on a new connection (so any worker may answer)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
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

    def worker_pids(self) -> list[int]:
        """PIDs of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        """Graceful stop, then kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_gunicorn(env: dict[str, str], workers: int = 2) -> Gunicorn:
    """Start ``gunicorn wsgi:app`` with ``env`` and wait until /healthz answers."""
    port = free_port()
    full_env = {
        **os.environ,
        "FYNIX_ENV": "production",
        "SECRET_KEY": "gunicorn-test-secret-key-0123456789",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "RATELIMIT_ENABLED": "false",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8192",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Gunicorn(port=port, process=process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if server.request("GET", "/healthz")[0] == 200 and len(server.worker_pids()) >= workers:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("gunicorn did not become ready")
