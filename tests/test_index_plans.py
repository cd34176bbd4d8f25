"""Each hot query is served by its index, on SQLite and on PostgreSQL.

The hot queries are fynix.admin.plans.HOT_QUERIES, whose statements come from the
services that run them. Each case calls that service, checks that the SQL it sends is
the statement it exposes (so /admin/database and the benchmark show what users get),
then asks the planner (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN (FORMAT
JSON)``) how it would run it, on tables with enough rows and fresh statistics. The two
hot queries no endpoint runs yet are run as the admin page spells them. The same
tables then feed the index-redundancy measurement of /admin/database (PostgreSQL).
docs/indexes.md has the same table for humans.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fynix.admin import indexes, redundancy
from fynix.admin.plans import HOT_QUERIES, HotQuery, Sample, plan_of
from fynix.ai import services as ai
from fynix.extensions import db
from fynix.notifications import services as notifications
from fynix.portfolio import services as portfolio
from fynix.services.database_migration import DatabaseMigrationService
from fynix.users import services as users
from tests.conftest import captured_sql
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
SAMPLE = Sample(
    user_id=USER,
    email=f"user{USER}@example.com",
    username=f"user{USER}",
    type="market",
    symbol="S007",
    session_id=f"s{USER}-1",
    thread_id=f"t{USER}-1-1",
)

# Hot query -> the service call that runs it with a sample's values. The unread count is
# asked for the heavy user: for a dozen unread rows both partial unread indexes cost the
# same and PostgreSQL may pick either (see test_unread_count_of_a_light_user_...).
RUNS: dict[str, Callable[[Sample], object]] = {
    "Unread count": lambda s: notifications.count_unread(s.user_id),
    "Unread notifications, newest first": lambda s: notifications.list_notifications(
        s.user_id, page=1, per_page=20, unread=True
    ),
    "Notifications, newest first": lambda s: notifications.list_notifications(
        s.user_id, page=1, per_page=20
    ),
    "Notifications of one type": lambda s: notifications.list_notifications(
        s.user_id, page=1, per_page=20, type=s.type
    ),
    "Login by email": lambda s: users.find_by_login(s.email),
    "Login by username": lambda s: users.find_by_login(s.username),
    "Positions of a user": lambda s: portfolio.list_positions(s.user_id, 1, 20),
    "Holdings of a user (summary)": lambda s: portfolio.load_holdings(s.user_id),
    "AI thread, oldest first": lambda s: ai.get_thread(s.user_id, s.thread_id),
    "AI threads of a user, most recent first": lambda s: ai.list_threads(s.user_id, 1, 20),
}
SAMPLES = {"Unread count": replace(SAMPLE, user_id=HEAVY)}


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
            if rows[table.name]:  # tables without a hot query stay empty
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


def sent_sql(statement: sa.Select) -> str:
    """``statement`` as the driver receives it (bound parameters, expanded IN lists)."""
    compiled = statement.compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    return str(compiled)


def run_hot_query(app, query: HotQuery) -> list[tuple[str, object]]:
    """SELECTs sent when the query's service runs (or the statement, if none does)."""
    sample = SAMPLES.get(query.name, SAMPLE)
    statement = query.statement(sample)
    with captured_sql(app) as statements:
        if query.runs_in is None:
            db.session.execute(statement).all()
        else:
            RUNS[query.name](sample)
    selects = [(sql, params) for sql, params in statements if sql.lstrip().startswith("SELECT")]
    assert selects, "the service ran no query"
    assert sent_sql(statement) in [sql for sql, _params in selects], (
        f"{query.runs_in} sends another statement than the one it exposes"
    )
    return selects


def indexes_used(selects: list[tuple[str, object]]) -> set[str]:
    """Indexes searched by these statements; fails on a full scan of a hot table."""
    nodes = [node for sql, params in selects for node in plan_of(sql, params).nodes]
    full_scans = [node.raw for node in nodes if node.kind == "scan" and node.table in HOT_TABLES]
    assert full_scans == [], f"full scan of a hot table: {full_scans}"
    return {node.index for node in nodes if node.kind == "search"}


