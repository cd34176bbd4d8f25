"""``flask --app wsgi market ...``: load a CSV of quotes, or run the long-running quote feed
(simulated, csv or http)."""

from __future__ import annotations

import csv
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError

from fynix.caching.cli import writes_data
from fynix.common.fields import normalize_symbol
from fynix.common.terminal import progress
from fynix.errors import describe_validation
from fynix.market.feed.base import Provider
from fynix.market.feed.csv_replay import CsvReplayProvider
from fynix.market.feed.http_poll import FieldMapping, HttpPollProvider
from fynix.market.feed.runner import FeedRunner
from fynix.market.feed.simulated import SimulatedProvider, start_quotes
from fynix.market.feed.status import feed_status
from fynix.market.schemas import QuoteRowSchema
from fynix.market.services import upsert_quotes

DEFAULT_INTERVAL = 5.0


def _symbol_list(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list | None:
    if value is None:
        return None
    symbols = [normalize_symbol(part) for part in value.split(",")]
    if not all(symbols):
        raise click.BadParameter("each symbol is 1-16 characters of A-Z, 0-9, '.', '-'")
    return list(dict.fromkeys(symbols))


OPTIONS = [
    click.option("--provider", type=click.Choice(["simulated", "csv", "http"]),
                 default="simulated", show_default=True, help="Where the quotes come from."),
    click.option("--interval", type=click.FloatRange(min=0), default=None,
                 help="simulated, http: seconds between batches (default 5). csv: one batch per "
                 "this many seconds of the file's time (default: one per timestamp)."),
    click.option("--name", default=None,
                 help="The feed's name in its status and /metrics (default: the provider)."),
    click.option("--max-batches", type=click.IntRange(min=1), default=None,
                 help="Exit after writing this many batches."),
    click.option("--seed", type=int, default=42, show_default=True,
                 help="simulated: the same seed gives the same prices."),
    click.option("--symbols", callback=_symbol_list,
                 help="simulated: move these symbols (A,B,...; default: every quoted symbol)."),
    click.option("--most-held", type=click.IntRange(min=1), default=None,
                 help="simulated: move the N symbols held by the most users."),
    click.option("--volatility", type=click.IntRange(0, 5000), default=50, show_default=True,
                 help="simulated: largest move of a price per batch, in basis points."),
    click.option("--file", "csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="csv: the file to replay (timestamp,symbol,price[,currency])."),
    click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0,
                 show_default=True, help="csv: replay this many times faster than the file."),
    click.option("--loop", is_flag=True, help="csv: start over at the end instead of exiting."),
    click.option("--url", help="http: the URL to poll (answers JSON)."),
    click.option("--items-path", default="",
                 help="http: dotted path to the list of quotes, e.g. data.quotes (default: the "
                 "whole answer)."),
    click.option("--symbol-field", default="symbol", show_default=True, help="http"),
    click.option("--price-field", default="price", show_default=True, help="http"),
    click.option("--currency-field", default="currency", show_default=True,
                 help="http: empty for none (USD)."),
    click.option("--time-field", default=None,
                 help="http: the quote's time (ISO 8601 or Unix seconds; default: poll time)."),
    click.option("--timeout", type=click.FloatRange(min=0.1, max=60), default=5.0,
                 show_default=True, help="http: seconds per network operation."),
]  # fmt: skip


def _with_options(command: Any) -> Any:
    for option in reversed(OPTIONS):
        command = option(command)
    return command


@click.command("feed")
@_with_options
@with_appcontext
@writes_data
def feed_command(**options: Any) -> None:
    """Ingest quotes in batches until SIGTERM or SIGINT (csv: until the end of the file).

    Each batch is one transaction and one cache invalidation; bad rows are logged and
    skipped; database and cache outages are waited out. Progress is logged per batch and
    kept in the market_feed_status table (shown by /metrics).
    """
    _check_database()
    stopped = threading.Event()
    provider, interval = _build_provider(options, stopped.wait)
    runner = FeedRunner(
        options["name"] or options["provider"],
        provider,
        interval,
        max_batches=options["max_batches"],
        stopped=stopped,
    )
    with _stop_on_signals(runner.stop):
        batches = runner.run()
    click.echo(f"Feed {runner.name}: {batches} batches written.")


def _build_provider(options: dict, wait: Any) -> tuple[Provider, float]:
    """The provider the options name, and the pause between its batches."""
    interval = DEFAULT_INTERVAL if options["interval"] is None else options["interval"]
    if options["provider"] == "csv":
        if options["csv_file"] is None:
            raise click.UsageError("--provider csv needs --file")
        try:
            replay = CsvReplayProvider(
                options["csv_file"], options["speed"], options["loop"], options["interval"],
                wait=wait,
            )  # fmt: skip
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--file") from None
        return replay, 0.0  # the file's own timestamps pace the replay
    if options["provider"] == "http":
        if not options["url"] or not options["url"].startswith(("http://", "https://")):
            raise click.UsageError("--provider http needs --url http(s)://...")
        mapping = FieldMapping(
            options["items_path"], options["symbol_field"], options["price_field"],
            options["currency_field"] or None, options["time_field"],
        )  # fmt: skip
        return HttpPollProvider(options["url"], mapping, options["timeout"]), interval
    if options["symbols"] is not None and options["most_held"] is not None:
        raise click.UsageError("--symbols and --most-held exclude each other")
    start = start_quotes(options["symbols"], options["most_held"])
    if not start:
        raise click.ClickException(
            "No symbols to move: load quotes first (market load, seed-demo) or pass --symbols."
        )
    return SimulatedProvider(start, options["seed"], options["volatility"]), interval


def _check_database() -> None:
    """Fail at once, and say why, when the database or its schema is not there."""
    try:
        feed_status()
    except sa.exc.SQLAlchemyError as exc:
        raise click.ClickException(
            f"The database is unreachable or not migrated ({exc.__class__.__name__}): "
            "check DATABASE_URL and run `flask --app wsgi db upgrade`."
        ) from None


@contextmanager
def _stop_on_signals(stop: Any) -> Iterator[None]:
    """SIGTERM and SIGINT ask the feed to stop after its batch in progress."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


market_cli = AppGroup("market", help="Manage market data.")
market_cli.add_command(feed_command)


@market_cli.command("load")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@writes_data
def load_quotes(csv_file: Path) -> None:
    """Import quotes from a CSV file with the header ``symbol,price[,currency]``.

    Bad rows are reported with their line number and skipped; the valid rows are written
    in one transaction (a later row of the same symbol wins). Exit status: 0 when every
    row was imported, 1 when some rows were skipped, 2 when the file is unusable (then
    nothing is written).
    """
    valid, problems = _validate_quote_rows(_read_quote_rows(csv_file))
    for line, problem in problems:
        click.echo(f"line {line}: {problem}", err=True)
    written = upsert_quotes(valid)
    click.echo(f"Imported {written} quotes from {csv_file.name}; skipped {len(problems)} rows.")
    if problems:
        sys.exit(1)


def _read_quote_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) of every data row; a bad file is a usage error (exit 2)."""
    bad_file = click.BadParameter
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, skipinitialspace=True)
            header = [name.strip().lower() for name in reader.fieldnames or []]
            missing = {"symbol", "price"} - set(header)
            unknown = set(header) - {"symbol", "price", "currency"}
            if missing or unknown or len(header) != len(set(header)):
                raise bad_file(
                    f"the header must be symbol,price[,currency], got {','.join(header)!r}",
                    param_hint="CSV_FILE",
                )
            reader.fieldnames = header
            return [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise bad_file(f"not a readable UTF-8 CSV file ({exc})", param_hint="CSV_FILE") from None


def _validate_quote_rows(rows: list[tuple[int, dict]]) -> tuple[list, list[tuple[int, str]]]:
    """The valid rows, loaded, and (line, problem) for each bad row."""
    schema = QuoteRowSchema()
    valid: list[dict] = []
    problems: list[tuple[int, str]] = []
    with progress(rows, "Checking rows") as bar:
        for line, row in bar:
            if None in row:
                problems.append((line, "too many fields (expected symbol,price[,currency])"))
                continue
            cells = {key: value.strip() for key, value in row.items() if value and value.strip()}
            try:
                quote = schema.load(cells)
            except ValidationError as exc:
                problems.append((line, describe_validation(exc.messages)))
                continue
            valid.append(quote)
    return valid, problems
