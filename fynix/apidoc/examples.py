"""Request and response examples of every operation (the README's walk-through, as data)."""

from __future__ import annotations

AT = "2026-01-05T14:30:00+00:00"
ADA = {"id": 7, "email": "ada@example.com", "username": "ada", "is_admin": False, "created_at": AT}
POSITION = {
    "id": 12,
    "symbol": "AAPL",
    "quantity": "10.00",
    "average_cost": "150.00",
    "created_at": AT,
    "updated_at": AT,
}
QUOTE = {"symbol": "AAPL", "price": "189.50", "currency": "USD", "updated_at": AT}
NOTIFICATION = {
    "id": 31,
    "user_id": 7,
    "type": "system",
    "title": "Welcome",
    "body": "Hello Ada",
    "is_read": False,
    "created_at": AT,
    "read_at": None,
}
INTERACTION = {
    "id": 5,
    "session_id": "browser-tab-1",
    "thread_id": "3f2a9c0d41b84e5e9b1f7c2d8a6e4b10",
    "prompt": "What is my largest holding?",
    "response": "Your largest holding is AAPL: 83.5% of your portfolio's market value.",
    "created_at": AT,
}
COUNTERS = {"hits": 120, "misses": 30, "bypasses": 0, "errors": 0, "hit_ratio": 0.8}


def page(item: dict) -> dict:
    """A one-item first page."""
    return {"items": [item], "page": 1, "per_page": 20, "total": 1}


# operationId -> request body example.
REQUESTS: dict[str, dict] = {
    "registerUser": {
        "email": "ada@example.com",
        "username": "ada",
        "password": "analytical-engine",
    },
    "loginUser": {"login": "ada", "password": "analytical-engine"},
    "changePassword": {
        "current_password": "analytical-engine",
        "new_password": "difference-engine-2",
    },
    "updateMyProfile": {"username": "ada.lovelace"},
    "createPosition": {"symbol": "AAPL", "quantity": "10", "average_cost": "150.00"},
    "updatePosition": {"quantity": "12.5"},
    "putQuote": {"price": "189.50", "currency": "USD"},
    "sendNotification": {"user_id": 7, "type": "system", "title": "Welcome", "body": "Hello Ada"},
    "askAssistant": {"prompt": "What is my largest holding?", "session_id": "browser-tab-1"},
}

# operationId -> {status: response body example}.
RESPONSES: dict[str, dict[int, object]] = {
    "registerUser": {201: ADA},
    "loginUser": {
        200: {"access_token": "eyJhbGciOi...", "token_type": "Bearer", "expires_in": 3600}
    },
    "getMyProfile": {200: ADA},
    "updateMyProfile": {200: {**ADA, "username": "ada.lovelace"}},
    "listPositions": {200: page(POSITION)},
    "createPosition": {201: POSITION},
    "getPosition": {200: POSITION},
    "updatePosition": {200: {**POSITION, "quantity": "12.50"}},
    "getPortfolioSummary": {
        200: {
            "positions_count": 2,
            "total_cost": "1600.00",
            "market_value": "1995.00",
            "unrealized_pnl": "395.00",
            "unrealized_pnl_pct": "24.69",
            "holdings": [
                {
                    "symbol": "AAPL",
                    "quantity": "10.00",
                    "average_cost": "150.00",
                    "price": "189.50",
                    "price_source": "quote",
                    "currency": "USD",
                    "market_value": "1895.00",
                    "cost": "1500.00",
                    "unrealized_pnl": "395.00",
                    "weight": "0.9499",
                },
                {
                    "symbol": "XYZ",
                    "quantity": "2.50",
                    "average_cost": "40.00",
                    "price": "40.00",
                    "price_source": "cost",
                    "currency": None,
                    "market_value": "100.00",
                    "cost": "100.00",
                    "unrealized_pnl": "0.00",
                    "weight": "0.0501",
                },
            ],
            "as_of": AT,
        }
    },
    "listQuotes": {200: {"items": [QUOTE], "missing": ["XYZ"]}},
    "getQuote": {200: QUOTE},
    "putQuote": {200: QUOTE, 201: QUOTE},
    "getMarketOverview": {200: {"items": [QUOTE], "count": 1, "as_of": AT}},
    "listNotifications": {200: page(NOTIFICATION)},
    "sendNotification": {201: NOTIFICATION},
    "getUnreadCount": {200: {"unread_count": 1}},
    "markAllNotificationsRead": {200: {"updated": 1}},
    "markNotificationRead": {200: {**NOTIFICATION, "is_read": True, "read_at": AT}},
    "askAssistant": {201: INTERACTION},
    "listThreads": {
        200: page(
            {
                "thread_id": INTERACTION["thread_id"],
                "session_id": "browser-tab-1",
                "started_at": AT,
                "last_activity_at": AT,
                "interactions_count": 1,
                "title": "What is my largest holding?",
            }
        )
    },
    "getThread": {
        200: {
            "thread_id": INTERACTION["thread_id"],
            "session_id": "browser-tab-1",
            "interactions": [INTERACTION],
        }
    },
    "getCacheStats": {
        200: {
            "namespaces": {
                "portfolio": {
                    **COUNTERS,
                    "target_hit_ratio": 0.7,
                    "keys": 87,
                    "memory_bytes": 181240,
                    "ttl": 300,
                }
            },
            "totals": COUNTERS,
            "redis": {
                "status": "ok",
                "backend": "redis",
                "latency_ms": 0.31,
                "used_memory_bytes": 1843200,
            },
            "breaker": {"state": "closed", "failures": 0, "pending_invalidations": 0},
        }
    },
    "clearCache": {200: {"deleted": 412}},
    "warmCache": {200: {"warmed": 96}},
    "clearCachePattern": {200: {"deleted": 40}},
    "getCacheHealth": {
        200: {
            "status": "ok",
            "backend": "redis",
            "latency_ms": 0.28,
            "breaker": "closed",
            "pending": 0,
            "process": 4242,
        }
    },
}
