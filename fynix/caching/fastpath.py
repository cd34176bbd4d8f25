"""Cache HITs answered straight from the WSGI environ, before Flask dispatches.

A HIT needs no database, no session, no view: only the route, the Authorization header, the
query string and one Redis round trip. ``FastHits`` finds the cached GET routes of the app
(the views decorated by ``redis_cache`` or ``derived_cache``, whose decision objects they
expose as ``cache_route``) and runs the very same ``read`` as the decorator does inside
Flask. Anything but a clean HIT (a miss, an unknown token, a refused query, Redis down)
returns None and the request goes through Flask as usual, where the decorator decides again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from fynix.caching.decorator import Answer
from fynix.caching.hitrequest import HitRequest
from fynix.caching.manager import Bypass, CacheManager


@dataclass(frozen=True)
class FastRoute:
    """A cached GET route without path arguments."""

    rule: str
    endpoint: str
    view: Any  # CachedView or DerivedView: read(manager, req, json) -> read with .hit
    login_required: bool


class FastHits:
    """The HIT decision of the app's cached routes, reachable from a WSGI environ."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.routes: dict[str, FastRoute] | None = None  # after the blueprints exist

    def answer(self, environ: dict) -> tuple[FastRoute, Answer] | None:
        """The route and the HIT for this GET/HEAD, or None to let Flask answer."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return None
        routes = self.routes if self.routes is not None else self._find_routes()
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return None
        manager: CacheManager = self.app.extensions["fynix_cache"]
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if not manager.enabled or (
            route.login_required and manager.hooks.identity(authorization) is None
        ):
            return None  # Flask answers: BYPASS, or the 401
        req = HitRequest(
            endpoint=route.endpoint,
            view_args={},
            query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
            authorization=authorization,
            if_none_match=environ.get("HTTP_IF_NONE_MATCH", ""),
            login_required=route.login_required,
            vary={},
        )
        try:
            read = route.view.read(manager, req, self.app.json)
        except Bypass:
            return None
        return (route, read.hit) if read is not None and read.hit is not None else None

    def _find_routes(self) -> dict[str, FastRoute]:
        routes = {}
        for rule in self.app.url_map.iter_rules():
            if rule.arguments or "GET" not in (rule.methods or ()):
                continue
            view = self.app.view_functions[rule.endpoint]
            method = getattr(getattr(view, "view_class", None), "get", view)
            cached = getattr(method, "cache_route", None)
            if cached is not None and not cached.vary_headers:
                login = bool(getattr(method, "login_required", False))
                routes[rule.rule] = FastRoute(rule.rule, rule.endpoint, cached, login)
        self.routes = routes
        return routes
