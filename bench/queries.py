"""Query benchmark: each hot query with the performance indexes (0002) vs without them.

Same data, same schema, same run: the queries are timed at head, then timed again inside a
transaction that drops the 12 indexes (the three unique ones included) and is rolled back,
so the indexes are back at once and every later column the statements read is still there.
Each figure is the median of repeated runs over a sample of heavy and median users; the
plans of both states are captured.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy import func, select

from bench.common import dialect_of, median, migrate_to
from fynix.admin.plans import HOT_QUERIES, Sample, plan_of, render_sql
from fynix.ai.models import AIInteraction
from fynix.notifications.models import Notification
from fynix.portfolio.models import Position
from fynix.users.models import User

# The hot queries some endpoint runs, with the statements of the services that run them.
QUERIES = [query for query in HOT_QUERIES if query.runs_in is not None]


def pick_samples(engine: sa.Engine, per_cohort: int) -> dict[str, list[dict]]:
    """Heavy users (most notifications) and median users, with their lookup values."""
    with engine.connect() as conn:
        counts = conn.execute(
            select(Notification.user_id, func.count().label("n"))
            .group_by(Notification.user_id)
            .order_by(sa.desc("n"), Notification.user_id)
        ).all()
        middle = len(counts) // 2
        cohorts = {
            "heavy": [row.user_id for row in counts[:per_cohort]],
            "median": [row.user_id for row in counts[middle : middle + per_cohort]],
        }
        holders = conn.execute(
            select(Position.symbol, func.count().label("n"))
            .group_by(Position.symbol)
            .order_by(sa.desc("n"), Position.symbol)
        ).all()
        symbols = {
            "heavy": [row.symbol for row in holders[:per_cohort]],
            "median": [row.symbol for row in holders[len(holders) // 2 :][:per_cohort]],
        }
        return {
            cohort: [
                _user_params(conn, user_id, symbol)
                for user_id, symbol in zip(ids, symbols[cohort], strict=False)
            ]
            for cohort, ids in cohorts.items()
        }


def _user_params(conn: sa.Connection, user_id: int, symbol: str) -> dict:
    user = conn.execute(select(User.email, User.username).where(User.id == user_id)).one()
    kind = conn.execute(
        select(Notification.type)
        .where(Notification.user_id == user_id)
        .group_by(Notification.type)
        .order_by(func.count().desc(), Notification.type)
        .limit(1)
    ).scalar()
    thread = conn.execute(
        select(AIInteraction.thread_id)
        .where(AIInteraction.user_id == user_id)
        .group_by(AIInteraction.thread_id)
        .order_by(func.count().desc(), AIInteraction.thread_id)
        .limit(1)
    ).scalar()
    return {
        "user_id": user_id,
        "email": user.email,
        "username": user.username,
        "type": kind or "price_alert",
        "thread_id": thread or "none",
        "symbol": symbol,
    }


def _sql(engine: sa.Engine, query, params: dict) -> str:
    return render_sql(query.statement(Sample(**params)), engine.dialect)


def _time(cursor, sql: str, min_runs: int, max_runs: int, budget: float) -> list[float]:
    """Milliseconds of each run, bounded in count and time."""
    runs: list[float] = []
    deadline = time.perf_counter() + budget
    while len(runs) < max_runs and (len(runs) < min_runs or time.perf_counter() < deadline):
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


# Every performance index: each serves one of the hot queries (tests/test_index_plans.py).
PERFORMANCE_INDEXES = sorted({query.index for query in HOT_QUERIES})


def measure_state(url: str, samples: dict[str, list[dict]], indexed: bool, quick: bool) -> dict:
    """{query: {cohort: median ms, 'plan': text, 'indexes': [...]}} with or without the
    performance indexes (dropped in a transaction that is rolled back)."""
    engine = sa.create_engine(url)
    min_runs, max_runs, budget = (5, 60, 0.3) if indexed else (3, 15, 0.6)
    if quick:
        min_runs, max_runs, budget = 2, 5, 0.05
    results: dict[str, dict] = {}
    try:
        with engine.connect() as connection:
            connection.begin()
            if not indexed:
                for name in PERFORMANCE_INDEXES:
                    connection.exec_driver_sql(f"DROP INDEX {name}")
            cursor = connection.connection.cursor()  # same transaction, plain DB-API timing
            for query in QUERIES:
                heavy_sql = _sql(engine, query, samples["heavy"][0])
                plan = plan_of(heavy_sql, connection=connection)
                entry: dict = {"plan": "\n".join(plan.lines), "indexes": sorted(plan.indexes)}
                _time(cursor, heavy_sql, 1, 1, 0)  # warm the cache once per query and state
                for cohort, params in samples.items():
                    medians = [
                        median(_time(cursor, _sql(engine, query, p), min_runs, max_runs, budget))
                        for p in params
                    ]
                    entry[cohort] = median(medians)
                results[query.name] = entry
            connection.rollback()
    finally:
        engine.dispose()
    return results


def run_queries(url: str, quick: bool = False) -> dict:
    """Time every hot query at head with and without the performance indexes on ``url``."""
    migrate_to(url, "head")
    engine = sa.create_engine(url)
    samples = pick_samples(engine, 2 if quick else 3)
    engine.dispose()
    started = time.perf_counter()
    with_indexes = measure_state(url, samples, indexed=True, quick=quick)
    without = measure_state(url, samples, indexed=False, quick=quick)
    rows = []
    for query in QUERIES:
        fast, slow = with_indexes[query.name], without[query.name]
        rows.append({
            "query": query.name,
            "index": query.index,
            "uses_index": query.index in fast["indexes"],
            "plan_indexed": fast["plan"],
            "plan_unindexed": slow["plan"],
            **{f"{c}_indexed_ms": fast[c] for c in samples},
            **{f"{c}_unindexed_ms": slow[c] for c in samples},
            **{f"{c}_speedup": (slow[c] / fast[c]) if fast[c] else None for c in samples},
        })  # fmt: skip
    return {
        "dialect": dialect_of(url),
        "samples": samples,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }
