"""Scratch databases for schema tests: a SQLite file, or a new PostgreSQL database.

Migration and query-plan tests need a database they can empty, downgrade and fill
without disturbing the shared test database, so each gets its own and drops it after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from config import TestingConfig
from fynix import create_app
from fynix.extensions import db
from tests.services import unavailable

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def scratch_database(dialect: str, directory: Path) -> Iterator[str]:
    """URL of an empty database: a file in ``directory``, or one on TEST_POSTGRES_URL's server."""
    if dialect == "sqlite":
        yield f"sqlite:///{directory / 'scratch.db'}"
        return
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        unavailable("TEST_POSTGRES_URL is not set: PostgreSQL tests need a server")
    import psycopg
    from psycopg import sql

    url = make_url(base)
    name = f"{url.database}_scratch_{uuid.uuid4().hex[:10]}"
    server = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    with psycopg.connect(**server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def scratch_app(url: str) -> Iterator[Flask]:
    """An app on ``url`` with its context pushed; its connections are closed afterwards."""
    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=url,
        CACHE_KEY_PREFIX=f"fynixtest-{uuid.uuid4().hex[:10]}",
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
