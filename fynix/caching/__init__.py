"""Per-user response caching: keys, entries, invalidation, stats and fallback.

This package is the only place that builds keys, stores entries, invalidates and
counts. Services say what changed through ``fynix.caching.events``.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from fynix.caching.manager import CacheManager, build_store, get_manager

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_cache(app: Flask) -> None:
    """Bind the backend chosen by the configuration and install the mutation safety net."""
    manager = CacheManager(app, build_store(app))
    app.extensions["fynix_cache"] = manager
    if manager.enabled:
        app.after_request(_invalidate_after_mutation)


def _invalidate_after_mutation(response: Response) -> Response:
    """A successful API write bumps the writer's generations of that blueprint's namespaces.

    Services already declare precise dependencies through ``events``; this catches a
    write path that forgot to, and skips what the request already invalidated.
    """
    if request.method in MUTATING_METHODS and 200 <= response.status_code < 300:
        from fynix.auth.guard import bearer_user_id
        from fynix.caching import keys
        from fynix.caching.decorator import MUTATION_NAMESPACES
        from fynix.caching.namespaces import NAMESPACES

        namespaces = MUTATION_NAMESPACES.get(request.blueprint or "", set())
        user_id = bearer_user_id()
        manager = get_manager()
        done = g.get("cache_bumped", set())
        gen_keys = [
            keys.gen_key(
                manager.prefix, ns, keys.scope_of(user_id if NAMESPACES[ns].per_user else None)
            )
            for ns in namespaces
            if user_id is not None or not NAMESPACES[ns].per_user
        ]
        manager.bump([key for key in gen_keys if key not in done])
    return response


def cache_health() -> dict:
    """``{status, backend, latency_ms}`` of the cache backend."""
    from fynix.caching.manage import health

    return health()
