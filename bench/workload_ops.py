"""The workload's requests: what each read asks and shows, what each write changes."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

FEED_SYMBOLS = 50  # the feed moves the 50 most-held symbols (market feed --most-held 50)

# read kind -> (path, namespace)
READ_PATHS = {
    "summary": ("/api/portfolio/summary", "portfolio"),
    "notifications": ("/api/notifications", "notifications"),
    "unread_count": ("/api/notifications/unread-count", "notifications"),
    "public": ("/api/public/market-overview", "public"),
    "me": ("/api/users/me", "user"),
    "threads": ("/api/ai/threads", "ai"),
}
WRITES = ("add_position", "delete_position", "read_all", "ask_ai")
# what a write changes, for the write mix of the report ("feed_batch": the quote feed)
WRITE_CATEGORIES = {
    "feed_batch": "quote batch",
    "add_position": "position write",
    "delete_position": "position write",
    "read_all": "notification write",
    "ask_ai": "AI write",
}
INVALIDATES = {
    "quote batch": "the price book only (one shared generation; no user's entries)",
    "position write": "that user's holdings (portfolio)",
    "notification write": "that user's notifications",
    "AI write": "that user's AI entries",
}
# read kind -> the config setting of its TTL (fynix/caching/presets.py)
TTL_SETTINGS = {
    "summary": "CACHE_TTL_PORTFOLIO",
    "notifications": "CACHE_TTL_NOTIFICATIONS",
    "unread_count": "CACHE_TTL_UNREAD_COUNT",
    "public": "CACHE_TTL_PUBLIC",
    "me": "CACHE_TTL_USER",
    "threads": "CACHE_TTL_AI",
}
TRUTH = {
    "positions": "SELECT count(*) FROM portfolio_positions WHERE user_id = %s",
    "unread": "SELECT count(*) FROM notifications WHERE user_id = %s AND is_read = false",
    "threads": "SELECT count(DISTINCT thread_id) FROM ai_interactions WHERE user_id = %s",
}


def load_context(url: str) -> dict:
    """User ids, the admin, every quoted symbol and the ones the feed moves."""
    from fynix.market.feed.simulated import most_held_stmt

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            users = set(conn.scalars(sa.text("SELECT id FROM users WHERE NOT is_admin")))
            admin = conn.scalar(sa.text("SELECT min(id) FROM users WHERE is_admin"))
            symbols = list(conn.scalars(sa.text("SELECT symbol FROM market_quotes ORDER BY 1")))
            fed = list(conn.scalars(most_held_stmt(FEED_SYMBOLS)))
    finally:
        engine.dispose()
    if admin is None:
        raise RuntimeError("the benchmark database has no admin user: run python -m bench.seed")
    return {"user_ids": users, "admin_id": admin, "symbols": symbols, "fed": fed}


def ttl_seconds(compression: float = 1.0) -> dict[str, float]:
    """Read kind -> its TTL in seconds as the benchmark server reads it: the shipped setting
    divided by ``compression``."""
    from config import ProductionConfig

    return {
        kind: int(getattr(ProductionConfig, name)) / compression
        for kind, name in TTL_SETTINGS.items()
    }


def ttl_environment(compression: float) -> dict[str, str]:
    """The server's CACHE_TTL_* settings for a clock ``compression`` times faster."""
    from config import ProductionConfig

    return {
        name: str(max(1, round(int(getattr(ProductionConfig, name)) / compression)))
        for name in sorted(set(TTL_SETTINGS.values()) | {"CACHE_TTL_MARKET"})
    }


def observe(kind: str, user: int, payload: dict) -> list[tuple[tuple, object]]:
    """The (key, value) pairs a read shows."""
    if kind == "summary":
        shown = [(("positions", user), payload["positions_count"])]
        return shown + [
            (("price", h["symbol"]), h["price"])
            for h in payload["holdings"]
            if h.get("price_source") == "quote"
        ]
    if kind == "unread_count":
        return [(("unread", user), payload["unread_count"])]
    if kind == "threads":
        return [(("threads", user), payload["total"])]
    if kind == "public":
        return [(("price", item["symbol"]), item["price"]) for item in payload["items"]]
    return []


def write_request(kind: str, user: int, roll: float, context: dict, seen: dict) -> tuple:
    """(method, path, body, keys it changes) of a write."""
    if kind == "delete_position" and seen.get("position_ids"):
        position_id = seen["position_ids"].pop()
        return "DELETE", f"/api/portfolio/positions/{position_id}", None, [("positions", user)]
    if kind in {"add_position", "delete_position"}:
        symbols = context["symbols"]
        body = {"symbol": symbols[int(roll * len(symbols)) % len(symbols)], "quantity": "1.5",
                "average_cost": "10.00"}  # fmt: skip
        return "POST", "/api/portfolio/positions", body, [("positions", user)]
    if kind == "read_all":
        return "POST", "/api/notifications/read-all", None, [("unread", user)]
    body = {"prompt": "What is my largest holding?"}
    return "POST", "/api/ai/interactions", body, [("threads", user)]


def remember_write(kind: str, status: int, payload: object, seen: dict) -> None:
    """Keep the id of a position this session opened, so a later write can close it."""
    if kind == "add_position" and status == 201 and isinstance(payload, dict):
        seen.setdefault("position_ids", []).append(payload["id"])


def truth_after(db: psycopg.Connection, key: tuple) -> object:
    """The value of ``key`` in the database right now."""
    kind, subject = key
    return db.execute(TRUTH[kind], (subject,)).fetchone()[0]
