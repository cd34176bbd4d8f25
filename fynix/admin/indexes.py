"""What /admin/database says about indexes: definitions, PostgreSQL's counters, row counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import func, inspect, select

from fynix.extensions import db


@dataclass(frozen=True)
class IndexInfo:
    """One index as the database reports it (scans and size: PostgreSQL only)."""

    name: str
    table: str
    columns: list[str]
    unique: bool
    condition: str | None
    definition: str
    scans: int | None = None
    size_bytes: int | None = None


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


def _usage() -> dict[str, tuple[int, int]]:
    """PostgreSQL: (scans since the statistics were reset, bytes on disk) per index."""
    if db.engine.dialect.name != "postgresql":
        return {}
    rows = db.session.execute(
        sa.text(
            "SELECT indexrelname, idx_scan, pg_relation_size(indexrelid)"
            " FROM pg_stat_user_indexes WHERE schemaname = current_schema()"
        )
    )
    return {name: (scans, size) for name, scans, size in rows}


def statistics_since() -> datetime | None:
    """PostgreSQL: when this database's usage counters were last reset (None: never)."""
    if db.engine.dialect.name != "postgresql":
        return None
    return db.session.scalar(
        sa.text("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()")
    )


def _condition(definition: str) -> str | None:
    """The WHERE clause of a partial index, or None."""
    head, separator, tail = definition.partition(" WHERE ")
    return tail.strip() if separator and head else None


def list_indexes() -> list[IndexInfo]:
    """Every index of every table: name, columns, uniqueness, partial condition, usage."""
    inspector = sa.inspect(db.engine)
    definitions, usage = _index_definitions(), _usage()
    indexes = []
    for table in sorted(inspector.get_table_names()):
        for index in inspector.get_indexes(table):
            name = index["name"] or ""
            definition = definitions.get(name, "")
            scans, size = usage.get(name, (None, None))
            indexes.append(
                IndexInfo(
                    name=name,
                    table=table,
                    columns=[str(column) for column in index["column_names"]],
                    unique=bool(index["unique"]),
                    condition=_condition(definition),
                    definition=definition,
                    scans=scans,
                    size_bytes=size,
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
