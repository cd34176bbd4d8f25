"""A WSGI layer that sends cache HITs without entering Flask (``fynix.caching.fastpath``).

The answer is the one Flask would send for the same HIT, header for header: the cache's own
headers, the request id and the security headers come from the same functions the Flask
path uses. Everything that is not a clean HIT goes to Flask unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.http import parse_etags

from fynix.caching.fastpath import FastHits
from fynix.logging_setup import request_id_for
from fynix.security import json_security_headers

StartResponse = Callable[..., Any]


class HitServer:
    """WSGI middleware answering cache HITs of static GET routes before Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app
        self.hits = FastHits(app)
        self.security = json_security_headers(app.config.get("ENV_NAME") == "production")

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        """Send the HIT, or let Flask answer."""
        found = self.hits.answer(environ)
        if found is None:
            return self.wsgi_app(environ, start_response)
        route, answer = found
        environ["fynix.route"] = route.rule  # the request metrics' label
        not_modified = bool(answer.if_none_match) and parse_etags(
            answer.if_none_match
        ).contains_weak(answer.etag.strip('"'))
        body = b"" if not_modified or environ["REQUEST_METHOD"] == "HEAD" else answer.body
        # A 304 carries no entity headers (as Werkzeug sends it).
        entity = (
            []
            if not_modified
            else [
                ("Content-Type", answer.content_type),
                ("Content-Length", str(len(answer.body))),
            ]
        )
        headers = [
            *entity,
            *answer.headers.items(),
            ("ETag", answer.etag),
            ("X-Cache", answer.state),
            ("Age", str(answer.age)),
            ("X-Request-ID", request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))),
            *self.security,
        ]
        start_response("304 NOT MODIFIED" if not_modified else "200 OK", headers)
        return [body]
