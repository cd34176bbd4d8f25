"""Browser assets served by the app itself (no CDN): Swagger UI for /api/docs, the favicon."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS = Path(__file__).resolve().parent / "assets"

blp = Blueprint(
    "docs_assets",
    __name__,
    static_folder=swagger_ui_path,
    static_url_path="/api/docs/static",
)


@blp.get("/favicon.ico")
def favicon() -> Response:
    """The app's icon: browsers ask for it on every page (/api/docs, the admin pages)."""
    return send_from_directory(ASSETS, "favicon.ico", max_age=86400)
