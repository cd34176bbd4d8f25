"""Cache warming through the same code path as real requests (the WSGI app itself)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from fynix.auth.tokens import issue_token
from fynix.extensions import db

SHARED_PATHS = ("/api/public/market-overview",)
USER_PATHS = ("/api/portfolio/summary", "/api/notifications/unread-count")
QUOTES_BATCH = 50


def _recent_user_ids(limit: int) -> list[int]:
    from fynix.users.models import User

    statement = (
        select(User.id)
        .order_by(User.last_login_at.desc().nulls_last(), User.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def _symbols() -> list[str]:
    from fynix.market.models import Quote

    return list(db.session.scalars(select(Quote.symbol).order_by(Quote.symbol)))


def warm_plan(limit_users: int) -> list[tuple[str, int | None]]:
    """(path, user id to authenticate as) for every entry to warm."""
    users = _recent_user_ids(limit_users)
    symbols = _symbols()
    plan: list[tuple[str, int | None]] = [(path, None) for path in SHARED_PATHS]
    if users:
        for start in range(0, len(symbols), QUOTES_BATCH):
            batch = ",".join(symbols[start : start + QUOTES_BATCH])
            plan.append((f"/api/market/quotes?symbols={batch}", users[0]))
    plan += [(path, uid) for uid in users for path in USER_PATHS]
    return plan


def warm_cache(
    limit_users: int | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Request every planned path; returns how many entries were computed and stored."""
    limit = current_app.config["CACHE_WARM_USERS"] if limit_users is None else limit_users
    plan = warm_plan(max(0, int(limit)))
    app = current_app._get_current_object()
    client = app.test_client()
    warmed = 0
    for path, user_id in plan:
        headers = {}
        if user_id is not None:
            headers["Authorization"] = f"Bearer {issue_token(user_id)[0]}"
        # A fresh app context per request: a nested request would otherwise share
        # the caller's `g` (and with it the caller's identity).
        with app.app_context():
            response = client.get(path, headers=headers)
        if response.status_code == 200 and response.headers.get("X-Cache") == "MISS":
            warmed += 1
        if progress is not None:
            progress(1)
    return warmed
