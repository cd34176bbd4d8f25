"""Signed, expiring bearer tokens (JWT, HS256) carrying the user id."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

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
    """Return the claims of a valid, unexpired token, else None.

    A token's signature is checked once per process and the verdict remembered for that
    exact string (bounded LRU); expiry is checked on every call. This keeps a cache hit
    cheap: PyJWT's full validation costs more than the hit's Redis round trip.
    """
    verified = _verify_signature(token, current_app.config["SECRET_KEY"])
    if verified is None:
        return None
    user_id, expires_at = verified
    return TokenClaims(user_id=user_id) if time.time() < expires_at else None


@lru_cache(maxsize=8192)
def _verify_signature(token: str, secret: str) -> tuple[int, float] | None:
    """(user id, expiry timestamp) of a well-signed token, else None."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"]},
        )
        return int(payload["sub"]), float(payload["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
