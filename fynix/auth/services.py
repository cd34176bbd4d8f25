"""Login: check credentials, record the login, issue a token."""

from __future__ import annotations

from fynix.auth.passwords import verify_password
from fynix.auth.tokens import issue_token
from fynix.caching import events
from fynix.common.clock import utcnow
from fynix.errors import Unauthorized
from fynix.extensions import db
from fynix.users.services import find_by_login


def login(login_name: str, password: str) -> dict:
    """Return the token payload; one message for every kind of failure."""
    user = find_by_login(login_name)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Invalid login or password.")
    user.last_login_at = utcnow()
    db.session.commit()
    events.login_recorded(user.id)
    token, expires_in = issue_token(user.id, user.security_stamp)
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
