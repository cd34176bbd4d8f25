"""Each hot query is served by its index, on SQLite and on PostgreSQL.

The queries are the ones the services really run: each case calls a service and
captures the SQL it sends, then asks the planner (SQLite ``EXPLAIN QUERY PLAN``,
PostgreSQL ``EXPLAIN (FORMAT JSON)``) how it would run it, on tables with enough rows
and fresh statistics. The two hot queries no service runs yet use the admin page's
equivalent statements. docs/indexes.md has the same table for humans.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from fynix.admin.plans import HOT_QUERIES
from fynix.ai import services as ai
from fynix.caching import events
from fynix.extensions import db
from fynix.notifications import services as notifications
from fynix.portfolio import services as portfolio
from fynix.services.database_migration import DatabaseMigrationService
from fynix.users import services as users
from tests.scratch_db import DIALECTS, scratch_app, scratch_database

USERS = 500
NOTIFICATIONS_PER_USER = 40  # ~24,000 notifications with the heavy user's
POSITIONS_PER_USER = 8  # 4,000 positions over 100 symbols
SESSIONS, THREADS, TURNS = 2, 2, 5  # 20 AI interactions per user, 10,000 in all
TYPES = ["price_alert", "market", "portfolio", "ai", "system"]
HOT_TABLES = {"users", "notifications", "portfolio_positions", "ai_interactions"}
USER = 250  # a typical user
HEAVY = 1  # a user with thousands of notifications
HEAVY_NOTIFICATIONS = 4_000
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def admin_statement(index: str) -> Callable[[], object]:
    """Run the admin page's equivalent statement for ``index``."""
    (statement,) = [query.statement for query in HOT_QUERIES if query.index == index]
    return lambda: db.session.execute(statement).all()


# index -> the service call whose queries it must serve. The unread count is asked for the
# heavy user: for a dozen unread rows both partial unread indexes cost the same and
# PostgreSQL may pick either (see test_unread_count_of_a_light_user_...).
CASES: dict[str, Callable[[], object]] = {
    "idx_notifications_user_unread": lambda: notifications.count_unread(HEAVY),
    "idx_notifications_user_unread_created": lambda: notifications.list_notifications(
        USER, page=1, per_page=20, unread=True
    ),
    "idx_notifications_user_created": lambda: notifications.list_notifications(
        USER, page=1, per_page=20
    ),
    "idx_notifications_user_type_created": lambda: notifications.list_notifications(
        USER, page=1, per_page=20, type="market"
    ),
    "idx_notifications_type_created": admin_statement("idx_notifications_type_created"),
    "idx_users_email": lambda: users.find_by_login(f"user{USER}@example.com"),
    "idx_users_username": lambda: users.find_by_login(f"user{USER}"),
    "idx_portfolio_positions_user_symbol": lambda: portfolio.list_positions(USER, 1, 20),
    "idx_portfolio_positions_symbol": lambda: events.quotes_changed(["S007"]),
    "idx_ai_interactions_user_session": admin_statement("idx_ai_interactions_user_session"),
    "idx_ai_interactions_thread_created": lambda: ai.get_thread(USER, f"t{USER}-1-1"),
    "idx_ai_interactions_user_created": lambda: ai.list_threads(USER, 1, 20),
}


def fill_tables() -> None:
    """Deterministic rows in every table, enough for the planner to prefer indexes."""
    rng = random.Random(1)
    tables = db.metadata.tables
    symbols = [f"S{n:03d}" for n in range(100)]
    rows: dict[str, list[dict]] = {name: [] for name in tables}
    rows["market_quotes"] = [
        {"symbol": s, "price": Decimal(10), "updated_at": NOW} for s in symbols
    ]
    for user in range(1, USERS + 1):
        joined = NOW - timedelta(days=400)
        rows["users"].append(
            {"id": user, "email": f"user{user}@example.com", "username": f"user{user}",
             "password_hash": "x", "created_at": joined, "updated_at": joined}
        )  # fmt: skip
        rows["portfolio_positions"] += [
            {"user_id": user, "symbol": symbol, "quantity": Decimal(1), "average_cost": Decimal(9),
             "created_at": joined, "updated_at": joined}
            for symbol in rng.sample(symbols, POSITIONS_PER_USER)
        ]  # fmt: skip
        for _ in range(HEAVY_NOTIFICATIONS if user == HEAVY else NOTIFICATIONS_PER_USER):
            created = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            rows["notifications"].append(
                {"user_id": user, "type": rng.choice(TYPES), "title": "t", "body": "b",
                 "is_read": rng.random() >= 0.3, "created_at": created}
            )  # fmt: skip
        rows["ai_interactions"] += [
            {"user_id": user, "session_id": f"s{user}-{s}", "thread_id": f"t{user}-{s}-{t}",
             "prompt": "p", "response": "r",
             "created_at": NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 60))}
            for s in range(1, SESSIONS + 1) for t in range(1, THREADS + 1) for _ in range(TURNS)
        ]  # fmt: skip
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            if rows[table.name]:  # market_feed_status has no hot query, and stays empty
                connection.execute(sa.insert(table), rows[table.name])


