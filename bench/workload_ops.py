"""The workload's operations: what each read asks and shows, what each write changes."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import sqlalchemy as sa

HOT_SYMBOLS = 20  # quote writes and quote reads pick among the most held symbols

# kind -> weight within reads (95%) and within writes (5%)
READS = {
    "summary": 25,
    "positions": 8,
    "notifications": 12,
    "unread_list": 5,
    "unread_count": 20,
    "public": 12,
    "me": 12,
    "quote": 3,
    "threads": 3,
}
WRITES = {
    "add_position": 25,
    "delete_position": 15,
    "mark_read": 20,
    "read_all": 5,
    "rename": 10,
    "ask_ai": 10,
    "put_quote": 10,
    "notify": 5,
}
# what a write changes, for the write mix of the report
WRITE_CATEGORIES = {
    "put_quote": "quote update",
    "add_position": "position write",
    "delete_position": "position write",
    "mark_read": "notification write",
    "read_all": "notification write",
    "notify": "notification write",
    "rename": "profile write",
    "ask_ai": "AI write",
}
INVALIDATES = {
    "quote update": "market, public, and portfolio + AI of every holder of the symbol",
    "position write": "that user's portfolio + AI",
    "notification write": "that user's notifications",
    "profile write": "that user's user entries",
    "AI write": "that user's AI entries",
}
# read kind -> the config setting of its TTL (fynix/caching/presets.py)
TTL_SETTINGS = {
    "summary": "CACHE_TTL_PORTFOLIO",
    "positions": "CACHE_TTL_PORTFOLIO",
    "notifications": "CACHE_TTL_NOTIFICATIONS",
    "unread_list": "CACHE_TTL_NOTIFICATIONS",
    "unread_count": "CACHE_TTL_UNREAD_COUNT",
    "public": "CACHE_TTL_PUBLIC",
    "me": "CACHE_TTL_USER",
    "quote": "CACHE_TTL_MARKET",
    "threads": "CACHE_TTL_AI",
}
READ_PATHS = {
    "summary": ("/api/portfolio/summary", "portfolio"),
    "positions": ("/api/portfolio/positions?per_page=20", "portfolio"),
    "notifications": ("/api/notifications", "notifications"),
    "unread_list": ("/api/notifications?unread=true", "notifications"),
    "unread_count": ("/api/notifications/unread-count", "notifications"),
    "public": ("/api/public/market-overview", "public"),
    "me": ("/api/users/me", "user"),
    "quote": ("/api/market/quotes/{symbol}", "market"),
    "threads": ("/api/ai/threads", "ai"),
}
TRUTH = {
    "positions": "SELECT count(*) FROM portfolio_positions WHERE user_id = %s",
    "unread": "SELECT count(*) FROM notifications WHERE user_id = %s AND is_read = false",
    "notifications_total": "SELECT count(*) FROM notifications WHERE user_id = %s",
    "username": "SELECT username FROM users WHERE id = %s",
    "threads": "SELECT count(DISTINCT thread_id) FROM ai_interactions WHERE user_id = %s",
    "price": "SELECT price FROM market_quotes WHERE symbol = %s",
}


@dataclass(frozen=True)
class Op:
    """One request of the workload: its kind, whose, and a seeded roll for its details."""

    seq: int
    kind: str
    user: int
    roll: float


def load_context(url: str) -> dict:
    """User ids, the admin, all quoted symbols, the hot ones and their holder counts."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            users = set(conn.scalars(sa.text("SELECT id FROM users WHERE NOT is_admin")))
            admin = conn.scalar(sa.text("SELECT min(id) FROM users WHERE is_admin"))
            symbols = list(conn.scalars(sa.text("SELECT symbol FROM market_quotes ORDER BY 1")))
            hot = conn.execute(
                sa.text(
                    "SELECT p.symbol, count(DISTINCT p.user_id) FROM portfolio_positions p "
                    "JOIN market_quotes q ON q.symbol = p.symbol GROUP BY p.symbol "
                    "ORDER BY count(*) DESC, p.symbol LIMIT :n"
                ),
                {"n": HOT_SYMBOLS},
            ).all()
    finally:
        engine.dispose()
    if admin is None:
        raise RuntimeError("the benchmark database has no admin user: run python -m bench.seed")
    return {
        "user_ids": users,
        "admin_id": admin,
        "symbols": symbols,
        "hot": [symbol for symbol, _ in hot],
        "holders": dict(hot),
    }


