"""Each documented operation's id (camelCase verb-noun) and description, by method and path."""

from __future__ import annotations

# (method, path) -> (operationId, description). A test checks that every operation is here.
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("post", "/api/auth/register"): (
        "registerUser",
        "Creates an account. The email and username are stored lower-case and must be "
        "unused (409). Answers the new user, never the password.",
    ),
    ("post", "/api/auth/login"): (
        "loginUser",
        "Exchanges a login (the email or the username) and the password for a bearer token "
        "valid for `expires_in` seconds. A wrong login or password is 401 either way.",
    ),
    ("post", "/api/auth/password"): (
        "changePassword",
        "Sets a new password. Every token issued before the change, this one included, is "
        "refused afterwards (401), on cached answers too. A wrong current password is 403; "
        "a new password equal to the current one is 422.",
    ),
    ("post", "/api/auth/logout"): (
        "logoutUser",
        "Ends the token of this request: it is refused afterwards (401), on cached answers "
        "too. Other tokens of the user keep working.",
    ),
    ("get", "/api/users/me"): ("getMyProfile", "Answers the caller's own account."),
    ("patch", "/api/users/me"): (
        "updateMyProfile",
        "Changes the username and/or the email (at least one of them: an empty object is "
        "422). A value another account uses is 409.",
    ),
    ("get", "/api/portfolio/positions"): (
        "listPositions",
        "Lists the caller's positions ordered by symbol, one page at a time; `symbol` "
        "keeps only the position in that symbol.",
    ),
    ("post", "/api/portfolio/positions"): (
        "createPosition",
        "Opens a position. There is one position per symbol: a second one is 409 (change "
        "the existing one instead). The quantity is above 0; the average cost may be 0.",
    ),
    ("get", "/api/portfolio/positions/{position_id}"): (
        "getPosition",
        "Answers one of the caller's positions; an unknown id or another user's is 404.",
    ),
    ("patch", "/api/portfolio/positions/{position_id}"): (
        "updatePosition",
        "Changes the quantity and/or the average cost (at least one of them: an empty "
        "object is 422) of one of the caller's positions.",
    ),
    ("delete", "/api/portfolio/positions/{position_id}"): (
        "deletePosition",
        "Closes one of the caller's positions: 204, and the position is gone (404 after).",
    ),
    ("get", "/api/portfolio/summary"): (
        "getPortfolioSummary",
        "Values every position at its symbol's last quote; a symbol without a quote is "
        'valued at cost and marked `"price_source": "cost"`. Totals are exact sums of the '
        "rounded holdings.",
    ),
    ("get", "/api/market/quotes"): (
        "listQuotes",
        "Answers the quotes of up to 50 symbols in the order asked; symbols without a "
        "quote are listed under `missing`. Repeated symbols are answered once.",
    ),
    ("get", "/api/market/quotes/{symbol}"): (
        "getQuote",
        "Answers the last price of one symbol (any case); an unknown symbol is 404.",
    ),
    ("put", "/api/market/quotes/{symbol}"): (
        "putQuote",
        "Creates (201) or replaces (200) the quote of a symbol. Administrators only.",
    ),
    ("get", "/api/public/market-overview"): (
        "getMarketOverview",
        "Every quoted symbol with its last price, ordered by symbol. No token needed: the "
        "same cached answer for everyone.",
    ),
    ("get", "/api/notifications"): (
        "listNotifications",
        "Lists the caller's notifications, newest first, one page at a time; `unread` and "
        "`type` filter them.",
    ),
    ("post", "/api/notifications"): (
        "sendNotification",
        "Delivers a notification to the user `user_id` (404 when there is no such user). "
        "Administrators only.",
    ),
    ("get", "/api/notifications/unread-count"): (
        "getUnreadCount",
        "Counts the caller's unread notifications.",
    ),
    ("post", "/api/notifications/read-all"): (
        "markAllNotificationsRead",
        "Marks every unread notification of the caller read; answers how many changed.",
    ),
    ("post", "/api/notifications/{notification_id}/read"): (
        "markNotificationRead",
        "Marks one of the caller's notifications read (again: no change) and answers it.",
    ),
    ("delete", "/api/notifications/{notification_id}"): (
        "deleteNotification",
        "Deletes one of the caller's notifications: 204, and it is gone (404 after).",
    ),
    ("post", "/api/ai/interactions"): (
        "askAssistant",
        "Asks the assistant a question about the caller's portfolio. Without `thread_id` "
        "a new thread starts; with one, the thread continues in its own session: a "
        "different `session_id` is 409, another user's thread 404.",
    ),
    ("get", "/api/ai/threads"): (
        "listThreads",
        "Lists the caller's threads, most recently active first, one page at a time.",
    ),
    ("get", "/api/ai/threads/{thread_id}"): (
        "getThread",
        "Answers one of the caller's threads with its interactions, oldest first.",
    ),
    ("get", "/cache/stats"): (
        "getCacheStats",
        "Hits, misses, hit ratios against their targets, entries and memory per cache "
        "namespace, with totals. Administrators only.",
    ),
    ("post", "/cache/clear"): (
        "clearCache",
        "Drops every cache entry of this application (other keys of the Redis database are "
        "kept). Administrators only.",
    ),
    ("post", "/cache/warm"): (
        "warmCache",
        "Fills the cache with public data, quotes and the entries of the most recently "
        "active users (`users` of them). Administrators only.",
    ),
    ("delete", "/cache/pattern/{pattern}"): (
        "clearCachePattern",
        "Drops this application's entries whose key, after the application's prefix, "
        "matches a glob. Administrators only.",
    ),
    ("get", "/cache/health"): (
        "getCacheHealth",
        "Status, backend and latency of the cache as the answering process sees it. "
        "Administrators only.",
    ),
    ("get", "/healthz"): (
        "getLiveness",
        "Liveness probe: 200 while the process serves requests. Nothing else is checked.",
    ),
    ("get", "/readyz"): (
        "getReadiness",
        "Readiness probe: 200 when the database answers and its schema is at the latest "
        'migration, else 503. A cache outage is reported as `"degraded"` with 200, since '
        "the API then serves from the database.",
    ),
    ("get", "/metrics"): (
        "getMetrics",
        "Prometheus text format: requests per route, method and status with latency "
        "histograms, cache, breaker, database pool and feed metrics, summed over the "
        "workers. Needs `Authorization: Bearer <METRICS_TOKEN>` when that is set.",
    ),
}
