"""HTML error pages for the admin blueprint (the JSON API keeps its envelope)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import abort, render_template
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from fynix.admin import blp
from fynix.errors import APIError
from fynix.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    403: "You are not allowed to open this page.",
    404: "There is no admin page at this address.",
    500: "Something went wrong on our side. The error was logged; try again.",
}


def render_error(status: int, message: str) -> tuple[str, int]:
    """The one HTML error page: status, its name, and what to do."""
    title = HTTPStatus(status).phrase
    return render_template("admin/error.html", status=status, title=title, message=message), status


@blp.errorhandler(CSRFError)
def show_csrf_error(exc: CSRFError) -> tuple[str, int]:
    """A form without a valid CSRF token changes nothing."""
    return render_error(
        400, "The form was missing its security token or it expired. Reload the page and retry."
    )


@blp.errorhandler(RateLimitExceeded)
def show_rate_limited(exc: RateLimitExceeded) -> tuple[str, int]:
    """Too many login attempts from this address."""
    return render_error(429, f"Too many attempts (limit: {exc.description}). Wait and retry.")


@blp.errorhandler(APIError)
def show_service_error(exc: APIError) -> tuple[str, int]:
    """A service refused the action (not found, conflict, invalid field)."""
    return render_error(exc.status, exc.message)


@blp.errorhandler(HTTPException)
def show_http_error(exc: HTTPException) -> tuple[str, int]:
    """403, 404, 405 and the other HTTP errors of admin pages."""
    status = exc.code or 500
    custom = exc.description != type(exc).description
    message = exc.description if custom else MESSAGES.get(status, exc.description)
    return render_error(status, message or "")


@blp.errorhandler(Exception)
def show_crash(exc: Exception) -> tuple[str, int]:
    """Roll back, log with the traceback, and show a page without details."""
    db.session.rollback()
    if isinstance(exc, OperationalError):
        log.error("database unavailable on an admin page: %s", exc.__class__.__name__)
        return render_error(503, "The database is unavailable; retry shortly.")
    log.exception("unhandled error on an admin page")
    return render_error(500, MESSAGES[500])


@blp.route("/<path:unknown>", methods=["GET", "POST"])
def show_not_found(unknown: str):
    """Unknown admin addresses get the HTML 404 page, not the API's JSON."""
    abort(404)
