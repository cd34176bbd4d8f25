"""SQLite connection settings for the embedded default: WAL and a busy timeout."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine, event


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection: object, _record: object) -> None:
    """WAL lets readers and one writer work at once (gunicorn workers share the file);
    the busy timeout makes a writer wait for another's commit instead of failing."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
