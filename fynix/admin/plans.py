"""What /admin/database inspects: the hot queries and their plans, the indexes, row counts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Select, func, inspect, select

from fynix.ai.models import AIInteraction
from fynix.extensions import db
from fynix.notifications.models import Notification
from fynix.notifications.services import UNREAD
from fynix.portfolio.models import Position
from fynix.users.models import User
from fynix.users.services import EMAIL_PRESENT

# Sample values bound as literals: the plan depends on the query's shape, not on the values.
USER_ID = 1
PAGE = 20


@dataclass(frozen=True)
class HotQuery:
    """A query the API runs on every request of some endpoint, and the index meant to serve it."""

    name: str
    statement: Select
    index: str


@dataclass(frozen=True)
class QueryPlan:
    """A hot query as the database would run it now."""

    name: str
    sql: str
    index: str
    plan: list[str]
    uses_index: bool


@dataclass(frozen=True)
class IndexInfo:
    """One index as the database reports it."""

    name: str
    table: str
    columns: list[str]
    unique: bool
    condition: str | None
    definition: str


HOT_QUERIES: tuple[HotQuery, ...] = (
    HotQuery(
        "Unread count",
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == USER_ID, UNREAD),
        "idx_notifications_user_unread",
    ),
    HotQuery(
        "Unread notifications, newest first",
        select(Notification)
        .where(Notification.user_id == USER_ID, UNREAD)
        .order_by(Notification.created_at.desc())
        .limit(PAGE),
        "idx_notifications_user_unread_created",
    ),
    HotQuery(
        "Notifications, newest first",
        select(Notification)
        .where(Notification.user_id == USER_ID)
        .order_by(Notification.created_at.desc())
        .limit(PAGE),
        "idx_notifications_user_created",
    ),
    HotQuery(
        "Notifications of one type",
        select(Notification)
        .where(Notification.user_id == USER_ID, Notification.type == "price_alert")
        .order_by(Notification.created_at.desc())
        .limit(PAGE),
        "idx_notifications_user_type_created",
    ),
    HotQuery(
        "Latest notifications of a type (all users)",
        select(Notification)
        .where(Notification.type == "system")
        .order_by(Notification.created_at.desc())
        .limit(PAGE),
        "idx_notifications_type_created",
    ),
    HotQuery(
        "Login by email",
        select(User).where(User.email == "admin@example.com", EMAIL_PRESENT),
        "idx_users_email",
    ),
    HotQuery(
        "Login by username",
        select(User).where(User.username == "admin"),
        "idx_users_username",
    ),
    HotQuery(
        "Positions of a user",
        select(Position).where(Position.user_id == USER_ID).order_by(Position.symbol).limit(PAGE),
        "idx_portfolio_positions_user_symbol",
    ),
    HotQuery(
        "Holders of a symbol",
        select(Position.user_id).where(Position.symbol == "AAPL"),
        "idx_portfolio_positions_symbol",
    ),
    HotQuery(
        "AI session of a user",
        select(AIInteraction).where(
            AIInteraction.user_id == USER_ID, AIInteraction.session_id == "session-1"
        ),
        "idx_ai_interactions_user_session",
    ),
    HotQuery(
        "AI thread, oldest first",
        select(AIInteraction)
        .where(AIInteraction.thread_id == "thread-1")
        .order_by(AIInteraction.created_at),
        "idx_ai_interactions_thread_created",
    ),
    HotQuery(
        "AI history of a user, newest first",
        select(AIInteraction)
        .where(AIInteraction.user_id == USER_ID)
        .order_by(AIInteraction.created_at.desc())
        .limit(PAGE),
        "idx_ai_interactions_user_created",
    ),
)


def render_sql(statement: Select) -> str:
    """The statement in this database's dialect, with its sample values inlined."""
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


def explain(sql: str) -> list[str]:
    """The current plan of ``sql``: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return [row[3] for row in rows]
    if dialect == "postgresql":
        return [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]
    return [f"(plans are shown for SQLite and PostgreSQL; this database is {dialect})"]


def explain_hot_queries() -> list[QueryPlan]:
    """Every hot query with its current plan and whether that plan names its index."""
    plans = []
    for query in HOT_QUERIES:
        sql = render_sql(query.statement)
        plan = explain(sql)
        uses = any(query.index in line for line in plan)
        plans.append(QueryPlan(query.name, sql, query.index, plan, uses))
    return plans


def _index_definitions() -> dict[str, str]:
    """CREATE INDEX text per index name, as the database stores it."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        query = sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    elif dialect == "postgresql":
        query = sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
    else:
        return {}
    return dict(db.session.execute(query).all())


def _condition(definition: str) -> str | None:
    """The WHERE clause of a partial index, or None."""
    head, separator, tail = definition.partition(" WHERE ")
    return tail.strip() if separator and head else None


def list_indexes() -> list[IndexInfo]:
    """Every index of every table: name, columns, uniqueness and partial condition."""
    inspector = sa.inspect(db.engine)
    definitions = _index_definitions()
    indexes = []
    for table in sorted(inspector.get_table_names()):
        for index in inspector.get_indexes(table):
            definition = definitions.get(index["name"] or "", "")
            indexes.append(
                IndexInfo(
                    name=index["name"] or "",
                    table=table,
                    columns=[str(column) for column in index["column_names"]],
                    unique=bool(index["unique"]),
                    condition=_condition(definition),
                    definition=definition,
                )
            )
    return sorted(indexes, key=lambda info: (info.table, info.name))


def count_rows() -> dict[str, int]:
    """Rows per application table that exists (a schema behind head lacks the newer ones)."""
    present = set(inspect(db.session.connection()).get_table_names())
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
        if table.name in present
    }
