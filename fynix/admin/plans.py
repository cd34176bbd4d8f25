"""The hot queries, as the services spell them, and how the database plans them.

Each statement comes from the service that runs it (``notifications.unread_count_stmt``,
...), so the plan shown on /admin/database, timed by ``bench`` and checked by
tests/test_index_plans.py is the plan users get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Dialect, Select, select
from sqlalchemy.exc import DBAPIError

from fynix.ai import services as ai
from fynix.ai.models import AIInteraction
from fynix.common.pagination import page_window
from fynix.extensions import db
from fynix.notifications import services as notifications
from fynix.notifications.models import Notification
from fynix.portfolio import services as portfolio
from fynix.portfolio.models import Position
from fynix.users import services as users

PAGE = 20  # the default per_page of the list endpoints


@dataclass(frozen=True)
class Sample:
    """Values bound into the hot queries: a plan depends on the query's shape, not on them."""

    user_id: int = 1
    email: str = "admin@example.com"
    username: str = "admin"
    type: str = "price_alert"
    symbol: str = "AAPL"
    session_id: str = "session-1"
    thread_id: str = "thread-1"


@dataclass(frozen=True)
class HotQuery:
    """A query some endpoint runs on every request, and the index meant to serve it."""

    name: str
    index: str
    build: Callable[[Sample], Select]
    # The service function that runs the statement; None: no endpoint runs it yet.
    runs_in: str | None

    def statement(self, sample: Sample | None = None) -> Select:
        """The statement with ``sample``'s values (default: Sample())."""
        return self.build(sample or Sample())


def _first_page(statement: Select) -> Select:
    return page_window(statement, 1, PAGE)


def _latest_of_type(sample: Sample) -> Select:
    # No endpoint lists notifications across users yet: spelled here, its only place.
    return (
        select(Notification)
        .where(Notification.type == sample.type)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE)
    )


def _holders(sample: Sample) -> Select:
    # No endpoint runs it since prices are cached apart from holdings (a quote change no
    # longer looks up who holds the symbol): spelled here, its only place.
    return select(Position.user_id).where(Position.symbol == sample.symbol).distinct()


def _ai_session(sample: Sample) -> Select:
    # No endpoint reads a session yet: spelled here, its only place.
    return select(AIInteraction).where(
        AIInteraction.user_id == sample.user_id, AIInteraction.session_id == sample.session_id
    )


HOT_QUERIES: tuple[HotQuery, ...] = (
    HotQuery("Unread count", "idx_notifications_user_unread",
             lambda s: notifications.unread_count_stmt(s.user_id),
             "notifications.services.count_unread"),
    HotQuery("Unread notifications, newest first", "idx_notifications_user_unread_created",
             lambda s: _first_page(notifications.notifications_page_stmt(s.user_id, unread=True)),
             "notifications.services.list_notifications"),
    HotQuery("Notifications, newest first", "idx_notifications_user_created",
             lambda s: _first_page(notifications.notifications_page_stmt(s.user_id)),
             "notifications.services.list_notifications"),
    HotQuery("Notifications of one type", "idx_notifications_user_type_created",
             lambda s: _first_page(notifications.notifications_page_stmt(s.user_id, type=s.type)),
             "notifications.services.list_notifications"),
    HotQuery("Latest notifications of a type (all users)", "idx_notifications_type_created",
             _latest_of_type, None),
    HotQuery("Login by email", "idx_users_email",
             lambda s: users.login_stmt(s.email), "users.services.find_by_login"),
    HotQuery("Login by username", "idx_users_username",
             lambda s: users.login_stmt(s.username), "users.services.find_by_login"),
    HotQuery("Positions of a user", "idx_portfolio_positions_user_symbol",
             lambda s: _first_page(portfolio.positions_page_stmt(s.user_id)),
             "portfolio.services.list_positions"),
    HotQuery("Holdings of a user (summary)", "idx_portfolio_positions_user_symbol",
             lambda s: portfolio.holdings_stmt(s.user_id), "portfolio.services.load_holdings"),
    HotQuery("Holders of a symbol", "idx_portfolio_positions_symbol", _holders, None),
    HotQuery("AI session of a user", "idx_ai_interactions_user_session", _ai_session, None),
    HotQuery("AI thread, oldest first", "idx_ai_interactions_thread_created",
             lambda s: ai.thread_stmt(s.user_id, s.thread_id), "ai.services.get_thread"),
    HotQuery("AI threads of a user, most recent first", "idx_ai_interactions_user_created",
             lambda s: _first_page(ai.threads_page_stmt(s.user_id)), "ai.services.list_threads"),
)  # fmt: skip


