"""Database page: migration state and upgrade, indexes, hot-query plans, row counts."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from fynix.admin import blp, plans
from fynix.admin.forms import UpgradeForm
from fynix.extensions import db
from fynix.services.database_migration import DatabaseMigrationService


@blp.get("/database")
def show_database():
    """Where the schema is, which indexes exist, and how the hot queries run."""
    return render_template(
        "admin/database.html",
        migration=DatabaseMigrationService().check_migration_status(),
        indexes=plans.list_indexes(),
        plans=plans.explain_hot_queries(),
        row_counts=plans.count_rows(),
        upgrade_form=UpgradeForm(formdata=None),
    )


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
