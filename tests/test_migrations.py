"""Migrations on SQLite and PostgreSQL: the 12 indexes, round trips, drift, the service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import current_app

from fynix.extensions import db
from fynix.services.database_migration import DatabaseMigrationService
from tests.scratch_db import DIALECTS, scratch_app, scratch_database

ROOT = Path(__file__).resolve().parent.parent
HEAD = "0005_market_feed_status"
INDEXES = {
    "idx_notifications_user_unread",
    "idx_notifications_user_unread_created",
    "idx_notifications_user_created",
    "idx_notifications_user_type_created",
    "idx_notifications_type_created",
    "idx_users_email",
    "idx_users_username",
    "idx_portfolio_positions_user_symbol",
    "idx_portfolio_positions_symbol",
    "idx_ai_interactions_user_session",
    "idx_ai_interactions_thread_created",
    "idx_ai_interactions_user_created",
}
PARTIAL = {
    "idx_notifications_user_unread",
    "idx_notifications_user_unread_created",
    "idx_users_email",
}
UNIQUE = {"idx_users_email", "idx_users_username", "idx_portfolio_positions_user_symbol"}
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(params=DIALECTS)
def scratch_url(request, tmp_path):
    """An empty scratch database of each dialect."""
    with scratch_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def service(scratch_url):
    """DatabaseMigrationService inside an app on the scratch database."""
    with scratch_app(scratch_url):
        yield DatabaseMigrationService()


def index_definitions() -> dict[str, str]:
    """Name -> CREATE INDEX statement of every idx_* index in the database."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        else:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        rows = connection.execute(sa.text(query)).all()
    return {name: definition for name, definition in rows if name.startswith("idx_")}


def app_tables() -> set[str]:
    """Tables of the database other than Alembic's bookkeeping table."""
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_the_twelve_indexes(service):
    service.run_migrations()
    definitions = index_definitions()
    assert set(definitions) == INDEXES
    for name in PARTIAL:
        assert " WHERE " in definitions[name].upper(), definitions[name]
    for name in INDEXES:
        assert ("UNIQUE" in definitions[name].upper()) == (name in UNIQUE), definitions[name]
    assert app_tables() == set(db.metadata.tables)


def test_downgrade_base_drops_everything_and_upgrade_rebuilds(service):
    service.run_migrations()
    service.rollback("base")
    assert app_tables() == set()
    assert index_definitions() == {}
    service.run_migrations()
    assert set(index_definitions()) == INDEXES


def insert_one_of_everything() -> None:
    """A row in every table, with exact decimals and UTC timestamps."""
    tables = db.metadata.tables
    stamps = {"created_at": MOMENT}
    with db.engine.begin() as connection:
        user = {"email": "ana@example.com", "username": "ana", "password_hash": "x"}
        user_id = connection.execute(
            sa.insert(tables["users"]).values(**user, updated_at=MOMENT, **stamps)
        ).inserted_primary_key[0]
        connection.execute(
            sa.insert(tables["market_quotes"]),
            {"symbol": "AAPL", "price": Decimal("189.123456"), "updated_at": MOMENT},
        )
        connection.execute(
            sa.insert(tables["portfolio_positions"]),
            {"user_id": user_id, "symbol": "AAPL", "quantity": Decimal("1.12345678"),
             "average_cost": Decimal("150.5"), "updated_at": MOMENT, **stamps},
        )  # fmt: skip
        connection.execute(
            sa.insert(tables["notifications"]),
            [{"user_id": user_id, "type": "system", "title": f"t{n}", "body": "b",
              "is_read": n % 2 == 0, **stamps} for n in range(3)],
        )  # fmt: skip
        connection.execute(
            sa.insert(tables["ai_interactions"]),
            {"user_id": user_id, "session_id": "s1", "thread_id": "t1", "prompt": "p",
             "response": "r", **stamps},
        )  # fmt: skip


# Added after 0001: a column with a fresh random value per row, and tables 0001 lacks.
NOT_KEPT = {"security_stamp"}
LATER_TABLES = {"revoked_tokens", "market_feed_status"}


def snapshot() -> dict[str, list]:
    """Every row of every table 0001 has, in primary-key order (columns that 0001 has)."""
    with db.engine.connect() as connection:
        return {
            name: connection.execute(
                sa.select(*(c for c in table.columns if c.name not in NOT_KEPT)).order_by(
                    *table.primary_key
                )
            ).all()
            for name, table in db.metadata.tables.items()
            if name not in LATER_TABLES
        }


def test_round_trip_through_0001_keeps_rows(service):
    service.run_migrations()
    insert_one_of_everything()
    before = snapshot()
    assert sum(len(rows) for rows in before.values()) == 7

    status = service.rollback("0001_schema")
    assert status["current"] == "0001_schema"
    assert index_definitions() == {}
    assert snapshot() == before

    service.run_migrations()
    assert set(index_definitions()) == INDEXES
    assert snapshot() == before
    with db.engine.connect() as connection:
        stamps = connection.execute(sa.text("SELECT security_stamp FROM users")).scalars().all()
    assert stamps
    assert all(re.fullmatch(r"[0-9a-f]{16}", stamp) for stamp in stamps)


def test_models_match_the_migrations(service):
    """The equivalent of ``flask db check``: autogenerate finds nothing to add."""
    service.run_migrations()
    options = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, db.metadata) == []


def test_service_reports_and_moves_the_revision(service):
    status = service.check_migration_status()
    assert status["current"] is None
    assert status["head"] == HEAD
    assert status["at_head"] is False
    assert status["applied"] == []
    revisions = [rev["revision"] for rev in status["pending"]]
    assert revisions[:2] == ["0001_schema", "0002_performance_indexes"]
    assert revisions[-1] == HEAD
    assert all(rev["description"] for rev in status["pending"])

    status = service.apply_migration("0001_schema")
    assert (status["current"], status["at_head"]) == ("0001_schema", False)
    assert [rev["revision"] for rev in status["applied"]] == ["0001_schema"]
    assert [rev["revision"] for rev in status["pending"]] == revisions[1:]

    status = service.run_migrations()
    assert (status["current"], status["at_head"], status["pending"]) == (HEAD, True, [])
    assert set(index_definitions()) == INDEXES

    assert service.rollback()["current"] == revisions[-2]
    assert service.rollback("base")["current"] is None
    assert app_tables() == set()


def flask_db(url: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``flask --app wsgi db ARGS`` as an operator would, against ``url``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("REDIS")}
    env.update(FYNIX_ENV="development", DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_flask_db_commands(scratch_url):
    """The documented db commands: upgrade from empty, check for drift, downgrade to base."""
    upgrade = flask_db(scratch_url, "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"-> {HEAD}" in upgrade.stderr

    check = flask_db(scratch_url, "check")
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    downgrade = flask_db(scratch_url, "downgrade", "base")
    assert downgrade.returncode == 0, downgrade.stderr
    with scratch_app(scratch_url):
        assert app_tables() == set()
