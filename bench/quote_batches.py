"""``python -m bench quotes``: what one quote batch costs against how many hold its symbols.

A database of its own holds three groups of BATCH symbols, each symbol of group ``g`` held by
the same ``HOLDERS[g]`` users (1, 100, 10,000), among BOOK quotes in all. The feed's own
ingestion (``fynix.market.feed.ingest.ingest_batch``: validation, ``write_quote_batch``, the
status row, one announcement) writes a batch of every symbol of one group at new prices,
the groups taken in turns so that drift on a shared box hits each alike. Per batch: wall and
CPU milliseconds, SQL statements (counted on the engine), Redis commands (INFO commandstats of
a redis-server of our own, before and after), and, on a full run, callgrind instructions.
The goal is a flat line: 10,000 holders within 1.2x of 1 holder.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import redis

from bench import callgrind
from bench.common import (
    BENCH_SECRET,
    PG_SERVER,
    database_name,
    ensure_postgres_database,
    libpq_url,
    migrate_to,
    percentile,
)
from bench.servers import start_redis

BATCH = 50
BOOK = 2_000
HOLDERS = {False: (1, 100, 10_000), True: (1, 10, 100)}
ROUNDS = {False: 40, True: 6}
CALLGRIND_BATCHES = 5
FEED = "bench"


def quotes_url(quick: bool) -> str:
    """The database of this benchmark (its own rows, not the seeded data)."""
    return f"{PG_SERVER}/{database_name(quick)}_holders"


def group_symbols(holders: int) -> list[str]:
    """The BATCH symbols held by ``holders`` users each."""
    return [f"H{holders}X{index:02d}" for index in range(BATCH)]


def build_database(url: str, holders: tuple[int, ...]) -> dict:
    """Schema at head, users, the quotes and every group's positions (COPY)."""
    import psycopg

    ensure_postgres_database(url)
    migrate_to(url, "base")
    migrate_to(url, "head")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    users = max(holders)
    grouped = [s for h in holders for s in group_symbols(h)]
    symbols = grouped + [f"Q{index:04d}" for index in range(BOOK - len(grouped))]
    user_rows = [(uid, f"h{uid}@example.com", f"h{uid}", "x", False, now, now, f"{uid:016x}")
                 for uid in range(1, users + 1)]  # fmt: skip
    quote_rows = [(s, Decimal(100 + i % 500), "USD", now) for i, s in enumerate(symbols)]
    position_rows = [(uid, symbol, Decimal("1.5"), Decimal("100"), now, now)
                     for count in holders for uid in range(1, count + 1)
                     for symbol in group_symbols(count)]  # fmt: skip
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        _copy(cur, "users", "id, email, username, password_hash, is_admin, created_at, "
              "updated_at, security_stamp", user_rows)  # fmt: skip
        _copy(cur, "market_quotes", "symbol, price, currency, updated_at", quote_rows)
        _copy(cur, "portfolio_positions", "user_id, symbol, quantity, average_cost, created_at, "
              "updated_at", position_rows)  # fmt: skip
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM (ANALYZE)")
    positions = len(position_rows)
    return {"users": users, "quotes": len(symbols), "positions": positions}


def _copy(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _app(url: str, redis_url: str):
    from config import DevelopmentConfig
    from fynix import create_app

    return create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis_url,
                      LOG_LEVEL="WARNING", SECRET_KEY=BENCH_SECRET,
                      CACHE_KEY_PREFIX="fynixbench")  # fmt: skip


class Batches:
    """Batches of one group at ever new prices, as the feed ingests them."""

    def __init__(self, holders: int) -> None:
        self.symbols = group_symbols(holders)
        self.sent = 0

    def ingest(self) -> None:
        """Ingest the next batch of every symbol of the group."""
        from fynix.market.feed.base import Batch, QuoteRow
        from fynix.market.feed.ingest import ingest_batch

        self.sent += 1
        cents = 10_000 + self.sent % 5_000
        rows = [QuoteRow(s, f"{cents / 100:.2f}", "USD", s) for s in self.symbols]
        ingest_batch(FEED, Batch(rows, datetime.now(UTC)))


def batch_case(arg: str) -> Callable[[], None]:
    """callgrind child: ``url|redis_url|holders`` -> ingest one batch of that group."""
    url, redis_url, holders = arg.split("|")
    app = _app(url, redis_url)
    app.app_context().push()
    return Batches(int(holders)).ingest


def _commands(client: redis.Redis) -> int:
    """Commands Redis has served, INFO itself left out."""
    stats = client.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")


def measure(url: str, redis_url: str, holders: tuple[int, ...], rounds: int) -> dict:
    """Per group: ms, CPU ms, SQL statements and Redis commands of each batch."""
    import sqlalchemy as sa

    from fynix.extensions import db

    app = _app(url, redis_url)
    client = redis.Redis.from_url(redis_url)
    samples: dict[int, list[tuple]] = {h: [] for h in holders}
    statements = [0]
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *_: _add(statements))
        makers = {h: Batches(h) for h in holders}
        for maker in makers.values():
            maker.ingest()  # warm: the book is cached and every statement compiled
        for turn in range(rounds):
            for h in holders[turn % len(holders) :] + holders[: turn % len(holders)]:
                before, statements[0] = _commands(client), 0
                started, cpu = time.perf_counter(), time.thread_time()
                makers[h].ingest()
                wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
                samples[h].append((wall * 1000, cpu * 1000, statements[0],
                                   _commands(client) - before))  # fmt: skip
    client.close()
    return {str(h): _summary(rows) for h, rows in samples.items()}


def _add(counter: list[int]) -> None:
    counter[0] += 1


def _summary(rows: list[tuple]) -> dict:
    walls, cpus, sqls, commands = zip(*rows, strict=True)
    return {
        "batches": len(rows),
        "p50_ms": round(statistics.median(walls), 3),
        "p99_ms": round(percentile(walls, 99), 3),
        "cpu_p50_ms": round(statistics.median(cpus), 3),
        "sql_statements": statistics.mode(sqls),
        "redis_commands": statistics.mode(commands),
        "redis_commands_max": max(commands),
    }


def run_quote_batches(redis_url: str, quick: bool = False) -> dict:
    """Build the holders database, then measure every group on our own redis-server.

    ``redis_url`` (the other steps' Redis) is not used: commands are counted on a server
    nobody else talks to.
    """
    del redis_url
    holders = HOLDERS[quick]
    url = quotes_url(quick)
    shape = build_database(url, holders)
    server = start_redis()
    try:
        figures = measure(url, server.url, holders, ROUNDS[quick])
        if not quick and callgrind.available():
            for h in holders:
                figures[str(h)]["instructions"] = callgrind.instructions_per_call(
                    "bench.quote_batches:batch_case", CALLGRIND_BATCHES, f"{url}|{server.url}|{h}"
                )
    finally:
        server.stop()
    low, high = figures[str(holders[0])], figures[str(holders[-1])]
    ratios = {"p50_ms": high["p50_ms"] / low["p50_ms"],
              "cpu_p50_ms": high["cpu_p50_ms"] / low["cpu_p50_ms"]}  # fmt: skip
    if "instructions" in high:
        ratios["instructions"] = high["instructions"] / low["instructions"]
    return {"batch": BATCH, "holders": list(holders), **shape, "rounds": ROUNDS[quick],
            "figures": figures, "ratios": ratios}  # fmt: skip
