"""Admin blueprint: server-rendered pages for operators under /admin/."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
)

# The view modules attach their routes, guards and error pages to ``blp``.
from fynix.admin import auth, cache, dashboard, database, errors, guard, users  # noqa: E402, F401
