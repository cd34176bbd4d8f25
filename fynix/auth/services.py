"""Login, password change and logout: credentials in, tokens out (and revoked)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from fynix.auth.models import RevokedToken
from fynix.auth.passwords import hash_password, verify_password
from fynix.auth.tokens import TokenClaims, issue_token
from fynix.caching import Identity, events
from fynix.common.clock import utcnow
from fynix.errors import APIError, Forbidden, Unauthorized
from fynix.extensions import db
from fynix.users.models import User, new_security_stamp
from fynix.users.services import find_by_login


def login(login_name: str, password: str) -> dict:
    """Return the token payload; one message for every kind of failure."""
    user = find_by_login(login_name)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Invalid login or password.")
    user.last_login_at = utcnow()
    db.session.commit()
    token, claims = issue_token(user.id, user.security_stamp)
    owner = f"{user.id}.{user.security_stamp}"
    events.login_recorded(Identity(user.id, owner, claims.token_id, claims.expires_at))
    expires_in = current_app.config["ACCESS_TOKEN_TTL"]
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password; every token issued before, this one included, is refused after.

    403 when ``current_password`` is wrong (the caller is signed in: it is not a 401).
    """
    if not verify_password(user.password_hash, current_password):
        raise Forbidden("The current password is wrong.")
    if new_password == current_password:  # checked once the caller proved the current one
        raise APIError(
            "The request has invalid fields.",
            422,
            errors={"new_password": ["Must differ from the current password."]},
        )
    user.password_hash = hash_password(new_password)
    user.security_stamp = new_security_stamp()
    db.session.commit()
    events.credentials_changed(user.id)


def logout(user: User, claims: TokenClaims) -> None:
    """End the token ``claims`` before it expires; idempotent."""
    now = utcnow()
    # Rows of tokens that have expired anyway are no longer needed.
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    expires_at = datetime.fromtimestamp(claims.expires_at, UTC)
    db.session.add(RevokedToken(token_id=claims.token_id, user_id=user.id, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent logout of the same token
        db.session.rollback()
    events.token_revoked(user.id, claims.token_id)
