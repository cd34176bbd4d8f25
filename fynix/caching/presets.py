"""Cache presets with the seed's TTL table (each TTL is a setting in config.py).

Market data and the public overview are derived from the shared price book
(``fynix.caching.derived``), so they have no preset of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fynix.caching.decorator import redis_cache


def _preset(namespace: str, vary_on_user: bool) -> Callable[..., Callable]:
    def preset(**options: Any) -> Callable:
        options.setdefault("vary_on_user", vary_on_user)
        return redis_cache(prefix=namespace, **options)

    preset.__name__ = f"cache_{namespace}"
    preset.__doc__ = f"Cache a view in the {namespace!r} namespace (see redis_cache)."
    return preset


cache_portfolio_data = _preset("portfolio", vary_on_user=True)  # 300 s
cache_notifications = _preset("notifications", vary_on_user=True)  # 120 s; unread count 60 s
cache_ai_responses = _preset("ai", vary_on_user=True)  # 900 s
cache_user_data = _preset("user", vary_on_user=True)  # 600 s
