"""flask cache-warm: warm the cache from a terminal, with a progress bar."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


@click.command("cache-warm")
@click.option(
    "--users",
    type=click.IntRange(0, 100_000),
    default=None,
    help="How many recently active users to warm (default: CACHE_WARM_USERS).",
)
@with_appcontext
def cache_warm_command(users: int | None) -> None:
    """Pre-populate public data, quotes and recently active users' summaries and counts."""
    from fynix.caching.manage import warm
    from fynix.caching.warming import warm_plan

    limit = current_app.config["CACHE_WARM_USERS"] if users is None else users
    with click.progressbar(length=len(warm_plan(limit)), label="Warming cache") as bar:
        warmed = warm(limit, progress=bar.update)
    click.echo(f"Warmed {warmed} entries.")


def register_cache_cli(app: Flask) -> None:
    """Attach cache-warm to ``app``."""
    app.cli.add_command(cache_warm_command)
