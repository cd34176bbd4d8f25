"""/cache: cache management for admins (stats, clear, warm, pattern clear, health)."""

from __future__ import annotations

from fynix.auth.guard import admin_required
from fynix.caching import manage
from fynix.caching.manager import Bypass
from fynix.caching.schemas import (
    CacheHealthSchema,
    CacheStatsSchema,
    DeletedSchema,
    WarmArgsSchema,
    WarmedSchema,
)
from fynix.common.api import Blueprint, ErrorSchema
from fynix.errors import APIError

blp = Blueprint("caching", __name__, url_prefix="/cache", description="Cache management (admin)")


def _unavailable() -> APIError:
    return APIError("The cache backend is unavailable; retry shortly.", 503, retry_after=2)


@blp.get("/stats")
@admin_required
@blp.response(200, CacheStatsSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The cache backend is unavailable")
def get_stats():
    """Hits, misses, ratios against targets, entries and memory per namespace."""
    try:
        return manage.get_stats()
    except Bypass:
        raise _unavailable() from None


@blp.post("/clear")
@admin_required
@blp.response(200, DeletedSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The cache backend is unavailable")
def clear_cache():
    """Drop every entry of this application."""
    try:
        return {"deleted": manage.clear_all()}
    except Bypass:
        raise _unavailable() from None


@blp.post("/warm")
@admin_required
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
@admin_required
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
@admin_required
@blp.response(200, CacheHealthSchema)
def get_health():
    """Status, backend and latency of the cache."""
    return manage.health()