@dataclass(frozen=True)
class PlanNode:
    """One step of a plan: a search through an index, a whole-table scan, a sort, or other."""

    kind: str  # "search", "scan" (whole table, or whole index on SQLite), "sort" or "other"
    table: str | None
    index: str | None
    filtered: bool  # rows are read, then some dropped by a Filter (PostgreSQL)
    raw: str


@dataclass(frozen=True)
class Plan:
    """A statement's plan: its text, its steps, and PostgreSQL's estimated total cost."""

    lines: list[str]
    nodes: list[PlanNode]
    cost: float | None

    @property
    def indexes(self) -> set[str]:
        """Names of the indexes the plan reads, exactly as the database names them."""
        return {node.index for node in self.nodes if node.index}

    @property
    def scanned_tables(self) -> set[str]:
        """Tables the plan reads whole."""
        return {node.table for node in self.nodes if node.kind == "scan" and node.table}

    @property
    def sorts(self) -> bool:
        """Whether the plan sorts rows itself (no index gives the order)."""
        return any(node.kind == "sort" for node in self.nodes)


def render_sql(statement: Select, dialect: Dialect | None = None) -> str:
    """The statement in ``dialect`` (default: this app's database), its values inlined."""
    compiled = statement.compile(
        dialect=dialect or db.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def sqlite_node(detail: str) -> PlanNode:
    """Read one EXPLAIN QUERY PLAN line, e.g. ``SEARCH t USING COVERING INDEX i (a=?)``."""
    words = detail.split()
    index = words[words.index("INDEX") + 1] if "INDEX" in words else None
    kind = {"SEARCH": "search", "SCAN": "scan"}.get(words[0], "other")
    if kind == "other" and "TEMP B-TREE" in detail:
        kind = "sort"
    table = words[1] if kind in ("search", "scan") and len(words) > 1 else None
    return PlanNode(kind, table, index, False, detail)


def postgres_nodes(node: dict) -> Iterator[PlanNode]:
    """Flatten a PostgreSQL JSON plan into its steps."""
    node_type = node["Node Type"]
    table, filtered = node.get("Relation Name"), "Filter" in node
    if "Index Name" in node:
        yield PlanNode("search", table, node["Index Name"], filtered, node_type)
    elif node_type == "Seq Scan":
        yield PlanNode("scan", table, None, filtered, node_type)
    else:
        yield PlanNode("sort" if "Sort" in node_type else "other", table, None, filtered, node_type)
    for child in node.get("Plans", []):
        yield from postgres_nodes(child)


def plan_of(sql: str, parameters: object = None, connection: Connection | None = None) -> Plan:
    """How the database would run ``sql`` now (SQLite and PostgreSQL)."""
    connection = connection or db.session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
        details = [row[3] for row in rows]
        return Plan(details, [sqlite_node(detail) for detail in details], None)
    if dialect == "postgresql":
        (document,) = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters).one()
        root = document[0]["Plan"]
        lines = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}", parameters)]
        return Plan(lines, list(postgres_nodes(root)), float(root["Total Cost"]))
    return Plan(
        [f"(plans are shown for SQLite and PostgreSQL; this database is {dialect})"], [], None
    )


@dataclass(frozen=True)
class QueryPlan:
    """A hot query as the database would run it now."""

    query: HotQuery
    sql: str
    plan: Plan

    @property
    def uses_index(self) -> bool:
        """Whether the plan reads the query's own index (names compared exactly)."""
        return self.query.index in self.plan.indexes


def explain_hot_queries(sample: Sample | None = None) -> list[QueryPlan]:
    """Every hot query with its current plan (or why there is none)."""
    plans = []
    for query in HOT_QUERIES:
        sql = render_sql(query.statement(sample))
        plans.append(QueryPlan(query, sql, _plan_or_reason(sql)))
    return plans


def _plan_or_reason(sql: str) -> Plan:
    """The plan, or a note when the database cannot plan it (e.g. a column a pending
    migration adds): the page still shows everything else, and the upgrade button."""
    try:
        with db.session.begin_nested():
            return plan_of(sql)
    except DBAPIError as error:
        reason = error.orig.__class__.__name__ if error.orig else error.__class__.__name__
        return Plan([f"no plan ({reason}): is a migration pending?"], [], None)
