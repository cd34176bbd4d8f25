"""Who is calling: bearer-token checks that cost no SQL, and admin checks that do."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from http import HTTPStatus
from typing import Any

from flask import g, request

from fynix.auth.tokens import verify_token
from fynix.errors import Forbidden, Unauthorized
from fynix.extensions import db
from fynix.users.models import User


def bearer_user_id() -> int | None:
    """The user id of a valid bearer token on this request, or None (no SQL)."""
    if "user_id" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        claims = verify_token(token.strip()) if scheme.lower() == "bearer" and token else None
        g.user_id = claims.user_id if claims else None
    return g.user_id


def current_user_id() -> int:
    """The authenticated user's id; raises 401 when there is none."""
    user_id = bearer_user_id()
    if user_id is None:
        raise Unauthorized("Missing, invalid or expired bearer token.")
    return user_id


def current_user() -> User:
    """The authenticated user, loaded once per request."""
    if "user" not in g:
        user = db.session.get(User, current_user_id())
        if user is None:
            raise Unauthorized("The account of this token no longer exists.")
        g.user = user
    return g.user


def _document(wrapper: Callable, *statuses: int) -> Callable:
    """Let the OpenAPI document list the refusals this guard can answer.

    flask-smorest reads ``_apidoc`` when the route is registered; the statuses refer to
    its per-status error responses (Fynix's envelope). A status the view documents
    itself is left as it is.
    """
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    responses = apidoc.setdefault("response", {}).setdefault("responses", {})
    for status in statuses:
        responses.setdefault(status, [HTTPStatus(status).name])
    wrapper._apidoc = apidoc
    return wrapper


def login_required(view: Callable) -> Callable:
    """Reject requests without a valid bearer token (401) before the view runs."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_user_id()
        return view(*args, **kwargs)

    return _document(wrapper, 401)


def admin_required(view: Callable) -> Callable:
    """Reject non-admins with 403 (401 without a token); checks the database."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            raise Forbidden("Administrator rights are required.")
        return view(*args, **kwargs)

    return _document(wrapper, 401, 403)
