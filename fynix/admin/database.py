"""Database page: migration state and upgrade, indexes, hot-query plans, row counts."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from fynix.admin import blp, indexes, plans, redundancy
from fynix.admin.forms import ActionForm, UpgradeForm
from fynix.extensions import db
from fynix.services.database_migration import DatabaseMigrationService


def render_database_page(verdicts: dict[str, redundancy.Verdict] | None = None):
    """The page; ``verdicts`` when an operator has just measured index redundancy."""
    return render_template(
        "admin/database.html",
        migration=DatabaseMigrationService().check_migration_status(),
        dialect=db.engine.dialect.name,
        indexes=indexes.list_indexes(),
        statistics_since=indexes.statistics_since(),
        plans=plans.explain_hot_queries(),
        row_counts=indexes.count_rows(),
        min_rows=redundancy.MIN_ROWS,
        lock_timeout_ms=redundancy.LOCK_TIMEOUT_MS,
        verdicts=verdicts,
        upgrade_form=UpgradeForm(formdata=None),
        measure_form=ActionForm(formdata=None),
    )


@blp.get("/database")
def show_database():
    """Where the schema is, which indexes exist, and how the hot queries run."""
    return render_database_page()


@blp.post("/database/measure")
def measure_indexes():
    """PostgreSQL: which indexes the app's queries need, measured in a rolled-back transaction."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.show_database"))
    if db.engine.dialect.name != "postgresql":
        flash("Index redundancy is measured on PostgreSQL; SQLite shows its plans only.", "info")
        return redirect(url_for("admin.show_database"))
    verdicts = redundancy.measure(indexes.list_indexes(), indexes.count_rows())
    return render_database_page(verdicts)


@blp.post("/database/upgrade")
def upgrade_database():
    """Upgrade the schema to head, only when the confirmation box is ticked."""
    form = UpgradeForm()
    if not form.validate_on_submit():
        flash("Tick the confirmation box to upgrade the schema; nothing was changed.", "error")
        return redirect(url_for("admin.show_database"))
    service = DatabaseMigrationService()
    before = service.current_revision()
    # End this request's transaction so the DDL does not wait on our own locks.
    db.session.commit()
    status = service.run_migrations()
    if before == status["current"]:
        flash(f"Already at head ({status['head']}); nothing to do.", "info")
    else:
        flash(f"Upgraded the schema from {before or 'empty'} to {status['current']}.", "success")
    return redirect(url_for("admin.show_database"))
