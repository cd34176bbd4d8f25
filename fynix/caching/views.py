"""/cache: cache management for admins (stats, clear, warm, pattern clear, health)."""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from fynix.caching import manage
from fynix.caching.manager import Bypass, get_manager
from fynix.caching.schemas import (
    CacheHealthSchema,
    CacheStatsSchema,
    DeletedSchema,
    WarmArgsSchema,
    WarmedSchema,
)
from fynix.common.api import Blueprint, ErrorSchema, document_refusals
from fynix.errors import APIError

blp = Blueprint("caching", __name__, url_prefix="/cache", description="Cache management (admin)")


@blp.before_request
def _admins_only() -> None:
    """Every route here is for administrators (the app's guard, handed over as a hook);
    OPTIONS only names the methods, as on every other route."""
    if request.method != "OPTIONS":
        get_manager().hooks.require_admin()


def admins_only(view: Callable) -> Callable:
    """Document the guard's refusals on a route of this blueprint."""
    return document_refusals(view, 401, 403)


def _unavailable() -> APIError:
    return APIError("The cache backend is unavailable; retry shortly.", 503, retry_after=2)


@blp.get("/stats")
@admins_only
@blp.response(200, CacheStatsSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The cache backend is unavailable")
def get_stats():
    """Hits, misses, ratios against targets, entries and memory per namespace."""
    try:
        return manage.get_stats()
    except Bypass:
        raise _unavailable() from None


@blp.post("/clear")
@admins_only
@blp.response(200, DeletedSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The cache backend is unavailable")
def clear_cache():
    """Drop every entry of this application."""
    try:
        return {"deleted": manage.clear_all()}
    except Bypass:
        raise _unavailable() from None


@blp.post("/warm")
@admins_only
@blp.arguments(WarmArgsSchema, location="query")
@blp.response(200, WarmedSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The cache backend is unavailable")
def warm_cache(args: dict):
    """Pre-populate public data, quotes and the most recently active users' entries."""
    try:
        return {"warmed": manage.warm(args.get("users"))}
    except Bypass:
        raise _unavailable() from None


@blp.delete(
    "/pattern/<path:pattern>",
    parameters=[
        {
            "in": "path",
            "name": "pattern",
            "description": "Glob over the keys after the prefix: 1-200 printable ASCII, no space",
            "schema": {
                "type": "string",
                "pattern": manage.PATTERN_RE.pattern,
                "example": "market:*",
            },
        }
    ],
)
@admins_only
@blp.response(200, DeletedSchema)
@blp.alt_response(422, schema=ErrorSchema, description="Not 1-200 printable characters")
@blp.alt_response(503, schema=ErrorSchema, description="The cache backend is unavailable")
def clear_pattern(pattern: str):
    """Drop this application's entries whose key (after the prefix) matches a glob."""
    try:
        return {"deleted": manage.clear_pattern(pattern)}
    except ValueError as exc:
        raise APIError(str(exc), 422, errors={"pattern": [str(exc)]}) from None
    except Bypass:
        raise _unavailable() from None


@blp.get("/health")
@admins_only
@blp.response(200, CacheHealthSchema)
def get_health():
    """Status, backend and latency of the cache."""
    return manage.health()
