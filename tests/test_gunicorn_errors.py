"""What a real gunicorn answers to requests it refuses itself: Fynix's JSON envelope, not HTML.

gunicorn parses the request line and headers before the app runs and answers a refusal on
its own (fynix/gunicorn_errors.py makes that answer JSON through a gunicorn internal). These
raw-socket requests pin that internal: a gunicorn upgrade that stops using it fails here.
"""

from __future__ import annotations

import inspect
import json
import socket

import gunicorn.util
import pytest

from tests.gunicorn_server import start_gunicorn

pytestmark = pytest.mark.slow
LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def server(database_url):
    """One gunicorn worker with the shipped gunicorn.conf.py."""
    instance = start_gunicorn({"DATABASE_URL": database_url}, workers=1)
    yield instance
    instance.stop()


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` on a new connection; (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_json_error(answer: tuple[int, dict, bytes], status: int) -> dict:
    got, headers, body = answer
    assert got == status, body[:300]
    assert headers["content-type"].startswith("application/json"), body[:300]
    document = json.loads(body)
    assert document["status"] == status
    assert {"status", "error", "message"} <= set(document)
    return document


def request(path: str = "/healthz", headers: str = "", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode("latin-1")


def test_the_patched_gunicorn_internal_still_has_its_shape():
    assert list(inspect.signature(gunicorn.util.write_error).parameters) == [
        "sock",
        "status_int",
        "reason",
        "mesg",
    ]


def test_a_long_url_is_414_json(server):
    answer = exchange(server.port, request("/api/portfolio/positions?q=" + "a" * 5000))
    assert_json_error(answer, 414)


@pytest.mark.parametrize(
    "raw",
    [
        b"NONSENSE\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /health z HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nBad Header: x\r\n\r\n",
    ],
    ids=["no-request-line", "bad-version", "space-in-path", "bad-method", "bad-header-name"],
)
def test_a_malformed_request_is_400_json(server, raw):
    assert_json_error(exchange(server.port, raw), 400)


def test_a_header_too_large_is_431_json(server):
    answer = exchange(server.port, request(headers=f"X-Big: {'b' * 9000}\r\n"))
    assert_json_error(answer, 431)


def test_too_many_headers_is_431_json(server):
    many = "".join(f"X-H{index}: v\r\n" for index in range(150))
    assert_json_error(exchange(server.port, request(headers=many)), 431)


def test_a_body_announced_over_the_limit_is_413_before_it_is_sent(server):
    head = request(
        "/api/auth/login",
        f"Content-Type: application/json\r\nContent-Length: {50 * LIMIT}\r\n",
        method="POST",
    )
    document = assert_json_error(exchange(server.port, head), 413)
    assert str(LIMIT) in document["message"]


def test_a_chunked_body_over_the_limit_is_413(server):
    head = request(
        "/api/auth/login",
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        method="POST",
    )
    body = b"[" + b"1," * (LIMIT // 2) + b"1]"
    chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    assert_json_error(exchange(server.port, head + chunk), 413)


def test_app_errors_through_gunicorn_stay_json(server):
    answer = exchange(server.port, request("/no/such/page"))
    assert_json_error(answer, 404)
