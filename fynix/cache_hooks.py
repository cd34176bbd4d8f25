"""What the caching package learns from the features: who is calling, the shared price book,
and what to warm. Registered once by the app factory (``fynix.caching`` imports no feature)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from flask import Flask
from sqlalchemy import select

from fynix.auth.guard import current_user, require_admin
from fynix.auth.tokens import TokenClaims, claims_of_header, issue_token
from fynix.caching import CacheHooks, Identity, SharedSource, WarmRequest, events
from fynix.extensions import db
from fynix.market.models import Quote
from fynix.market.prices import decode_price_book, encode_price_book, load_price_book
from fynix.users.models import User

SHARED_PATHS = ("/api/public/market-overview",)
USER_PATHS = ("/api/portfolio/summary", "/api/notifications/unread-count")
QUOTES_BATCH = 50

# Every quote endpoint, the public overview and each summary are derived from it.
PRICES = SharedSource("prices", "market", load_price_book, encode_price_book, decode_price_book)


def identity_reader(secret: str) -> Callable[[str], Identity | None]:
    """Who an Authorization header names, if its token is well signed and unexpired (no SQL,
    no request context: the fast path asks before Flask dispatches)."""

    def identity(authorization: str) -> Identity | None:
        claims = claims_of_header(authorization, secret)
        if claims is None:
            return None
        return _identities(claims)

    return identity


@lru_cache(maxsize=8192)
def _identities(claims: TokenClaims) -> Identity:
    owner = f"{claims.user_id}.{claims.stamp}"
    return Identity(claims.user_id, owner, claims.token_id, claims.expires_at)


def confirm_identity() -> None:
    """The token's account exists with this stamp (one query; 401 otherwise)."""
    current_user()


def warm_requests(limit_users: int) -> list[WarmRequest]:
    """The public overview, every quote (in batches) and the hot entries of the most
    recently active users, each with a token of its own user."""
    users = db.session.execute(
        select(User.id, User.security_stamp)
        .order_by(User.last_login_at.desc().nulls_last(), User.id.desc())
        .limit(limit_users)
    ).all()
    plan = [WarmRequest(path) for path in SHARED_PATHS]
    if not users:
        return plan
    symbols = list(db.session.scalars(select(Quote.symbol).order_by(Quote.symbol)))
    tokens = {user.id: _bearer(user.id, user.security_stamp) for user in users}
    for start in range(0, len(symbols), QUOTES_BATCH):
        batch = ",".join(symbols[start : start + QUOTES_BATCH])
        plan.append(WarmRequest(f"/api/market/quotes?symbols={batch}", tokens[users[0].id]))
    plan += [WarmRequest(path, tokens[user.id]) for user in users for path in USER_PATHS]
    return plan


def _bearer(user_id: int, stamp: str) -> dict[str, str]:
    token, claims = issue_token(user_id, stamp)
    events.token_issued(Identity(user_id, f"{user_id}.{stamp}", claims.token_id, claims.expires_at))
    return {"Authorization": f"Bearer {token}"}


def cache_hooks(app: Flask) -> CacheHooks:
    """The hooks ``create_app`` registers with ``fynix.caching.init_cache``."""
    return CacheHooks(
        identity=identity_reader(app.config["SECRET_KEY"]),
        confirm_identity=confirm_identity,
        warm_requests=warm_requests,
        require_admin=require_admin,
        shared=(PRICES,),
    )
