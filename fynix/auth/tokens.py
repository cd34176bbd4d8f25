"""Signed, expiring bearer tokens (JWT, HS256) naming one account by id and security stamp."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import jwt
from flask import current_app

from fynix.common.clock import utcnow

ALGORITHM = "HS256"
AUDIENCE = "fynix-api"
REQUIRED_CLAIMS = ["sub", "stm", "jti", "exp", "iat", "aud"]


@dataclass(frozen=True)
class TokenClaims:
    """What a well-signed, unexpired token says, before the database confirms it."""

    user_id: int
    stamp: str
    token_id: str
    expires_at: float


def issue_token(user_id: int, stamp: str) -> tuple[str, TokenClaims]:
    """Return ``(token, its claims)`` for the account ``user_id`` with ``stamp``; it lives
    ACCESS_TOKEN_TTL seconds."""
    ttl = int(current_app.config["ACCESS_TOKEN_TTL"])
    now = utcnow()
    expires = now + timedelta(seconds=ttl)
    claims = TokenClaims(user_id, stamp, secrets.token_hex(12), expires.timestamp())
    payload = {
        "sub": str(user_id),
        "stm": stamp,
        "jti": claims.token_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": expires,
    }
    token = jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)
    return token, claims


def verify_token(token: str, secret: str | None = None) -> TokenClaims | None:
    """Return the claims of a well-signed, unexpired token, else None (no SQL); ``secret``
    defaults to the current app's SECRET_KEY.

    A token's signature is checked once per process and the verdict remembered for that
    exact string (bounded LRU); expiry is checked on every call. This keeps a cache hit
    cheap: PyJWT's full validation costs more than the hit's Redis round trip. Whether
    the account still exists with this stamp is the guard's question (one query).
    """
    claims = _verify_signature(token, secret or current_app.config["SECRET_KEY"])
    if claims is None or time.time() >= claims.expires_at:
        return None
    return claims


def claims_of_header(authorization: str, secret: str) -> TokenClaims | None:
    """The claims of a ``Bearer <token>`` Authorization header, else None (no SQL)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return verify_token(token.strip(), secret)


@lru_cache(maxsize=8192)
def _verify_signature(token: str, secret: str) -> TokenClaims | None:
    """The claims of a well-signed token of the expected shape, else None."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": REQUIRED_CLAIMS},
        )
        stamp, token_id = payload["stm"], payload["jti"]
        if not (isinstance(stamp, str) and isinstance(token_id, str)):
            return None
        return TokenClaims(int(payload["sub"]), stamp, token_id, float(payload["exp"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
