"""What the cache needs to know from the features, handed over by the app factory.

Like Flask-Login's ``user_loader``: the caching package never imports a feature package;
``create_app`` registers these callables once (see ``fynix/cache_hooks.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """The caller as a verified bearer token names it (no database involved).

    ``owner`` is unique to one account for ever (its id and its random security stamp),
    so an entry cached for one account never matches another that reuses its id.
    """

    user_id: int
    owner: str
    token_id: str


@dataclass(frozen=True)
class WarmRequest:
    """One GET to send through the app to warm its entry."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)


def _nobody() -> Identity | None:
    return None


def _no_holders(symbols: list[str]) -> list[int]:
    return []


def _nothing_to_warm(limit_users: int) -> list[WarmRequest]:
    return []


@dataclass(frozen=True)
class CacheHooks:
    """The callables the caching package calls back into the application with."""

    identity: Callable[[], Identity | None] = _nobody
    warm_requests: Callable[[int], list[WarmRequest]] = _nothing_to_warm
    holders_of: Callable[[list[str]], list[int]] = _no_holders
