"""``python -m bench.seed``: fill a database with the deterministic benchmark data, fast.

The schema is built by Alembic (0001 first, rows loaded, then head, so the performance
indexes and ANALYZE run once on the full tables). SQLite loads with executemany in large
transactions (WAL, synchronous=OFF while loading); PostgreSQL loads with COPY.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from sqlalchemy.engine import make_url
from tqdm import tqdm

from bench.common import (
    absolute_url,
    dialect_of,
    ensure_postgres_database,
    libpq_url,
    migrate_to,
    save_result,
    sqlite_url,
)
from bench.data import PASSWORD, TABLES, TIME_COLUMNS, Plan, table_rows

BATCH = 50_000
DECIMAL_COLUMNS = {"price", "quantity", "average_cost"}


def password_hash() -> str:
    """One Argon2 hash of the bench password, shared by every seeded user."""
    from argon2 import PasswordHasher

    from config import Config

    return PasswordHasher(
        time_cost=Config.ARGON2_TIME_COST, memory_cost=Config.ARGON2_MEMORY_COST
    ).hash(PASSWORD)


def seed_database(url: str, scale: float, *, progress: bool = True) -> dict:
    """Rebuild ``url`` from empty and load the data at ``scale``; returns timings."""
    started = time.perf_counter()
    dialect = dialect_of(url)
    plan = Plan.build(scale)
    _reset(url, dialect)
    migrate_to(url, "0001_schema")
    loaded = time.perf_counter()
    tables = table_rows(plan, password_hash())
    loader = _load_sqlite if dialect == "sqlite" else _load_pg
    rows = loader(url, tables, progress)
    load_seconds = time.perf_counter() - loaded
    indexed = time.perf_counter()
    migrate_to(url, "head")
    if dialect == "postgresql":
        _vacuum_analyze(url)
    return {
        "url": make_url(url).render_as_string(hide_password=True),
        "dialect": dialect,
        "scale": scale,
        "rows": rows,
        "load_seconds": round(load_seconds, 2),
        "index_seconds": round(time.perf_counter() - indexed, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
    }


def _reset(url: str, dialect: str) -> None:
    """Start from an empty database (a deleted file for SQLite, base for PostgreSQL)."""
    if dialect == "sqlite":
        path = Path(make_url(url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    ensure_postgres_database(url)
    _tune_postgres_database(url)
    migrate_to(url, "base")


def _bar(table: str, total: int, progress: bool) -> tqdm:
    return tqdm(total=total, desc=f"{table:<20}", unit="rows", unit_scale=True,
                disable=not progress or None, mininterval=0.5, file=sys.stderr)  # fmt: skip


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _sqlite_placeholder(column: str) -> str:
    # SQLite formats the Unix seconds itself, in SQLAlchemy's DATETIME storage format.
    if column in TIME_COLUMNS:
        return "strftime('%Y-%m-%d %H:%M:%S.000000', ?, 'unixepoch')"
    return "?"


def _sqlite_converter(table: str):
    """Decimal to float, as SQLAlchemy stores SQLite NUMERIC; everything else as is."""
    decimals = [i for i, c in enumerate(TABLES[table]) if c in DECIMAL_COLUMNS]
    if not decimals:
        return None

    def convert(row: tuple) -> tuple:
        values = list(row)
        for i in decimals:
            values[i] = float(values[i])
        return tuple(values)

    return convert


def _load_sqlite(url: str, tables: list, progress: bool) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(make_url(url).database, isolation_level=None)
    counts: dict[str, int] = {}
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        for table, expected, rows in tables:
            columns = TABLES[table]
            values = ", ".join(map(_sqlite_placeholder, columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
            convert = _sqlite_converter(table)
            counts[table] = 0
            with _bar(table, expected, progress) as bar:
                conn.execute("BEGIN")
                for batch in _batches(rows, BATCH):
                    conn.executemany(sql, map(convert, batch) if convert else batch)
                    counts[table] += len(batch)
                    bar.update(len(batch))
                conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA synchronous=NORMAL")
    finally:
        conn.close()
    return counts


def _pg_converter(table: str):
    """Unix seconds to aware datetimes (psycopg dumps them in C)."""
    times = [i for i, c in enumerate(TABLES[table]) if c in TIME_COLUMNS]
    from_ts = datetime.fromtimestamp

    def convert(row: tuple) -> tuple:
        values = list(row)
        for i in times:
            if values[i] is not None:
                values[i] = from_ts(values[i], UTC)
        return values

    return convert


def _load_pg(url: str, tables: list, progress: bool) -> dict[str, int]:
    import psycopg

    counts: dict[str, int] = {}
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        cur.execute("SET session_replication_role = replica")
        for table, expected, rows in tables:
            columns = TABLES[table]
            convert = _pg_converter(table)
            counts[table] = 0
            with (
                _bar(table, expected, progress) as bar,
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for batch in _batches(rows, BATCH):
                    for row in batch:
                        copy.write_row(convert(row))
                    counts[table] += len(batch)
                    bar.update(len(batch))
            if "id" in columns:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        conn.commit()
    return counts


def _tune_postgres_database(url: str) -> None:
    """Give index builds of our own database more memory (sessions opened from now on)."""
    import psycopg

    name = make_url(url).database
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{name}\" SET maintenance_work_mem = '256MB'")


def _vacuum_analyze(url: str) -> None:
    """Set the visibility map and statistics as autovacuum would on a settled database."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 20k users, 1M notifications")
    parser.add_argument("--database-url", default=sqlite_url(False), help="SQLAlchemy URL")
    args = parser.parse_args(argv)
    result = seed_database(absolute_url(args.database_url), args.scale)
    save_result(f"seed-{result['dialect']}", result)
    print(f"seeded {result['url']} at scale {args.scale}: {result['rows']} "
          f"in {result['total_seconds']} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
