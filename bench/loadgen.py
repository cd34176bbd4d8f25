"""A small HTTP/1.1 load generator: raw sockets, keep-alive when the server allows it.

Requests are prebuilt bytes, responses are parsed just enough (status, headers,
Content-Length body), so one Python process can drive a Flask server on the same
two cores without becoming the bottleneck it measures.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.common import percentile


def build_request(
    method: str, path: str, headers: dict | None = None, body: bytes | None = None
) -> bytes:
    """The bytes of one HTTP/1.1 request to 127.0.0.1."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


@dataclass
class Response:
    """What the harness needs of a response."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One client connection; reconnects when the server closes (gunicorn sync workers)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        """Close the socket."""
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def request(self, raw: bytes) -> Response:
        """Send one request and read its response (one retry on a stale keep-alive socket)."""
        for attempt in (1, 2):
            fresh = self.sock is None
            if fresh:
                self.sock = socket.create_connection(self.address, timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(raw)
                return self._read()
            except (ConnectionError, _Closed):
                self.close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed
        self.buffer += chunk

    def _read(self) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            raise RuntimeError("chunked responses are not supported by the bench client")
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, body)


class _Closed(Exception):
    """The server closed the connection."""


@dataclass
class LoadResult:
    """Counts and latencies of one load run."""

    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    x_cache: Counter = field(default_factory=Counter)
    errors: int = 0

    def summary(self) -> dict:
        """req/s, p50, p90, p99 and the status and X-Cache counts."""
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies_ms, 50), 3),
            "p90_ms": round(percentile(self.latencies_ms, 90), 3),
            "p99_ms": round(percentile(self.latencies_ms, 99), 3),
            "statuses": dict(self.statuses),
            "x_cache": dict(self.x_cache),
            "errors": self.errors,
        }


def run_load(
    address: tuple[str, int],
    raw: bytes,
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 0.5,
    max_requests: int = 1_000_000,
) -> LoadResult:
    """Hammer one request from ``concurrency`` connections for ``seconds`` (after warm-up)."""
    result = LoadResult()
    lock = threading.Lock()
    start_at = time.perf_counter() + warmup
    stop_at = start_at + seconds

    def worker() -> None:
        conn = Connection(*address)
        local = LoadResult()
        try:
            while (now := time.perf_counter()) < stop_at and local.requests < max_requests:
                try:
                    response = conn.request(raw)
                except OSError:
                    local.errors += 1
                    conn.close()
                    continue
                if now >= start_at:
                    local.latencies_ms.append((time.perf_counter() - now) * 1000)
                    local.requests += 1
                    local.statuses[response.status] += 1
                    local.x_cache[response.headers.get("x-cache", "-")] += 1
        finally:
            conn.close()
        with lock:
            result.requests += local.requests
            result.latencies_ms.extend(local.latencies_ms)
            result.statuses.update(local.statuses)
            result.x_cache.update(local.x_cache)
            result.errors += local.errors

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    result.seconds = seconds
    return result


def fetch(address: tuple[str, int], raw: bytes) -> Response:
    """One request on a fresh connection."""
    conn = Connection(*address)
    try:
        return conn.request(raw)
    finally:
        conn.close()
