"""Cache warming through the same code path as real requests (the WSGI app itself)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from fynix.caching.hooks import WarmRequest
from fynix.caching.manager import get_manager


def warm_plan(limit_users: int) -> list[WarmRequest]:
    """Every request to send, as the application's warm hook lists them."""
    return get_manager().hooks.warm_requests(max(0, int(limit_users)))


def warm_cache(
    limit_users: int | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Send every planned request; returns how many entries were computed and stored."""
    limit = current_app.config["CACHE_WARM_USERS"] if limit_users is None else limit_users
    app = current_app._get_current_object()
    client = app.test_client()
    warmed = 0
    for planned in warm_plan(limit):
        # A fresh app context per request: a nested request would otherwise share
        # the caller's `g` (and with it the caller's identity).
        with app.app_context():
            response = client.get(planned.path, headers=planned.headers)
        if response.status_code == 200 and response.headers.get("X-Cache") == "MISS":
            warmed += 1
        if progress is not None:
            progress(1)
    return warmed
