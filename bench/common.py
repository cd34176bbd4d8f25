"""Shared helpers of the harness: paths, database URLs, the bench app context, results files."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DOCS_DIR = ROOT / "docs"
CHARTS_DIR = DOCS_DIR / "bench"
PG_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
BENCH_SECRET = "bench-secret-key-not-for-production-0123456789"
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
# Two runs on one machine (CI and a developer) keep apart with their own BENCH_DATABASE.
DATABASE_BASE_NAME = os.environ.get("BENCH_DATABASE", "fynix_bench")


def database_name(quick: bool) -> str:
    """Our own database name (never one a developer or the tests use)."""
    return f"{DATABASE_BASE_NAME}_quick" if quick else DATABASE_BASE_NAME


def sqlite_url(quick: bool) -> str:
    """The SQLite file of the benchmark, under the git-ignored bench/results/."""
    return f"sqlite:///{RESULTS_DIR / (database_name(quick) + '.db')}"


def postgres_url(quick: bool) -> str:
    """The PostgreSQL database of the benchmark."""
    return f"{PG_SERVER}/{database_name(quick)}"


def dialect_of(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(url).get_backend_name()


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg's conninfo."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def absolute_url(url: str) -> str:
    """The URL with a relative SQLite path made absolute (Flask-SQLAlchemy would put it
    under instance/)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(
            hide_password=False
        )
    return url


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist."""
    import psycopg

    parsed = make_url(url)
    admin = libpq_url(str(parsed.set(database="postgres")))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


@contextmanager
def bench_app_context(url: str) -> Iterator[Any]:
    """An app context of Fynix bound to ``url`` (quiet logs, no Redis)."""
    from config import DevelopmentConfig
    from fynix import create_app
    from fynix.extensions import db

    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url,
        LOG_LEVEL="WARNING",
        REDIS_URL=None,
        SECRET_KEY=BENCH_SECRET,
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def migrate_to(url: str, revision: str) -> None:
    """Upgrade or downgrade the schema of ``url`` to ``revision`` with Alembic."""
    from fynix.services.database_migration import DatabaseMigrationService

    with bench_app_context(url):
        service = DatabaseMigrationService()
        script = service._script()
        current = service.current_revision()
        if revision == "base":
            if current is not None:
                service.rollback("base")
            return
        target = script.get_revision(revision).revision if revision != "head" else None
        target = target or script.get_current_head()
        chain = [rev.revision for rev in script.walk_revisions("base", "heads")]
        if current is None or chain.index(current) > chain.index(target):
            service.apply_migration(target)
        elif current != target:
            service.rollback(target)


def save_result(name: str, data: dict) -> Path:
    """Write one benchmark's raw results as JSON under bench/results/."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def load_result(name: str) -> dict | None:
    """Read one benchmark's results, or None when it has not run."""
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of ``values``; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    """Median, 0.0 for none."""
    return statistics.median(values) if values else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when undefined."""
    return numerator / denominator if denominator else None
