"""DatabaseMigrationService: migration state and actions through Alembic's API."""

from __future__ import annotations

import logging
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from fynix.extensions import db

log = logging.getLogger(__name__)


class DatabaseMigrationService:
    """Read and change the schema's revision, using Flask-Migrate's Alembic config."""

    def _config(self) -> AlembicConfig:
        config = current_app.extensions["migrate"].migrate.get_config()
        config.attributes["configure_logger"] = False
        return config

    def _script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self._config())

    def current_revision(self) -> str | None:
        """The revision the database is at (None for an empty database)."""
        with db.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def check_migration_status(self) -> dict[str, Any]:
        """Current revision, head, pending and applied revisions (oldest first)."""
        script = self._script()
        current = self.current_revision()
        head = script.get_current_head()
        chain = list(reversed(list(script.walk_revisions("base", "heads"))))
        ids = [rev.revision for rev in chain]
        applied_count = ids.index(current) + 1 if current in ids else 0
        describe = [
            {"revision": rev.revision, "description": rev.doc.splitlines()[0] if rev.doc else ""}
            for rev in chain
        ]
        return {
            "current": current,
            "head": head,
            "at_head": current == head,
            "applied": describe[:applied_count],
            "pending": describe[applied_count:],
        }

    def run_migrations(self) -> dict[str, Any]:
        """Upgrade to head; returns the status afterwards."""
        return self.apply_migration("head")

    def apply_migration(self, revision: str) -> dict[str, Any]:
        """Upgrade to ``revision`` (an id, or "head")."""
        before = self.current_revision()
        command.upgrade(self._config(), revision)
        log.info("schema upgraded", extra={"from_revision": before, "to_revision": revision})
        return self.check_migration_status()

    def rollback(self, target: str = "-1") -> dict[str, Any]:
        """Downgrade to ``target`` (an id, "-1" for one step, or "base")."""
        before = self.current_revision()
        command.downgrade(self._config(), target)
        log.info("schema downgraded", extra={"from_revision": before, "to_revision": target})
        return self.check_migration_status()
