"""Per-user response caching: keys, entries, invalidation, stats and fallback.

This package is the only place that builds keys, stores entries, invalidates and counts.
Services say what changed through ``fynix.caching.events``; the app factory tells the
package who is calling and what to warm through ``CacheHooks`` (it imports no feature).
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from fynix.caching.backends import build_store, redis_target
from fynix.caching.hooks import CacheHooks, Identity, SharedSource, WarmRequest
from fynix.caching.hostgens import host_file
from fynix.caching.incarnation import ServerWatch
from fynix.caching.manager import CacheManager, get_manager
from fynix.caching.owed import OwedInvalidations
from fynix.caching.shared import SharedCopy
from fynix.caching.store import RedisStore

__all__ = ["CacheHooks", "Identity", "SharedSource", "WarmRequest", "get_manager", "init_cache"]

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_cache(app: Flask, hooks: CacheHooks) -> None:
    """Bind the backend chosen by the configuration; in testing, check every write."""
    manager = CacheManager(app.config, build_store(app))
    manager.hooks = hooks
    if isinstance(manager.store, RedisStore):
        directory = app.config.get("CACHE_LOCAL_DIR") or app.instance_path
        target = redis_target(app.config)
        owed = host_file(directory, "owed", manager.prefix, target, "txt")
        manager.owed = OwedInvalidations(owed)
        manager.server_watch = ServerWatch(
            host_file(directory, "server", manager.prefix, target, "txt")
        )
    namespaces = [source.namespace for source in hooks.shared]
    if len(set(namespaces)) != len(namespaces):  # each is published with its own generation
        raise ValueError("one shared source per namespace")
    manager.shared = {source.name: SharedCopy(source) for source in hooks.shared}
    app.extensions["fynix_cache"] = manager
    if app.testing:
        app.after_request(check_announced)


def check_announced(response: Response) -> Response:
    """Testing only: a successful API write that announced no change fails loudly.

    A forgotten ``events`` call would otherwise leave stale entries that only a test
    reading the right endpoint at the right moment would notice.
    """
    is_api_write = request.method in MUTATING_METHODS and request.path.startswith("/api/")
    if is_api_write and 200 <= response.status_code < 300 and "cache_announced" not in g:
        raise AssertionError(
            f"{request.method} {request.path} succeeded without announcing what it changed "
            "(call a fynix.caching.events function after the commit)"
        )
    return response
