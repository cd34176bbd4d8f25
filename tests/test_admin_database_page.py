"""The admin database page: indexes, hot-query plans, measuring and the schema upgrade."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from jinja2.filters import do_filesizeformat

from fynix.extensions import db
from tests.admin_pages import flashes

IDX_ROW_RE = re.compile(r'class="index-row" data-name="(idx_[a-z_]+)"')


def _head_revision(app) -> str:
    from fynix.services.database_migration import DatabaseMigrationService

    with app.app_context():
        return DatabaseMigrationService().check_migration_status()["head"]


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


PLAN_ROW_RE = re.compile(
    r'<tr class="plan-row" data-index="(idx_[a-z_]+)" data-uses-index="(yes|no)" '
    r'data-plan-indexes="([a-z_ ]*)">'
)


def test_database_page_lists_the_12_indexes_and_the_head_revision(signed_in_admin, pages):
    html = pages.text("/admin/database")
    indexes = IDX_ROW_RE.findall(html)
    assert len(indexes) == 12
    assert len(set(indexes)) == 12
    head = _head_revision(pages.client.application)
    assert re.search(rf'id="current-revision"><code>{head}</code>', html)
    assert re.search(rf'id="head-revision"><code>{head}</code>', html)
    assert "at head" in html
    partial = re.findall(
        r'data-name="(idx_[a-z_]+)">(?:(?!</tr>).)*?class="condition"><code>([^<]+)</code>',
        html,
        re.S,
    )
    assert {name for name, _ in partial} == {
        "idx_notifications_user_unread",
        "idx_notifications_user_unread_created",
        "idx_users_email",
    }
    rows = PLAN_ROW_RE.findall(html)
    assert len(rows) == 13  # one per hot query: 12 indexes, the user's positions read twice
    for index, verdict, read in rows:
        assert (verdict == "yes") == (index in read.split()), (index, read)
    if _dialect(pages.client.application) == "sqlite":  # PostgreSQL reads tiny tables whole
        # Without statistics SQLite may pick another index (for the AI thread, a user_id one).
        assert [index for index, _verdict, read in rows if not read] == []
    assert "run by <code>notifications.services.count_unread</code>" in html
    assert re.search(r'data-table="users"><td>users</td><td class="num">\d+</td>', html)


def test_small_tables_read_whole_raise_no_alarm(signed_in_admin, pages):
    html = pages.text("/admin/database")
    assert "status-down" not in html
    assert "large table" not in html  # the badge a whole read of a table of 1,000+ rows gets
    assert "On small tables PostgreSQL may prefer a sequential scan" not in html  # no excuses


@contextmanager
def _index_dropped(app, name: str) -> Iterator[None]:
    """Drop index ``name`` for the block, then create it again from its own definition."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = :name"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
        with db.engine.begin() as connection:
            definition = connection.scalar(sa.text(query), {"name": name})
            connection.exec_driver_sql(f"DROP INDEX {name}")
        db.engine.dispose()
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.exec_driver_sql(definition)


def test_uses_it_compares_index_names_exactly(signed_in_admin, pages):
    app = pages.client.application
    with _index_dropped(app, "idx_notifications_user_unread"):
        html = pages.text("/admin/database")
    (row,) = [row for row in PLAN_ROW_RE.findall(html) if row[0] == "idx_notifications_user_unread"]
    _index, verdict, read = row
    # The unread count now reads idx_notifications_user_unread_created (SQLite) or the whole
    # table (PostgreSQL, tiny table): neither is its index, whose name is a prefix of the first.
    assert verdict == "no"
    if _dialect(app) == "sqlite":
        assert read == "idx_notifications_user_unread_created"
    assert len(IDX_ROW_RE.findall(pages.text("/admin/database"))) == 12  # created again


def test_index_table_shows_what_the_database_itself_reports(signed_in_admin, pages):
    app = pages.client.application
    html = pages.text("/admin/database")
    if _dialect(app) == "sqlite":
        assert 'data-stat="scans"' not in html
        assert "SQLite keeps no usage counters per index" in html
        assert 'id="measure-form"' not in html
        return
    with app.app_context():
        usage = dict(
            db.session.execute(
                sa.text(
                    "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes"
                )
            ).all()
        )
    cells = re.findall(
        r'data-name="(idx_[a-z_]+)">(?:(?!</tr>).)*?data-stat="scans">([\d,]+)</td>\s*'
        r'<td class="num" data-label="Size" data-stat="size">([^<]+)</td>',
        html,
        re.S,
    )
    assert len(cells) == 12
    for name, _scans, size in cells:
        assert size == do_filesizeformat(usage[name], binary=True), name
    assert 'id="measure-form"' in html


def test_measuring_indexes_shows_a_verdict_per_index_and_changes_nothing(signed_in_admin, pages):
    app = pages.client.application
    response = pages.post("/admin/database/measure")
    if _dialect(app) == "sqlite":
        assert response.status_code == 302
        assert "Index redundancy is measured on PostgreSQL" in " ".join(
            flashes(pages.text("/admin/database"))
        )
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    verdicts = dict(
        re.findall(
            r'data-name="(idx_[a-z_]+)">(?:(?!</tr>).)*?class="verdict wide" data-label="Measured" '
            r'data-verdict="([a-z ]+)"',
            html,
            re.S,
        )
    )
    unique = {"idx_users_email", "idx_users_username", "idx_portfolio_positions_user_symbol"}
    assert {name for name, verdict in verdicts.items() if verdict == "unique"} == unique
    # The test tables are nearly empty: nothing can be judged, and nothing is flagged.
    assert set(verdicts.values()) == {"unique", "small"}
    assert "every index serves a query the app runs, or could not be judged" in html
    assert len(IDX_ROW_RE.findall(pages.text("/admin/database"))) == 12


def test_measuring_indexes_needs_the_csrf_token(signed_in_admin, pages):
    response = pages.client.post("/admin/database/measure")
    assert response.status_code in (302, 400)
    assert "Measured just now" not in pages.text("/admin/database")


def test_upgrade_needs_its_confirmation_then_reaches_head(signed_in_admin, pages):
    from fynix.services.database_migration import DatabaseMigrationService

    app = pages.client.application
    head = _head_revision(app)
    with app.app_context():
        db.session.remove()
        status = DatabaseMigrationService().rollback("0001_schema")
        previous = status["current"]
        db.engine.dispose()
    try:
        html = pages.text("/admin/database")
        assert "4 pending" in html
        assert IDX_ROW_RE.findall(html) == []
        pages.post("/admin/database/upgrade")
        html = pages.text("/admin/database")
        assert any("Tick the confirmation box" in flash for flash in flashes(html))
        assert f'id="current-revision"><code>{previous}</code>' in html
        pages.post("/admin/database/upgrade", {"confirm": "y"})
        html = pages.text("/admin/database")
        assert f"Upgraded the schema from {previous} to {head}." in flashes(html)
        assert len(IDX_ROW_RE.findall(html)) == 12
    finally:
        with app.app_context():
            DatabaseMigrationService().run_migrations()