def refresh_statistics() -> None:
    """ANALYZE (PostgreSQL: VACUUM ANALYZE, the state autovacuum keeps a table in)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


@pytest.fixture(scope="module", params=DIALECTS)
def loaded_app(request, tmp_path_factory):
    """An app on a scratch database at head, filled and analyzed."""
    directory = tmp_path_factory.mktemp("plans")
    with scratch_database(request.param, directory) as url, scratch_app(url) as app:
        DatabaseMigrationService().run_migrations()
        fill_tables()
        refresh_statistics()
        yield app


@contextmanager
def captured_sql() -> Iterator[list[tuple[str, object]]]:
    """(statement, parameters) of every statement sent while the block runs."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def plan_nodes(statement: str, parameters: object) -> list[dict]:
    """The plan as {kind, table, index} nodes (kind: "search" or "scan")."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        details = [
            row[3]
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
        return [sqlite_node(detail) for detail in details]
    (document,) = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).one()
    return list(postgres_nodes(document[0]["Plan"]))


def sqlite_node(detail: str) -> dict:
    """Read one EXPLAIN QUERY PLAN line, e.g. ``SEARCH t USING INDEX i (a=?)``."""
    words = detail.split()
    index = words[words.index("INDEX") + 1] if "INDEX" in words else None
    kind = {"SEARCH": "search", "SCAN": "scan"}.get(words[0], "other")
    return {
        "kind": kind,
        "table": words[1] if len(words) > 1 else None,
        "index": index,
        "raw": detail,
    }


def postgres_nodes(node: dict) -> Iterator[dict]:
    """Flatten a PostgreSQL JSON plan; index scans are searches, sequential scans are scans."""
    node_type = node["Node Type"]
    if "Index Name" in node:
        yield {"kind": "search", "table": node.get("Relation Name"), "index": node["Index Name"],
               "raw": node_type}  # fmt: skip
    elif node_type == "Seq Scan":
        yield {"kind": "scan", "table": node["Relation Name"], "index": None, "raw": node_type}
    for child in node.get("Plans", []):
        yield from postgres_nodes(child)


def indexes_used(run: Callable[[], object]) -> set[str]:
    """Indexes searched by the statements ``run`` sends; fails on a full scan of a hot table."""
    with captured_sql() as statements:
        run()
    selects = [(sql, params) for sql, params in statements if sql.lstrip().startswith("SELECT")]
    assert selects, "the service ran no query"
    nodes = [node for sql, params in selects for node in plan_nodes(sql, params)]
    full_scans = [
        node["raw"] for node in nodes if node["kind"] == "scan" and node["table"] in HOT_TABLES
    ]
    assert full_scans == [], f"full scan of a hot table: {full_scans}"
    return {node["index"] for node in nodes if node["kind"] == "search"}


@pytest.mark.parametrize("index", list(CASES))
def test_hot_query_uses_its_index(loaded_app, index):
    assert index in indexes_used(CASES[index])


def test_unread_count_of_a_light_user_uses_a_partial_unread_index(loaded_app):
    """A dozen unread rows cost the same from either partial unread index; both are right."""
    used = indexes_used(lambda: notifications.count_unread(USER))
    assert used
    assert used <= {"idx_notifications_user_unread", "idx_notifications_user_unread_created"}


def test_every_index_has_a_hot_query():
    assert set(CASES) == {query.index for query in HOT_QUERIES}
