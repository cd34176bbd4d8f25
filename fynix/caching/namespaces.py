"""The cache namespaces: TTL setting, hit-ratio target, and whose data they hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Namespace:
    """A family of cached endpoints that are invalidated together."""

    name: str
    ttl_setting: str
    target_hit_ratio: float | None
    per_user: bool
    visibility: str  # Cache-Control: "private" or "public"


NAMESPACES: dict[str, Namespace] = {
    ns.name: ns
    for ns in (
        Namespace("portfolio", "CACHE_TTL_PORTFOLIO", 0.85, True, "private"),
        Namespace("notifications", "CACHE_TTL_NOTIFICATIONS", 0.75, True, "private"),
        # Quotes are the same for every user but need a token: one shared entry, private.
        Namespace("market", "CACHE_TTL_MARKET", None, False, "private"),
        Namespace("ai", "CACHE_TTL_AI", None, True, "private"),
        Namespace("public", "CACHE_TTL_PUBLIC", 0.90, False, "public"),
        Namespace("user", "CACHE_TTL_USER", 0.80, True, "private"),
    )
}

# Settings that may also serve as an endpoint's TTL (e.g. the unread count).
EXTRA_TTL_SETTINGS = ("CACHE_TTL_UNREAD_COUNT",)
