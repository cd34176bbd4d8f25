"""One JSON error envelope for APIError, HTTPException, ValidationError and crashes."""

from __future__ import annotations

import logging
from http import HTTPStatus

import redis
from flask import Flask, Response, current_app, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from fynix.extensions import db

log = logging.getLogger(__name__)


class APIError(Exception):
    """An error raised by a service, rendered as ``{"message": ...}`` with ``status``."""

    status = 400

    def __init__(
        self,
        message: str,
        status: int | None = None,
        errors: dict | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.errors = errors
        self.headers = {"Retry-After": str(retry_after)} if retry_after is not None else None


class NotFound(APIError):
    """The resource does not exist, or belongs to someone else."""

    status = 404


class Conflict(APIError):
    """The write would violate a uniqueness rule."""

    status = 409


class Forbidden(APIError):
    """Authenticated but not allowed."""

    status = 403


class Unauthorized(APIError):
    """Missing, expired or invalid credentials."""

    status = 401


def _flatten(messages: dict) -> dict:
    """Merge webargs' ``{location: {field: [...]}}`` into ``{field: [...]}``."""
    merged: dict = {}
    for key, value in messages.items():
        if key in {"json", "query", "querystring", "view_args", "form", "headers"} and isinstance(
            value, dict
        ):
            merged.update(value)
        else:
            merged[key] = value
    return merged


def envelope(status: int, message: str) -> dict:
    """The fields every error body has (also written by gunicorn's own errors)."""
    return {"status": status, "error": HTTPStatus(status).phrase, "message": message}


def bearer_challenge() -> str:
    """WWW-Authenticate of a 401 (RFC 6750): which token problem, when one was given."""
    if request.headers.get("Authorization", "").strip():
        return 'Bearer error="invalid_token"'
    return "Bearer"


def describe_validation(messages: dict | list) -> str:
    """Flatten marshmallow messages into ``field: problem; field: problem`` (CLI and logs)."""
    if isinstance(messages, list):
        return " ".join(str(message) for message in messages)
    return "; ".join(
        f"{field}: {describe_validation(problems)}" for field, problems in messages.items()
    )


def error_response(
    status: int, message: str, errors: dict | None = None, headers: dict | None = None
) -> Response:
    """Build the envelope; the only place that shapes an error body."""
    body = envelope(status, message)
    if errors:
        body["errors"] = errors
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", bearer_challenge())
    return response


def handle_api_error(exc: APIError):
    """Render an APIError raised by a service."""
    return error_response(exc.status, exc.message, exc.errors, exc.headers)


def handle_validation_error(exc: ValidationError):
    """A schema rejected data outside webargs (e.g. a service-level load)."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return error_response(422, "The request has invalid fields.", _flatten(messages))


def handle_http_exception(exc: HTTPException):
    """Render werkzeug/webargs aborts; a 422 carries the field errors."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    headers = dict(data.get("headers") or {})
    if exc.code == 422:
        return error_response(422, "The request has invalid fields.", _flatten(messages or {}))
    if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        message = f"Too many requests: {exc.description}"
    elif exc.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"The request body is larger than the limit of {limit} bytes."
    else:
        message = data.get("message") or exc.description or exc.name
    return error_response(exc.code or 500, message, None, headers)


def handle_database_unavailable(exc: OperationalError | PoolTimeout):
    """The database went away, or every pooled connection stayed busy past the pool's
    timeout: 503 with Retry-After, never a hang or a traceback."""
    db.session.rollback()
    log.error("database unavailable: %s", exc.__class__.__name__)
    return error_response(
        503, "The database is unavailable; retry shortly.", None, {"Retry-After": "2"}
    )


def handle_limits_unavailable(exc: redis.RedisError):
    """The rate-limit store failed with RATELIMIT_FAIL_CLOSED: refuse, bounded and clear.

    (The cache turns its own Redis errors into a BYPASS; only the limiter's reach here.)
    """
    log.error("rate-limit storage unavailable: %s", exc.__class__.__name__)
    return error_response(
        503, "Rate limiting is unavailable; retry shortly.", None, {"Retry-After": "2"}
    )


def handle_unexpected(exc: Exception):
    """Last resort: roll back, log with the traceback, answer 500 without details."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, InternalServerError.description)


def close_session_safely(_exc: BaseException | None) -> None:
    """End the request's session even when its connection died under it.

    Registered after Flask-SQLAlchemy's own teardown, so it runs first: a rollback on a
    killed PostgreSQL connection raises outside every error handler, which gunicorn
    would turn into an HTML 500 for a request whose write had already committed.
    """
    try:
        db.session.remove()
    except DBAPIError as error:
        log.warning("database connection lost at teardown: %s", error.__class__.__name__)
        db.session.remove()  # the pool discards the dead connection


def register_error_handlers(app: Flask) -> None:
    """Attach the envelope to every error path of the app."""
    app.teardown_appcontext(close_session_safely)
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeout, handle_database_unavailable)
    app.register_error_handler(redis.RedisError, handle_limits_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
