"""What the cache needs to know from the features, handed over by the app factory.

Like Flask-Login's ``user_loader``: the caching package never imports a feature package;
``create_app`` registers these callables once (see ``fynix/cache_hooks.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fynix.errors import APIError


@dataclass(frozen=True)
class Identity:
    """The caller as a verified bearer token names it (no database involved).

    ``owner`` is unique to one account for ever (its id and its random security stamp),
    so an entry cached for one account never matches another that reuses its id.
    """

    user_id: int
    owner: str
    token_id: str
    expires_at: float


@dataclass(frozen=True)
class WarmRequest:
    """One GET to send through the app to warm its entry."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedSource:
    """Data shared by every user (the price book): how to load it and how it is stored."""

    name: str
    namespace: str
    load: Callable[[], Any]
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


def _nobody(authorization: str) -> Identity | None:
    return None


def _nothing_to_confirm() -> None:
    return None


def _nothing_to_warm(limit_users: int) -> list[WarmRequest]:
    return []


def _nobody_is_admin() -> None:
    raise APIError("Administrator rights are required.", 403)


@dataclass(frozen=True)
class CacheHooks:
    """The callables the caching package calls back into the application with."""

    # The caller named by an Authorization header (no SQL, no request context needed).
    identity: Callable[[str], Identity | None] = _nobody
    # Confirms in the database that the caller's account is the one its token names
    # (raises the app's 401 otherwise); run before any per-user data is loaded.
    confirm_identity: Callable[[], None] = _nothing_to_confirm
    warm_requests: Callable[[int], list[WarmRequest]] = _nothing_to_warm
    # Raises the app's 401/403 unless the caller is an administrator (cache management).
    require_admin: Callable[[], None] = _nobody_is_admin
    shared: tuple[SharedSource, ...] = ()
