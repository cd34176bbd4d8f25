"""What changed, said by services after a commit; the dependency rules live here, once.

positions of U changed  -> portfolio(U), ai(U)   (assistant answers read the portfolio)
quotes of S changed     -> market, public, and "positions changed" for every holder of S
notifications of U      -> notifications(U)
AI interactions of U    -> ai(U)
profile of U            -> user(U)
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_request_context
from sqlalchemy import select

from fynix.caching import keys
from fynix.caching.manager import get_manager
from fynix.extensions import db


def invalidate(scopes: Iterable[tuple[str, int | None]]) -> None:
    """Start a new generation for each (namespace, user id or None) in one round trip."""
    manager = get_manager()
    gen_keys = sorted({keys.gen_key(manager.prefix, ns, keys.scope_of(uid)) for ns, uid in scopes})
    if has_request_context():
        g.setdefault("cache_bumped", set()).update(gen_keys)
    manager.bump(gen_keys)


def _portfolio_scopes(user_ids: Iterable[int]) -> list[tuple[str, int | None]]:
    return [(ns, uid) for uid in user_ids for ns in ("portfolio", "ai")]


def positions_changed(user_id: int) -> None:
    """A user's positions changed."""
    invalidate(_portfolio_scopes([user_id]))


def quotes_changed(symbols: Iterable[str]) -> None:
    """Quotes of ``symbols`` changed: shared market data and every holder's valuation."""
    from fynix.portfolio.models import Position

    symbols = sorted(set(symbols))
    if not symbols:
        return
    holders = db.session.scalars(
        select(Position.user_id).where(Position.symbol.in_(symbols)).distinct()
    ).all()
    invalidate([("market", None), ("public", None), *_portfolio_scopes(holders)])


def notifications_changed(user_id: int) -> None:
    """A user's notifications changed."""
    invalidate([("notifications", user_id)])


def ai_changed(user_id: int) -> None:
    """A user's AI interactions changed."""
    invalidate([("ai", user_id)])


def user_changed(user_id: int) -> None:
    """A user's profile changed."""
    invalidate([("user", user_id)])
