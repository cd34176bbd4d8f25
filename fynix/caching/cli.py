"""Cache commands (``cache-warm``, ``cache clear``) and the promise every writing command keeps.

A command that changed data delivers its invalidations before it exits; if Redis stays
unreachable past ``CACHE_CLI_DELIVERY_TIMEOUT`` it exits non-zero and says what to clear.
Nothing is lost silently in a process that is about to end.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from fynix.caching import manage
from fynix.caching.manager import Bypass, get_manager
from fynix.caching.warming import warm_plan

cache_cli = AppGroup("cache", help="Manage this application's cache.")


def deliver_invalidations() -> None:
    """Deliver what this process owes the cache, or fail the command saying what to do."""
    manager = get_manager()
    if manager.deliver_pending(current_app.config["CACHE_CLI_DELIVERY_TIMEOUT"]):
        return
    raise click.ClickException(
        f"The data was written, but {manager.pending_invalidations} cache invalidation(s) "
        "could not reach the cache backend. Answers cached before this command may be "
        "served until their TTL: run `flask --app wsgi cache clear` once the backend is "
        "reachable."
    )


def writes_data(command: Callable) -> Callable:
    """Mark a command that writes data: its invalidations are delivered before it exits."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        finally:
            deliver_invalidations()

    wrapper.writes_data = True
    return wrapper


def reads_only(command: Callable) -> Callable:
    """Mark a command that changes no data (checked by the tests for every command)."""
    command.writes_data = False
    return command


@click.command("cache-warm")
@click.option(
    "--users",
    type=click.IntRange(0, 100_000),
    default=None,
    help="How many recently active users to warm (default: CACHE_WARM_USERS).",
)
@with_appcontext
@reads_only
def cache_warm_command(users: int | None) -> None:
    """Pre-populate public data, quotes and recently active users' summaries and counts."""
    limit = current_app.config["CACHE_WARM_USERS"] if users is None else users
    try:
        with click.progressbar(length=len(warm_plan(limit)), label="Warming cache") as bar:
            warmed = manage.warm(limit, progress=bar.update)
    except Bypass:
        raise click.ClickException(
            "The cache backend is unreachable; nothing was warmed."
        ) from None
    click.echo(f"Warmed {warmed} entries.")


@cache_cli.command("clear")
@reads_only
def cache_clear_command() -> None:
    """Drop every entry of this application (e.g. after restoring a database backup)."""
    try:
        deleted = manage.clear_all()
    except Bypass:
        raise click.ClickException(
            "The cache backend is unreachable; nothing was cleared. Retry when it is back."
        ) from None
    if get_manager().backend == "SimpleCache":
        click.echo("Cleared the in-process cache of every process on this host.")
    else:
        click.echo(f"Deleted {deleted} cache entries.")


def register_cache_cli(app: Flask) -> None:
    """Attach cache-warm and the cache group to ``app``."""
    app.cli.add_command(cache_warm_command)
    app.cli.add_command(cache_cli)
