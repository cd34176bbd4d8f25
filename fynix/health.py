"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from fynix.extensions import db

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """200 while the process serves requests."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """200 when the database answers and the schema is at head; Redis down is only degraded."""
    from fynix.caching.manage import health as cache_health
    from fynix.services.database_migration import DatabaseMigrationService

    checks: dict = {}
    ready = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready", never a 500
        db.session.rollback()
        checks["database"] = f"down: {exc.__class__.__name__}"
        ready = False
    if ready:
        migration = DatabaseMigrationService().check_migration_status()
        checks["schema"] = {
            "current": migration["current"],
            "head": migration["head"],
            "at_head": migration["at_head"],
        }
        ready = migration["at_head"]
    cache = cache_health()
    checks["cache"] = cache
    status = "ok" if ready and cache["status"] == "ok" else ("degraded" if ready else "down")
    return jsonify(status=status, checks=checks), 200 if ready else 503
