"""Which indexes the app's queries can do without, measured by PostgreSQL's own planner.

In one transaction that is always rolled back, each index is dropped in turn (inside a
savepoint) and every hot query the app runs that used it is planned again. An index is
redundant when each of those queries is then served by another index just as directly:
no whole-table read, no sort, no rows filtered out, and an estimated cost at most
COST_RATIO times the original. The indexes found redundant stay dropped while the next
ones are measured, so every index flagged together can be dropped together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from fynix.admin.indexes import IndexInfo
from fynix.admin.plans import HOT_QUERIES, Plan, plan_of, render_sql
from fynix.extensions import db

# Below this many rows the planner reads a table whole whatever its indexes, so its
# choices say nothing about them yet.
MIN_ROWS = 1_000
# A stand-in index may cost this much more: a wider index of the same shape is worth
# one index less to maintain on every write.
COST_RATIO = 2.0
# DROP INDEX locks its table; wait this long at most, and users wait at most this long.
LOCK_TIMEOUT_MS = 200


@dataclass(frozen=True)
class Verdict:
    """What the measurement says about one index, and what an operator can do about it."""

    status: str  # "needed", "redundant", "unused", "unique", "small" or "not measured"
    detail: str
    replacement: str | None = None
    recommendation: str | None = None


def _worse(before: Plan, after: Plan, table: str) -> str | None:
    """How ``after`` serves the query worse than ``before``, or None."""
    filtered = {node.table for node in after.nodes if node.filtered}
    if table in after.scanned_tables - before.scanned_tables:
        reason = f"reads the whole {table} table"
    elif after.sorts and not before.sorts:
        reason = "sorts its rows"
    elif table in filtered - {node.table for node in before.nodes if node.filtered}:
        reason = "reads rows only to filter them out"
    elif after.cost > COST_RATIO * before.cost:
        reason = "costs more"
    else:
        return None
    return f"{reason} (estimated cost {before.cost:,.1f} → {after.cost:,.1f})"


def _reason(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0]


def _drop(connection: Connection, name: str) -> None:
    quoted = connection.dialect.identifier_preparer.quote(name)
    connection.exec_driver_sql(f"DROP INDEX {quoted}")


def _redundant(index: IndexInfo, before: dict[str, Plan], after: dict[str, Plan]) -> Verdict:
    stand_ins = sorted(set().union(*(plan.indexes for plan in after.values())))
    costs = ", ".join(
        f"{name} {before[name].cost:,.1f} → {after[name].cost:,.1f}" for name in before
    )
    replacement = ", ".join(stand_ins)
    return Verdict(
        "redundant",
        f"Without it, {replacement} serves every query the app runs that used it "
        f"just as directly (estimated cost: {costs}).",
        replacement,
        f"Drop it in a new migration (on PostgreSQL: DROP INDEX CONCURRENTLY {index.name}); "
        "it saves its size and a write on every insert and update of its rows.",
    )


def _judge(connection: Connection, index: IndexInfo, users: dict[str, Plan]) -> Verdict:
    """Drop ``index`` in a savepoint, plan its queries again; keep it dropped if redundant."""
    savepoint = connection.begin_nested()
    try:
        _drop(connection, index.name)
        after = {name: plan_of(sql, connection=connection) for name, (sql, _) in users.items()}
    except DBAPIError as error:
        savepoint.rollback()
        return Verdict("not measured", f"Could not drop it to measure: {_reason(error)}.")
    before = {name: plan for name, (_, plan) in users.items()}
    worse = {name: _worse(before[name], after[name], index.table) for name in users}
    needed = [f"{name} {reason}" for name, reason in worse.items() if reason]
    if needed:
        savepoint.rollback()
        return Verdict("needed", "Without it: " + "; ".join(needed) + ".")
    savepoint.commit()  # stays dropped (until the final rollback) for the next measurements
    return _redundant(index, before, after)


def _first_pass(index: IndexInfo, rows: dict[str, int], used: bool) -> Verdict | None:
    if index.unique:
        return Verdict("unique", "Enforces a rule (uniqueness): never a candidate to drop.")
    count = rows.get(index.table, 0)
    if count < MIN_ROWS:
        return Verdict(
            "small",
            f"{index.table} has {count:,} rows: the planner reads such a table whole, "
            f"so nothing can be measured before it holds {MIN_ROWS:,}.",
        )
    if not used:
        return Verdict(
            "unused",
            "No query the app runs reads it.",
            recommendation="If its scan count stays flat (no other client of the database "
            "uses it either), drop it in a new migration.",
        )
    return None


def _uses(baseline: dict[str, Plan], sqls: dict[str, str], index: str) -> dict:
    """name -> (sql, plan) of the app's queries whose plan reads ``index``."""
    return {name: (sqls[name], plan) for name, plan in baseline.items() if index in plan.indexes}


def measure(indexes: list[IndexInfo], rows: dict[str, int]) -> dict[str, Verdict]:
    """PostgreSQL: a verdict per index; nothing is changed (the transaction rolls back)."""
    connection = db.session.connection()
    sqls = {q.name: render_sql(q.statement()) for q in HOT_QUERIES if q.runs_in is not None}
    outer = connection.begin_nested()
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        baseline = {name: plan_of(sql, connection=connection) for name, sql in sqls.items()}
        verdicts = {}
        for index in indexes:
            verdict = _first_pass(index, rows, bool(_uses(baseline, sqls, index.name)))
            if verdict is not None:
                verdicts[index.name] = verdict
        # Unused indexes go first, so that no stand-in is an index flagged for dropping.
        for name, verdict in verdicts.items():
            if verdict.status == "unused":
                _drop(connection, name)
        for index in indexes:
            if index.name not in verdicts:
                users = _uses(baseline, sqls, index.name)
                verdicts[index.name] = _judge(connection, index, users)
    except DBAPIError as error:
        verdict = Verdict("not measured", f"The measurement stopped: {_reason(error)}.")
        verdicts = {index.name: verdict for index in indexes}
    finally:
        outer.rollback()
    return verdicts
