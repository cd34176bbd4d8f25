"""Flask CLI commands, one module per command group; this module registers them."""

from __future__ import annotations

from flask import Flask

from fynix.caching.cli import register_cache_cli
from fynix.demo import seed_demo
from fynix.market.cli import market_cli
from fynix.users.cli import users_cli


def register_cli(app: Flask) -> None:
    """Attach Fynix's commands to ``app``: seed-demo, users, market, cache-warm, cache."""
    app.cli.add_command(seed_demo)
    app.cli.add_command(users_cli)
    app.cli.add_command(market_cli)
    register_cache_cli(app)
