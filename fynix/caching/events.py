"""What changed, said by services after a commit; what that makes stale is decided here, once.

    positions of U changed      -> portfolio(U)
    quotes of S changed         -> market: the price book (every quote endpoint, the public
                                   overview and every summary are derived from it) is loaded
                                   and published with its new generation in one step; nothing
                                   per user, no query of holders
    notifications of U changed  -> notifications(U)
    AI interactions of U        -> ai(U)
    profile of U changed        -> user(U)
    accounts created            -> every per-user namespace of each (fresh generations)
    login of U recorded         -> nothing (no cached answer shows the last login); the new
                                   token is admitted to cached answers (fynix.caching.tokens)
    password of U changed       -> every per-user namespace of U and U's token generation
    a token of U logged out     -> that token's marker
    unchanged                   -> nothing (the write found nothing to change)

Every successful API write must announce what it changed, even "nothing cached": in
testing, a write that announced nothing fails (see ``fynix.caching.check_announced``).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_request_context

from fynix.caching import keys
from fynix.caching.hooks import Identity
from fynix.caching.manager import get_manager
from fynix.caching.namespaces import NAMESPACES
from fynix.caching.shared import publish_after_write
from fynix.caching.tokens import admit_new_token, token_generation_key

PER_USER = tuple(name for name, ns in NAMESPACES.items() if ns.per_user)


def invalidate(change: str, scopes: Iterable[tuple[str, int | None]]) -> str | None:
    """Start a new generation for each (namespace, user id or None) in one round trip;
    returns the new token once stored."""
    if has_request_context():
        g.cache_announced = change
    manager = get_manager()
    gen_keys = sorted({keys.gen_key(manager.prefix, ns, keys.scope_of(uid)) for ns, uid in scopes})
    return manager.bump(gen_keys)


def positions_changed(user_id: int) -> None:
    """A user's positions changed."""
    invalidate("positions", [("portfolio", user_id)])


def quotes_changed(symbols: Iterable[str]) -> None:
    """Quotes of ``symbols`` changed: one new generation of the price book, whatever the
    number of symbols or of their holders, and the book is stored again at once."""
    invalidate("quotes", [])
    if not set(symbols):
        return
    manager = get_manager()
    books = [copy for copy in manager.shared.values() if copy.source.namespace == "market"]
    for copy in books:
        publish_after_write(manager, copy)
    if not books:
        invalidate("quotes", [("market", None)])


def notifications_changed(user_id: int) -> None:
    """A user's notifications changed."""
    invalidate("notifications", [("notifications", user_id)])


def ai_changed(user_id: int) -> None:
    """A user's AI interactions changed."""
    invalidate("ai", [("ai", user_id)])


def user_changed(user_id: int) -> None:
    """A user's profile changed."""
    invalidate("profile", [("user", user_id)])


def accounts_created(user_ids: Iterable[int]) -> None:
    """New accounts start with fresh generations, even on an id used before (a restore)."""
    invalidate("accounts", [(ns, uid) for uid in user_ids for ns in PER_USER])


def unchanged() -> None:
    """The write found nothing to change (e.g. marking read what is already read)."""
    invalidate("unchanged", [])


def login_recorded(identity: Identity) -> None:
    """A login was recorded (last_login_at, shown by no cached answer) and a token issued."""
    invalidate("login", [])
    token_issued(identity)


def token_issued(identity: Identity) -> None:
    """A token was issued to an account the database just confirmed: cached answers are
    served to it at once (no database check on its first requests)."""
    admit_new_token(get_manager(), identity)


def credentials_changed(user_id: int) -> None:
    """The password changed: every earlier token is refused, its answers included."""
    manager = get_manager()
    invalidate("credentials", [(ns, user_id) for ns in PER_USER])
    manager.bump([token_generation_key(manager, user_id)])


def token_revoked(user_id: int, token_id: str) -> None:
    """A token was logged out: no cached answer is served to it any more."""
    manager = get_manager()
    invalidate("logout", [])
    manager.bump([keys.token_key(manager.prefix, keys.scope_of(user_id), token_id)])
