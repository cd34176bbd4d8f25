"""What deciding a cache HIT needs of a request, read from Flask's request or straight from
the WSGI environ (the fast path answers HITs before Flask dispatches), so both paths run
the same decision on the same inputs."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler)
from flask import g, request
from werkzeug.datastructures import ImmutableMultiDict


class HitRequest(NamedTuple):
    """The parts of a GET that a cached answer depends on or is checked against."""

    endpoint: str
    view_args: dict
    query_string: bytes
    authorization: str
    if_none_match: str
    login_required: bool
    vary: dict[str, str]

    @staticmethod
    def from_flask(vary_headers: tuple[str, ...] = ()) -> HitRequest:
        """The current Flask request (inside the view: routing and guards have run)."""
        headers = request.headers
        return HitRequest(
            endpoint=request.endpoint or "",
            view_args=request.view_args or {},
            query_string=request.query_string,
            authorization=headers.get("Authorization", ""),
            if_none_match=headers.get("If-None-Match", ""),
            login_required=bool(g.get("login_required")),
            vary={name: headers.get(name, "") for name in vary_headers},
        )


@lru_cache(maxsize=1024)
def query_args(query_string: bytes) -> ImmutableMultiDict | None:
    """The query arguments exactly as Werkzeug parses ``request.args``; None when the
    query string is not UTF-8 (the view then answers)."""
    try:
        text = query_string.decode()
    except UnicodeDecodeError:
        return None
    return ImmutableMultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))