def ttl_seconds() -> dict[str, int]:
    """Read kind -> its TTL in seconds, as the benchmark server (production config, same
    environment) reads it."""
    from config import ProductionConfig

    return {kind: int(getattr(ProductionConfig, name)) for kind, name in TTL_SETTINGS.items()}


def quote_symbol(op: Op, context: dict) -> str:
    """The hot symbol a quote read or write of ``op`` is about."""
    return _pick(context["hot"], op.roll)


def _pick(items: list, roll: float):
    return items[int(roll * len(items)) % len(items)]


def read_path(op: Op, context: dict) -> tuple[str, str, str]:
    """(method, path, namespace) of a read op."""
    path, namespace = READ_PATHS[op.kind]
    return "GET", path.format(symbol=quote_symbol(op, context)), namespace


def observe(op: Op, payload: dict, seen: dict[str, list[int]]) -> list[tuple[tuple, object]]:
    """The (key, value) pairs a read shows; remembers ids later writes can use."""
    user = op.user
    if op.kind == "summary":
        shown = [(("positions", user), payload["positions_count"])]
        return shown + [
            (("price", h["symbol"]), h["price"])
            for h in payload["holdings"]
            if h.get("price_source") == "quote"
        ]
    if op.kind == "positions":
        seen["positions"] = [item["id"] for item in payload["items"]]
        return [(("positions", user), payload["total"])]
    if op.kind in {"notifications", "unread_list"}:
        seen["unread"] = [item["id"] for item in payload["items"] if not item["is_read"]]
        key = "unread" if op.kind == "unread_list" else "notifications_total"
        return [((key, user), payload["total"])]
    if op.kind == "unread_count":
        return [(("unread", user), payload["unread_count"])]
    if op.kind == "me":
        return [(("username", user), payload["username"])]
    if op.kind == "threads":
        return [(("threads", user), payload["total"])]
    if op.kind == "quote":
        return [(("price", payload["symbol"]), payload["price"])]
    return [(("price", item["symbol"]), item["price"]) for item in payload["items"]]


def write_request(op: Op, context: dict, seen: dict[str, list[int]]) -> tuple:
    """(method, path, body, keys it changes, acting user) of a write op."""
    user, kind = op.user, op.kind
    if kind == "delete_position" and seen.get("positions"):
        position_id = seen["positions"].pop()
        return (
            "DELETE",
            f"/api/portfolio/positions/{position_id}",
            None,
            [("positions", user)],
            user,
        )
    if kind in {"add_position", "delete_position"}:
        body = {"symbol": _pick(context["symbols"], op.roll), "quantity": "1.5",
                "average_cost": "10.00"}  # fmt: skip
        return "POST", "/api/portfolio/positions", body, [("positions", user)], user
    if kind == "mark_read" and seen.get("unread"):
        path = f"/api/notifications/{seen['unread'].pop()}/read"
        return "POST", path, None, [("unread", user)], user
    if kind in {"mark_read", "read_all"}:
        return "POST", "/api/notifications/read-all", None, [("unread", user)], user
    if kind == "rename":
        body = {"username": f"u{user}w{op.seq}"}
        return "PATCH", "/api/users/me", body, [("username", user)], user
    if kind == "ask_ai":
        body = {"prompt": "What is my largest holding?"}
        return "POST", "/api/ai/interactions", body, [("threads", user)], user
    admin = context["admin_id"]
    if kind == "put_quote":
        symbol = quote_symbol(op, context)
        body = {"price": f"{10 + op.roll * 500:.2f}"}
        return "PUT", f"/api/market/quotes/{symbol}", body, [("price", symbol)], admin
    body = {"user_id": user, "type": "system", "title": "Bench", "body": "Workload message"}
    keys = [("unread", user), ("notifications_total", user)]
    return "POST", "/api/notifications", body, keys, admin


def truth_after(db: psycopg.Connection, key: tuple, body: dict | None) -> object:
    """The value of ``key`` in the database right now."""
    kind, subject = key
    value = db.execute(TRUTH[kind], (subject,)).fetchone()[0]
    return str(value) if kind == "price" else value
