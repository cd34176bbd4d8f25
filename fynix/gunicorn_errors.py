"""gunicorn's own error responses (a request it cannot parse) in Fynix's JSON envelope.

gunicorn answers a request line, header or URL it refuses (400, 414, 431, ...) itself,
before the app sees it, with ``gunicorn.util.write_error``, which writes HTML. Its
workers call that function through the module (``util.write_error(...)`` in
``Worker.handle_error``), so replacing the module attribute in each worker
(gunicorn.conf.py's ``post_fork``) makes those answers JSON. This leans on a gunicorn
internal: tests/test_gunicorn_errors.py runs a real gunicorn so an upgrade that stops
calling it fails loudly.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

from fynix.errors import envelope


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error``: the same status, as Fynix's JSON envelope."""
    body = json.dumps(envelope(status_int, mesg or reason)).encode("ascii")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    """Make this process's gunicorn worker write its own errors as JSON."""
    util.write_error = write_json_error
