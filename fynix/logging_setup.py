"""Structured JSON logs; every line carries the request id of the request that wrote it."""

from __future__ import annotations

import logging
import os
import re
import sys

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestIdFilter(logging.Filter):
    """Stamp request_id (or "-" outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    """Send the app's and gunicorn's logs to stderr as JSON lines (or text if LOG_JSON=false)."""
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LOG_JSON"]:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("fynix")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False


def request_id_for(incoming: str) -> str:
    """The caller's X-Request-ID when it is sane, else a new one."""
    if incoming and REQUEST_ID_RE.match(incoming):
        return incoming
    return os.urandom(16).hex()  # as unique as a uuid4, at a fraction of its cost


def assign_request_id() -> None:
    """Give the request its id (logged on every line, echoed in X-Request-ID)."""
    g.request_id = request_id_for(request.headers.get("X-Request-ID", ""))


def echo_request_id(response: Response) -> Response:
    """Return the request id to the caller."""
    request_id = getattr(g, "request_id", None)
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


def register_request_id(app: Flask) -> None:
    """Hook the request id into every request of ``app``."""
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
