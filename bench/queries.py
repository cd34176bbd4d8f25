"""Query benchmark: each hot query with the performance indexes (0002) vs without (0001).

Same data, same run: the queries are timed at head, the schema is downgraded to
0001_schema (dropping the 12 indexes, the three unique ones included), timed again, and
upgraded back to head. Each figure is the median of repeated runs over a sample of heavy
and median users; the plans of both states are captured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import func, select

from bench.common import dialect_of, median, migrate_to
from fynix.ai.models import AIInteraction
from fynix.notifications.models import Notification
from fynix.portfolio.models import Position
from fynix.users.models import User

UNREAD = Notification.is_read == sa.false()
NEWEST = (Notification.created_at.desc(), Notification.id.desc())
PAGE = 20


@dataclass(frozen=True)
class HotQuery:
    """One hot query as the services issue it, and the index meant to serve it."""

    name: str
    index: str
    build: Callable[[dict], sa.Select]


def _user_threads(p: dict) -> sa.Select:
    last = func.max(AIInteraction.created_at)
    return (
        select(AIInteraction.thread_id, func.min(AIInteraction.id), last, func.count())
        .where(AIInteraction.user_id == p["user_id"])
        .group_by(AIInteraction.thread_id)
        .order_by(last.desc(), func.max(AIInteraction.id).desc())
        .limit(PAGE)
    )


QUERIES = [
    HotQuery("unread count", "idx_notifications_user_unread",
             lambda p: select(func.count()).select_from(Notification)
             .where(Notification.user_id == p["user_id"], UNREAD)),
    HotQuery("unread list", "idx_notifications_user_unread_created",
             lambda p: select(Notification).where(Notification.user_id == p["user_id"], UNREAD)
             .order_by(*NEWEST).limit(PAGE)),
    HotQuery("notifications page", "idx_notifications_user_created",
             lambda p: select(Notification).where(Notification.user_id == p["user_id"])
             .order_by(*NEWEST).limit(PAGE)),
    HotQuery("notifications by type", "idx_notifications_user_type_created",
             lambda p: select(Notification)
             .where(Notification.user_id == p["user_id"], Notification.type == p["type"])
             .order_by(*NEWEST).limit(PAGE)),
    HotQuery("user by email", "idx_users_email",
             lambda p: select(User).where(User.email == p["email"], User.email.is_not(None))),
    HotQuery("user by username", "idx_users_username",
             lambda p: select(User).where(User.username == p["username"])),
    HotQuery("positions of a user", "idx_portfolio_positions_user_symbol",
             lambda p: select(Position).where(Position.user_id == p["user_id"])
             .order_by(Position.symbol, Position.id).limit(PAGE)),
    HotQuery("holders of a symbol", "idx_portfolio_positions_symbol",
             lambda p: select(Position.user_id).where(Position.symbol.in_([p["symbol"]]))
             .distinct()),
    HotQuery("thread interactions", "idx_ai_interactions_thread_created",
             lambda p: select(AIInteraction)
             .where(AIInteraction.user_id == p["user_id"],
                    AIInteraction.thread_id == p["thread_id"])
             .order_by(AIInteraction.created_at, AIInteraction.id)),
    HotQuery("user's threads", "idx_ai_interactions_user_created", _user_threads),
]  # fmt: skip


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


def _sql(engine: sa.Engine, statement: sa.Select) -> str:
    return str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _plan(cursor, dialect: str, sql: str) -> str:
    if dialect == "sqlite":
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(row[3] for row in cursor.fetchall())
    cursor.execute("EXPLAIN " + sql)
    return "\n".join(row[0] for row in cursor.fetchall())


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


def measure_state(url: str, samples: dict[str, list[dict]], indexed: bool, quick: bool) -> dict:
    """{query: {cohort: median ms, 'plan': text}} for the schema's current state."""
    engine = sa.create_engine(url)
    dialect = dialect_of(url)
    min_runs, max_runs, budget = (5, 60, 0.3) if indexed else (3, 15, 0.6)
    if quick:
        min_runs, max_runs, budget = 2, 5, 0.05
    results: dict[str, dict] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for query in QUERIES:
            heavy_sql = _sql(engine, query.build(samples["heavy"][0]))
            entry: dict = {"plan": _plan(cursor, dialect, heavy_sql)}
            _time(cursor, heavy_sql, 1, 1, 0)  # warm the cache once per query and state
            for cohort, params in samples.items():
                medians = [
                    median(_time(cursor, _sql(engine, query.build(p)), min_runs, max_runs, budget))
                    for p in params
                ]
                entry[cohort] = median(medians)
            results[query.name] = entry
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()
    return results


def run_queries(url: str, quick: bool = False) -> dict:
    """Time every hot query at head and at 0001 on ``url``; leave the schema at head."""
    migrate_to(url, "head")
    engine = sa.create_engine(url)
    samples = pick_samples(engine, 2 if quick else 3)
    engine.dispose()
    started = time.perf_counter()
    with_indexes = measure_state(url, samples, indexed=True, quick=quick)
    migrate_to(url, "0001_schema")
    try:
        without = measure_state(url, samples, indexed=False, quick=quick)
    finally:
        migrate_to(url, "head")
    rows = []
    for query in QUERIES:
        fast, slow = with_indexes[query.name], without[query.name]
        rows.append({
            "query": query.name,
            "index": query.index,
            "uses_index": query.index in fast["plan"],
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