@pytest.mark.parametrize("query", HOT_QUERIES, ids=[query.index for query in HOT_QUERIES])
def test_hot_query_uses_its_index(loaded_app, query):
    assert query.index in indexes_used(run_hot_query(loaded_app, query))


def test_every_service_that_runs_a_hot_query_is_exercised():
    assert set(RUNS) == {query.name for query in HOT_QUERIES if query.runs_in is not None}


def test_unread_count_of_a_light_user_uses_a_partial_unread_index(loaded_app):
    """A dozen unread rows cost the same from either partial unread index; both are right."""
    with captured_sql(loaded_app) as statements:
        notifications.count_unread(USER)
    used = indexes_used(statements)
    assert used
    assert used <= {"idx_notifications_user_unread", "idx_notifications_user_unread_created"}


def test_every_index_has_a_hot_query(loaded_app):
    inspector = sa.inspect(db.engine)
    created = {
        index["name"]
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
        if index["name"].startswith("idx_")
    }
    assert len(created) == 12
    assert created == {query.index for query in HOT_QUERIES}


# --- what /admin/database measures on PostgreSQL ------------------------------------------


# Redundancy is measured on PostgreSQL only (SQLite's page shows its plans).
ON_POSTGRESQL = pytest.mark.parametrize("loaded_app", [DIALECTS[1]], indirect=True)


def measure() -> dict[str, redundancy.Verdict]:
    return redundancy.measure(indexes.list_indexes(), indexes.count_rows())


@ON_POSTGRESQL
def test_measurement_flags_the_narrow_unread_index_as_redundant_and_changes_nothing(loaded_app):
    verdicts = measure()
    by_status: dict[str, set[str]] = {}
    for name, verdict in verdicts.items():
        by_status.setdefault(verdict.status, set()).add(name)
    # (user_id, is_read) WHERE is_read = false adds nothing to (user_id, created_at) WHERE
    # is_read = false: the unread count reads the wider one just as directly.
    assert by_status["redundant"] == {"idx_notifications_user_unread"}
    narrow = verdicts["idx_notifications_user_unread"]
    assert narrow.replacement == "idx_notifications_user_unread_created"
    assert "DROP INDEX CONCURRENTLY idx_notifications_user_unread" in narrow.recommendation
    # Holders of a symbol: no longer looked up since prices are cached apart from holdings.
    assert by_status["unused"] == {
        "idx_notifications_type_created",
        "idx_ai_interactions_user_session",
        "idx_portfolio_positions_symbol",
    }
    assert by_status["unique"] == {
        "idx_users_email", "idx_users_username", "idx_portfolio_positions_user_symbol",
    }  # fmt: skip
    assert by_status["needed"] == {
        "idx_notifications_user_unread_created", "idx_notifications_user_created",
        "idx_notifications_user_type_created",
        "idx_ai_interactions_thread_created", "idx_ai_interactions_user_created",
    }  # fmt: skip
    assert verdicts["idx_portfolio_positions_symbol"].detail == "No query the app runs reads it."
    db.session.rollback()
    assert {index.name for index in indexes.list_indexes()} >= set(verdicts)  # all still there


@ON_POSTGRESQL
def test_measurement_gives_up_on_a_busy_table_instead_of_blocking_it(loaded_app):
    other = db.engine.connect()
    other.begin()
    other.exec_driver_sql("LOCK TABLE notifications IN ACCESS SHARE MODE")  # a long reader
    try:
        verdicts = measure()
    finally:
        other.rollback()
        other.close()
    notification_indexes = [name for name in verdicts if name.startswith("idx_notifications")]
    assert {verdicts[name].status for name in notification_indexes} == {"not measured"}
    assert all("lock timeout" in verdicts[name].detail for name in notification_indexes)
    db.session.rollback()
    assert len(measure()) == len(verdicts)  # the session is usable afterwards
