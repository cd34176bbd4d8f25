"""Who is calling: bearer-token checks that cost no SQL, and account checks that do."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import undefer

from fynix.auth.models import RevokedToken
from fynix.auth.tokens import TokenClaims, claims_of_header
from fynix.common.api import document_refusals
from fynix.common.ids import is_id
from fynix.errors import Forbidden, Unauthorized
from fynix.extensions import db
from fynix.users.models import User


def bearer_claims() -> TokenClaims | None:
    """The claims of a well-signed, unexpired bearer token on this request, or None (no SQL)."""
    if "token_claims" not in g:
        header = request.headers.get("Authorization", "")
        g.token_claims = claims_of_header(header, current_app.config["SECRET_KEY"])
    return g.token_claims


def current_user() -> User:
    """The authenticated account, confirmed in the database once per request.

    A token names its account by id and security stamp: a token whose account is gone,
    whose id now belongs to another account (a restored or reseeded database), whose
    password changed since it was issued, or that was logged out, is 401. One query.
    """
    if "user" not in g:
        claims = bearer_claims()
        if claims is None:
            raise Unauthorized("Missing, invalid or expired bearer token.")
        row = None
        if is_id(claims.user_id):
            row = db.session.execute(account_stmt(claims.user_id, claims.token_id)).first()
        if row is None or row.User.security_stamp != claims.stamp or row.revoked:
            raise Unauthorized("This token is no longer valid; log in again.")
        g.user = row.User
    return g.user


def account_stmt(user_id: int, token_id: str) -> Select:
    """The account by id, and whether ``token_id`` was logged out (the primary keys)."""
    revoked = exists().where(RevokedToken.token_id == token_id).label("revoked")
    return select(User, revoked).options(undefer(User.security_stamp)).where(User.id == user_id)


def current_user_id() -> int:
    """The authenticated account's id (confirmed in the database; 401 otherwise)."""
    return current_user().id


def login_required(view: Callable) -> Callable:
    """Reject requests without a well-signed, unexpired bearer token (401), without SQL.

    The view confirms the account through ``current_user()``; a cached answer is served
    only to the account it was computed for (``fynix.caching``), so a HIT needs no SQL.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if bearer_claims() is None:
            raise Unauthorized("Missing, invalid or expired bearer token.")
        g.login_required = True  # a cached answer checks the token's marker too
        return view(*args, **kwargs)

    wrapper.login_required = True  # read by the cache's fast path (fynix.caching.fastpath)
    return document_refusals(wrapper, 401)


def admin_required(view: Callable) -> Callable:
    """Reject non-admins with 403 (401 without a token); checks the database."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_admin()
        return view(*args, **kwargs)

    return document_refusals(wrapper, 401, 403)


def require_admin() -> None:
    """401 without a valid token, 403 unless the account is an administrator."""
    if not current_user().is_admin:
        raise Forbidden("Administrator rights are required.")
