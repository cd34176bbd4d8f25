"""Signed, expiring bearer tokens (JWT, HS256) carrying the user id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app

from fynix.common.clock import utcnow

ALGORITHM = "HS256"
AUDIENCE = "fynix-api"


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token tells us without touching the database."""

    user_id: int


def issue_token(user_id: int) -> tuple[str, int]:
    """Return ``(token, expires_in_seconds)`` for ``user_id``."""
    ttl = int(current_app.config["ACCESS_TOKEN_TTL"])
    now = utcnow()
    payload = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    return jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm=ALGORITHM), ttl


def verify_token(token: str) -> TokenClaims | None:
    """Return the claims of a valid, unexpired token, else None."""
    try:
        payload = jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"]},
        )
        return TokenClaims(user_id=int(payload["sub"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
