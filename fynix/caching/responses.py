"""Cached answers as HTTP responses: headers, ETag and 304, BYPASS."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Response, current_app, request

from fynix.caching.entries import make_etag
from fynix.caching.manager import CacheManager


@lru_cache(maxsize=64)
def cache_headers(visibility: str, per_user: bool, vary: tuple[str, ...]) -> dict[str, str]:
    """Any HTTP cache may keep the answer but must revalidate it (a HIT answers 304), so no
    browser or proxy ever shows a response the server would no longer serve."""
    headers = {"Cache-Control": f"{visibility}, no-cache"}
    varies = (["Authorization"] if per_user else []) + [h.title() for h in vary]
    if varies:
        headers["Vary"] = ", ".join(varies)
    return headers


def respond(
    body: bytes, etag: str, state: str, headers: dict, mimetype: str, age: int | None
) -> Response:
    """A cached or freshly computed 200, or 304 when the client's ETag matches."""
    not_modified = request.if_none_match.contains_weak(etag.strip('"'))
    response = current_app.response_class(
        b"" if not_modified else body, status=304 if not_modified else 200, mimetype=mimetype
    )
    response.headers.update(headers)
    response.headers["ETag"] = etag
    response.headers["X-Cache"] = state
    if age is not None:
        response.headers["Age"] = str(age)
    return response


def bypass(result: Any, manager: CacheManager, namespace: str, headers: dict) -> Response:
    """Serve straight from the database, marked BYPASS (cache disabled or unreachable)."""
    response = current_app.make_response(result)
    if manager.enabled:
        manager.count(namespace, "bypasses")
    if response.status_code == 200 and not response.direct_passthrough:
        body = response.get_data()
        return respond(body, make_etag(body), "BYPASS", headers, response.mimetype, None)
    response.headers["X-Cache"] = "BYPASS"
    return response
